import { handleBatch, isTextList } from "../batch.js";
import { type Command, EVERYONE } from "../command.js";

const RANGE = /^\d{1,7}(?:-\d{0,7})?$/;

export const batch: Command = {
  name: "batch",
  description: "cmd.batch",
  roles: EVERYONE,
  async run(ctx, args) {
    const incoming = ctx.incoming;
    if (incoming.kind !== "message" || incoming.replyToMessageId === undefined) {
      await ctx.reply(ctx.t("batch.needReply"));
      return;
    }
    const words = args.split(/\s+/).filter(Boolean).slice(0, 2);
    const range = words.find((w) => RANGE.test(w));
    const destination = words.find((w) => w !== range);
    const file = await ctx.gateway.messageFile(incoming.chatId, incoming.replyToMessageId);
    if (!file || !isTextList(file)) {
      await ctx.reply(ctx.t("batch.noFile"));
      return;
    }
    await handleBatch(ctx, file, {
      ...(range !== undefined ? { range } : {}),
      ...(destination !== undefined ? { destination } : {}),
    });
  },
};
