/**
 * /forgetme: after a confirm button (bound to the user, valid for a few minutes), cancels the user's unfinished
 * jobs and deletes their history, settings and thumbnail (src/db/forget.ts says what goes). Jobs that were running
 * stop within moments; what they leave is deleted once they have, by a bounded follow-up. One audit event says a
 * user was forgotten, without saying who.
 */
import { recordEvent } from "../../db/events.js";
import { type Forgotten, forgetPeer, forgetUser } from "../../db/forget.js";
import { requestCancel } from "../../db/job-queue.js";
import { finishBatchIfDone } from "../../db/jobs.js";
import { getUserSettings } from "../../db/settings.js";
import type { IncomingCallback } from "../../telegram/gateway.js";
import type { ForgetData } from "../callback-data.js";
import { encodeForget } from "../callback-data.js";
import { type Command, EVERYONE } from "../command.js";
import type { BotContext, BotDeps } from "../context.js";
import { removeCustomThumbnail, thumbnailPathFor } from "../custom-thumbnail.js";

/** How long the confirm button works. */
export const CONFIRM_MS = 10 * 60_000;
/** Running jobs stop in seconds; the follow-up looks this often, this many times, then gives up (logged). */
const FOLLOW_UP_MS = 2000;
const FOLLOW_UP_TRIES = 150;

export const forgetme: Command = {
  name: "forgetme",
  description: "cmd.forgetme",
  roles: EVERYONE,
  async run(ctx) {
    const userId = ctx.incoming.from.id;
    const issued = ctx.now();
    await ctx.reply(ctx.t("forget.ask", { minutes: CONFIRM_MS / 60_000 }), {
      buttons: [
        [
          { text: ctx.t("forget.yes"), data: encodeForget("yes", issued, userId) },
          { text: ctx.t("forget.no"), data: encodeForget("no", issued, userId) },
        ],
      ],
    });
  },
};

export async function handleForgetPress(
  ctx: BotContext,
  callback: IncomingCallback,
  data: ForgetData,
): Promise<void> {
  const done = async (text: string) => {
    await ctx.gateway.editText(callback.chatId, callback.messageId, text, { html: true, buttons: [] });
    await ctx.answer();
  };
  if (data.action === "no") return done(ctx.t("forget.kept"));
  const age = ctx.now() - data.arg;
  if (age > CONFIRM_MS || age < -CONFIRM_MS) return done(ctx.t("forget.expired"));
  const userId = data.userId;
  const cancel = await requestCancel(ctx.db, { userId });
  const batches = new Set(cancel.cancelled.flatMap((j) => (j.batch_id === null ? [] : [j.batch_id])));
  for (const batchId of batches) await finishBatchIfDone(ctx.db, batchId);
  const thumbnail = (await getUserSettings(ctx.db, userId)).thumbnailPath;
  if (thumbnail) await removeCustomThumbnail(thumbnail);
  if (ctx.deps.dataDir) await removeCustomThumbnail(thumbnailPathFor(ctx.deps.dataDir, userId));
  const outcome = await forget(ctx.deps, userId);
  ctx.log.info({ jobs: outcome.jobs, unfinished: outcome.unfinished }, "a user was forgotten");
  const lines = [ctx.t("forget.done", { jobs: outcome.jobs, batches: outcome.batches })];
  if (outcome.unfinished > 0) {
    lines.push(ctx.t("forget.stopping", { count: outcome.unfinished }));
    followUp(ctx.deps, userId, FOLLOW_UP_TRIES);
  }
  await done(lines.join("\n"));
  await forgetPeer(ctx.db, userId);
}

async function forget(deps: BotDeps, userId: number): Promise<Forgotten> {
  const outcome = await deps.db.transaction().execute((trx) => forgetUser(trx, userId));
  // After forgetUser, which removes the events naming the user: this one names nobody.
  await recordEvent(deps.db, {
    category: "admin",
    action: "user.forgotten",
    data: { jobs: outcome.jobs, batches: outcome.batches, deliveries: outcome.deliveries },
  });
  return outcome;
}

/** Deletes what jobs that were still stopping left, once they have stopped; bounded, never blocks an update. */
function followUp(deps: BotDeps, userId: number, triesLeft: number): void {
  const timer = setTimeout(() => {
    deps.db
      .transaction()
      .execute((trx) => forgetUser(trx, userId))
      .then((outcome) => {
        if (outcome.unfinished === 0) deps.log.info("the forgotten user's last jobs were deleted");
        else if (triesLeft > 1) followUp(deps, userId, triesLeft - 1);
        else
          deps.log.warn(
            { unfinished: outcome.unfinished },
            "a forgotten user's jobs did not stop; rows kept",
          );
      })
      .catch((error: unknown) => deps.log.error({ err: error }, "forgetting a user's last jobs failed"));
  }, FOLLOW_UP_MS);
  timer.unref();
}
