import { removeChat } from "../../db/chats.js";
import { chatLabel, recordChatEvent, resolveChatRef } from "../chat-admin.js";
import { type Command, OWNER } from "../command.js";
import { storedByRef } from "./removechannel.js";

export const removelog: Command = {
  name: "removelog",
  aliases: ["remove_log_channel"],
  description: "cmd.removelog",
  roles: OWNER,
  async run(ctx, args) {
    const ref = args.split(/\s+/)[0] ?? "";
    if (!ref) {
      await ctx.reply(ctx.t("removelog.usage"));
      return;
    }
    const configured = ctx.deps.host?.logChannels ?? [];
    if (configured.includes(ref)) {
      await ctx.reply(ctx.t("removelog.configured", { chat: ref }));
      return;
    }
    const chat = await storedByRef(ctx.db, ref, "log");
    if (!chat && configured.length > 0 && !/^-?\d+$/.test(ref)) {
      // "@name" of a configured channel: only Telegram knows which id it is.
      const resolved = await resolveChatRef(ctx, ref);
      if (!resolved) return;
      if (configured.includes(String(resolved.id))) {
        await ctx.reply(ctx.t("removelog.configured", { chat: ref }));
        return;
      }
    }
    if (!chat) {
      await ctx.reply(ctx.t("removelog.unknown", { chat: ref }));
      return;
    }
    await removeChat(ctx.db, chat.id);
    await recordChatEvent(ctx, "log.removed", chat.id, { title: chat.title });
    await ctx.reply(ctx.t("removelog.done", { chat: chatLabel(chat) }));
  },
};
