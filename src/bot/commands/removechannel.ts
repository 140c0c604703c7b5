import { getChat, listChats, removeChat } from "../../db/chats.js";
import type { Chat } from "../../db/schema.js";
import { usernameOf } from "../../telegram/chat-ref.js";
import { chatLabel, recordChatEvent } from "../chat-admin.js";
import { ADMINS, type Command } from "../command.js";

export const removechannel: Command = {
  name: "removechannel",
  description: "cmd.removechannel",
  roles: ADMINS,
  async run(ctx, args) {
    const ref = args.split(/\s+/)[0] ?? "";
    if (!ref) {
      await ctx.reply(ctx.t("removechannel.usage"));
      return;
    }
    const chat = await storedByRef(ctx.db, ref, "destination");
    if (!chat) {
      await ctx.reply(ctx.t("removechannel.unknown", { chat: ref }));
      return;
    }
    await removeChat(ctx.db, chat.id);
    await recordChatEvent(ctx, "channel.removed", chat.id, { title: chat.title });
    await ctx.reply(ctx.t("removechannel.done", { chat: chatLabel(chat) }));
  },
};

/**
 * A stored chat of `purpose` by id, @username or t.me link, without asking Telegram: removing must work even when
 * the bot was thrown out of the chat.
 */
export async function storedByRef(
  db: Parameters<typeof listChats>[0],
  ref: string,
  purpose: Chat["purpose"],
): Promise<Chat | undefined> {
  if (/^-?\d{1,20}$/.test(ref)) {
    const chat = await getChat(db, Number(ref));
    return chat?.purpose === purpose ? chat : undefined;
  }
  const username = usernameOf(ref)?.toLowerCase();
  if (!username) return undefined;
  return (await listChats(db, purpose)).find((c) => c.username?.toLowerCase() === username);
}
