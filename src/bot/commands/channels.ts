import { listChats } from "../../db/chats.js";
import { chatLabel } from "../chat-admin.js";
import { ADMINS, type Command } from "../command.js";
import { fitLines } from "../render.js";

export const channels: Command = {
  name: "channels",
  description: "cmd.channels",
  roles: ADMINS,
  async run(ctx) {
    const chats = await listChats(ctx.db, "destination");
    if (chats.length === 0) {
      await ctx.reply(ctx.t("channels.empty"));
      return;
    }
    const lines = chats.map((c) => ctx.t("channels.line", { chat: chatLabel(c) }));
    await ctx.reply(
      fitLines(ctx.t("channels.title", { count: chats.length }), lines, (count) =>
        ctx.t("queue.more", { count }),
      ),
    );
  },
};
