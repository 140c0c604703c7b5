import { addChat, getChat } from "../../db/chats.js";
import { chatLabel, postableChat, recordChatEvent } from "../chat-admin.js";
import { ADMINS, type Command } from "../command.js";

/** A destination users may pick: only a chat the bot can post in. */
export const addchannel: Command = {
  name: "addchannel",
  description: "cmd.addchannel",
  roles: ADMINS,
  async run(ctx, args) {
    const ref = args.split(/\s+/)[0] ?? "";
    if (!ref) {
      await ctx.reply(ctx.t("addchannel.usage"));
      return;
    }
    const chat = await postableChat(ctx, ref);
    if (!chat) return;
    const existing = await getChat(ctx.db, chat.id);
    if (existing?.purpose === "log") {
      await ctx.reply(ctx.t("addchannel.isLog", { chat: chatLabel(existing) }));
      return;
    }
    if (existing) {
      await ctx.reply(ctx.t("addchannel.already", { chat: chatLabel(existing) }));
      return;
    }
    const row = await addChat(ctx.db, {
      id: chat.id,
      kind: chat.kind === "channel" ? "channel" : "group",
      purpose: "destination",
      title: chat.title,
      username: chat.username ?? null,
      owner_id: null,
    });
    await recordChatEvent(ctx, "channel.added", chat.id, { title: chat.title });
    await ctx.reply(ctx.t("addchannel.done", { chat: chatLabel(row) }));
  },
};
