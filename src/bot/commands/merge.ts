/**
 * /merge in reply to a batch (the .txt list or /batch that queued it, its status or its summary): its delivered
 * videos, in list order, become one file, made and sent by one job (src/jobs/merge.ts) under the usual limits.
 * The batch's owner may merge it, and admins and the owner any batch; the merged file goes where the asker's
 * files go. Files of the batch that are not videos are left out, and the reply says how many.
 */
import { findBatchByMessage } from "../../db/batch-files.js";
import { MAX_MERGE_PARTS, MAX_MERGE_VIDEOS, mergeSource, planMerge } from "../../jobs/merge.js";
import { BOT_FILE_LIMIT } from "../../jobs/steps.js";
import { formatBytes } from "../../lib/size.js";
import { type Command, EVERYONE } from "../command.js";
import { defaultDestination } from "../destination.js";
import { queueLinks, refusalText } from "../enqueue.js";

export const merge: Command = {
  name: "merge",
  description: "cmd.merge",
  roles: EVERYONE,
  async run(ctx) {
    const incoming = ctx.incoming;
    if (incoming.kind !== "message" || incoming.replyToMessageId === undefined) {
      await ctx.reply(ctx.t("merge.needReply"));
      return;
    }
    const batch = await findBatchByMessage(ctx.db, incoming.chatId, incoming.replyToMessageId);
    if (!batch) {
      await ctx.reply(ctx.t("merge.notBatch"));
      return;
    }
    const admin = ctx.role === "owner" || ctx.role === "admin";
    if (batch.user_id !== incoming.from.id && !admin) {
      await ctx.reply(ctx.t("merge.notYours", { batch: batch.id }));
      return;
    }
    if (batch.status === "running") {
      await ctx.reply(ctx.t("merge.running", { batch: batch.id }));
      return;
    }
    const plan = await planMerge(ctx.db, batch.id);
    if (plan.videos.length < 2) {
      await ctx.reply(ctx.t("merge.tooFew", { batch: batch.id, count: plan.videos.length }));
      return;
    }
    if (plan.videos.length > MAX_MERGE_VIDEOS) {
      await ctx.reply(
        ctx.t("merge.tooMany", { batch: batch.id, count: plan.videos.length, max: MAX_MERGE_VIDEOS }),
      );
      return;
    }
    const maxBytes = (ctx.deps.fileLimit ?? BOT_FILE_LIMIT) * MAX_MERGE_PARTS;
    if (plan.bytes > maxBytes) {
      await ctx.reply(
        ctx.t("merge.tooBig", {
          batch: batch.id,
          size: formatBytes(plan.bytes),
          max: formatBytes(maxBytes),
          parts: MAX_MERGE_PARTS,
        }),
      );
      return;
    }
    const list = (batch.source_name ?? "").replace(/\.txt$/i, "").trim();
    const outcome = await queueLinks(
      ctx,
      [{ url: mergeSource(batch.id), name: `${list || `batch-${batch.id}`} (merged)` }],
      { destinationChatId: await defaultDestination(ctx) },
    );
    const job = outcome.jobs[0];
    if (!job) {
      if (outcome.refusal && !outcome.quiet) await ctx.reply(refusalText(ctx, outcome.refusal));
      return;
    }
    const lines = [ctx.t("merge.queued", { job: job.id, count: plan.videos.length, batch: batch.id })];
    if (plan.skipped.length > 0) lines.push(ctx.t("merge.skipped", { count: plan.skipped.length }));
    await ctx.reply(lines.join("\n"));
  },
};
