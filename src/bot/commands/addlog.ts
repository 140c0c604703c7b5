import { addChat, getChat } from "../../db/chats.js";
import { chatLabel, postableChat, recordChatEvent } from "../chat-admin.js";
import { type Command, OWNER } from "../command.js";

/** A log channel gets a copy of every delivery: only the owner adds one, and only where the bot can post. */
export const addlog: Command = {
  name: "addlog",
  aliases: ["add_log_channel"],
  description: "cmd.addlog",
  roles: OWNER,
  async run(ctx, args) {
    const ref = args.split(/\s+/)[0] ?? "";
    if (!ref) {
      await ctx.reply(ctx.t("addlog.usage"));
      return;
    }
    const chat = await postableChat(ctx, ref);
    if (!chat) return;
    const configured = ctx.deps.host?.logChannels ?? [];
    if (configured.includes(String(chat.id))) {
      await ctx.reply(ctx.t("addlog.configured", { chat: chat.title }));
      return;
    }
    const existing = await getChat(ctx.db, chat.id);
    if (existing?.purpose === "destination") {
      await ctx.reply(ctx.t("addlog.isDestination", { chat: chatLabel(existing) }));
      return;
    }
    if (existing) {
      await ctx.reply(ctx.t("addlog.already", { chat: chatLabel(existing) }));
      return;
    }
    const row = await addChat(ctx.db, {
      id: chat.id,
      kind: chat.kind === "channel" ? "channel" : "group",
      purpose: "log",
      title: chat.title,
      username: chat.username ?? null,
      owner_id: null,
    });
    await recordChatEvent(ctx, "log.added", chat.id, { title: chat.title });
    await ctx.reply(ctx.t("addlog.done", { chat: chatLabel(row) }));
  },
};
