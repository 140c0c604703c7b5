import { listChats } from "../../db/chats.js";
import { withDeadline } from "../../lib/abort.js";
import { TelegramError } from "../../telegram/telegram-error.js";
import { CHAT_CHECK_TIMEOUT_MS, chatLabel } from "../chat-admin.js";
import { ADMINS, type Command } from "../command.js";
import { fitLines } from "../render.js";

/** Where every delivery is copied: LOG_CHANNELS from the configuration and the chats added here, each marked. */
export const logchannels: Command = {
  name: "logchannels",
  aliases: ["log_channels"],
  description: "cmd.logchannels",
  roles: ADMINS,
  async run(ctx) {
    const configured = ctx.deps.host?.logChannels ?? [];
    const added = await listChats(ctx.db, "log");
    if (configured.length === 0 && added.length === 0) {
      await ctx.reply(ctx.t("logchannels.empty"));
      return;
    }
    const lines: string[] = [];
    for (const ref of configured) {
      const title = await withDeadline(
        ctx.gateway.resolveChat(ref),
        CHAT_CHECK_TIMEOUT_MS,
        undefined,
        () => new TelegramError("TIMEOUT", "resolveChat timed out"),
      ).then(
        (c) => chatLabel({ id: c.id, title: c.title, username: c.username ?? null }),
        (error: unknown) => {
          if (!(error instanceof TelegramError)) throw error;
          return undefined;
        },
      );
      lines.push(
        title === undefined
          ? ctx.t("logchannels.configuredUnresolved", { chat: ref })
          : ctx.t("logchannels.configured", { chat: title }),
      );
    }
    for (const chat of added) lines.push(ctx.t("logchannels.added", { chat: chatLabel(chat) }));
    await ctx.reply(
      fitLines(ctx.t("logchannels.title", { count: lines.length }), lines, (count) =>
        ctx.t("queue.more", { count }),
      ),
    );
  },
};
