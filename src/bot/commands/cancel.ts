import { recordEvent } from "../../db/events.js";
import { requestCancel } from "../../db/job-queue.js";
import { finishBatchIfDone, getJob } from "../../db/jobs.js";
import { FINISHED_STATUSES, type Job } from "../../db/schema.js";
import { type Command, EVERYONE } from "../command.js";
import type { BotContext } from "../context.js";

export const cancel: Command = {
  name: "cancel",
  description: "cmd.cancel",
  roles: EVERYONE,
  async run(ctx, args) {
    const userId = ctx.incoming.from.id;
    const arg = args.replace(/^#/, "").toLowerCase();
    if (arg === "all") {
      await report(ctx, await requestCancel(ctx.db, { userId }));
      return;
    }
    if (!/^\d{1,15}$/.test(arg)) {
      await ctx.reply(ctx.t("cancel.usage"));
      return;
    }
    const id = Number(arg);
    const job = await getJob(ctx.db, id);
    const admin = ctx.role === "owner" || ctx.role === "admin";
    // Someone else's job is "not found" to a user: ids say nothing about other people's work.
    if (!job || FINISHED_STATUSES.includes(job.status) || (job.user_id !== userId && !admin)) {
      await ctx.reply(ctx.t("cancel.notFound", { id }));
      return;
    }
    // The cancel and, for someone else's job, its audit event land together.
    const outcome = await ctx.db.transaction().execute(async (trx) => {
      const result = await requestCancel(trx, id);
      if (job.user_id !== userId) {
        await recordEvent(trx, {
          category: "admin",
          action: "job.cancelled",
          actorId: userId,
          subject: id,
          data: { owner: job.user_id },
        });
      }
      return result;
    });
    await report(ctx, outcome);
  },
};

async function report(ctx: BotContext, outcome: { cancelled: Job[]; flagged: Job[] }): Promise<void> {
  const batches = new Set(outcome.cancelled.flatMap((j) => (j.batch_id === null ? [] : [j.batch_id])));
  for (const batchId of batches) await finishBatchIfDone(ctx.db, batchId);
  const ids = (jobs: Job[]) => jobs.map((j) => `#${j.id}`).join(", ");
  const lines: string[] = [];
  if (outcome.cancelled.length > 0) lines.push(ctx.t("cancel.done", { ids: ids(outcome.cancelled) }));
  if (outcome.flagged.length > 0) lines.push(ctx.t("cancel.stopping", { ids: ids(outcome.flagged) }));
  await ctx.reply(lines.length > 0 ? lines.join("\n") : ctx.t("cancel.none"));
}
