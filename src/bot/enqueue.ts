/**
 * Links into jobs under the per-user limits: requests a minute (a link counts once, a batch once) and unfinished
 * jobs. Admins and the owner have neither. What fits is queued, all in one transaction; what does not is refused
 * with the limit it hit and when that frees up. A user told about a limit is not told again within the minute, so
 * flooding links brings one reply, not one per link. Handlers call this and the queue; they never upload.
 */

import type { Trx } from "../db/database.js";
import { nowIso } from "../db/database.js";
import { StoreError } from "../db/errors.js";
import { hasEventSince, recordEvent } from "../db/events.js";
import { enqueueJobs } from "../db/job-queue.js";
import { countUnfinishedForUser, requestsSince } from "../db/jobs.js";
import type { Job } from "../db/schema.js";
import { getUserSettings } from "../db/settings.js";
import type { JobOptions } from "../jobs/job-options.js";
import type { Quality } from "../lib/quality.js";
import { formatBytes } from "../lib/size.js";
import type { BotContext } from "./context.js";
import { isFeatureOn } from "./features.js";
import type { LinkOptions } from "./link-options.js";
import { type QuotaRefusal, quotaLeft } from "./user-limits.js";

/** The window of RATE_LIMIT_PER_MINUTE, and of "told once" for each limit. */
const RATE_WINDOW_MS = 60_000;

export interface LinkRequest {
  url: string;
  /** The name the user gave ("link | name"), when any. */
  name: string | undefined;
  /** What the user asked for on the link's line ("| audio", "| subs file", "| trim 1:00-2:30"). */
  options?: LinkOptions;
  /** The quality picked on the link's buttons; over the user's default. */
  quality?: Quality;
}

/**
 * Who asks, as queueLinks reads it: a handler's BotContext, or the same fields rebuilt from a stored question when
 * its deadline passes with nobody pressing (src/bot/link-prompts.ts).
 */
export interface Requester {
  db: BotContext["db"];
  deps: BotContext["deps"];
  role: BotContext["role"];
  now(): number;
  incoming: { from: { id: number }; chatId: number; kind: "message" | "callback"; messageId?: number };
}

export type Refusal =
  | { kind: "rate"; limit: number; resetsAt: number }
  | { kind: "queue"; limit: number; queued: number }
  | QuotaRefusal;

export interface QueueOutcome {
  jobs: Job[];
  /** Why some or all were not queued. */
  refusal: Refusal | undefined;
  /** The user was told about this limit within the window already: stay quiet if nothing was queued. */
  quiet: boolean;
  /** False when `claim` said no: someone else acted on the question first. */
  claimed: boolean;
}

export async function queueLinks(
  ctx: Requester,
  requests: readonly LinkRequest[],
  options: {
    destinationChatId: number;
    batch?: { sourceName: string | null };
    /**
     * Run first in the transaction that queues (also when nothing fits a limit): false queues nothing and makes the
     * outcome `claimed: false`. A stored question is resolved this way, once, together with its jobs.
     */
    claim?: (trx: Trx) => Promise<boolean>;
  },
): Promise<QueueOutcome> {
  const userId = ctx.incoming.from.id;
  const limits = ctx.deps.limits;
  const exempt = ctx.role === "owner" || ctx.role === "admin";
  const nowMs = ctx.now();
  const now = new Date(nowMs).toISOString();
  let refusal: Refusal | undefined;

  let take = requests.length;
  if (!exempt) {
    const recent = await requestsSince(ctx.db, userId, new Date(nowMs - RATE_WINDOW_MS).toISOString());
    const left = Math.max(0, limits.ratePerMinute - recent.count);
    take = options.batch ? (left > 0 ? requests.length : 0) : Math.min(requests.length, left);
    if (take < requests.length) {
      const oldest = recent.oldest ? Date.parse(recent.oldest) : nowMs;
      refusal = { kind: "rate", limit: limits.ratePerMinute, resetsAt: oldest + RATE_WINDOW_MS };
    }
  }

  // --- admin helper: jobs an hour and bytes a day, from bot_settings over the configuration (user-limits.ts) ---
  if (!exempt && take > 0) {
    const quota = await quotaLeft(ctx.db, limits, userId, take, nowMs);
    if (quota.refusal) {
      take = quota.take;
      refusal = quota.refusal;
    }
  }
  // --- end admin helper ---

  let jobs: Job[] = [];
  let claimed = true;
  if (take === 0 && options.claim) {
    const claim = options.claim;
    claimed = await ctx.db.transaction().execute((trx) => claim(trx));
  }
  if (take > 0) {
    const settings = await getUserSettings(ctx.db, userId);
    const jobOptions: JobOptions = {
      ...(settings.quality !== "best" ? { quality: settings.quality } : {}),
      ...(settings.uploadAs === "document" ? { asDocument: true } : {}),
      // admin helper: the owner's /features switch for site downloads, fixed when the job is queued
      ...((await isFeatureOn(ctx.db, "ytdlp")) ? {} : { directOnly: true }),
      ...(settings.thumbnailPath ? { thumbnail: settings.thumbnailPath } : {}),
      ...(settings.splitBytes ? { splitBytes: settings.splitBytes } : {}),
    };
    const messageId = ctx.incoming.kind === "message" ? (ctx.incoming.messageId ?? null) : null;
    const rows = requests.map((r) => ({
      user_id: userId,
      request_chat_id: ctx.incoming.chatId,
      request_message_id: messageId,
      destination_chat_id: options.destinationChatId,
      source_url: r.url,
      name: r.name ?? null,
      options: JSON.stringify(withLinkOptions(jobOptions, r)),
    }));
    const caps = {
      perUserQueued: exempt ? Number.POSITIVE_INFINITY : limits.queuedJobsPerUser,
      totalQueued: Number.POSITIVE_INFINITY,
    };
    const enqueueOptions = {
      now,
      ...(options.batch
        ? { batch: { chatId: ctx.incoming.chatId, sourceName: options.batch.sourceName } }
        : {}),
    };
    jobs = await ctx.db.transaction().execute(async (trx) => {
      if (options.claim && !(await options.claim(trx))) {
        claimed = false;
        return [];
      }
      try {
        return await enqueueJobs(trx, rows.slice(0, take), caps, enqueueOptions);
      } catch (error) {
        if (!(error instanceof StoreError) || error.code !== "USER_QUEUE_FULL") throw error;
        // Nothing was inserted: the cap is counted before any row is written. Take what fits, in order.
        const fits = error.fits ?? 0;
        const queued = fits > 0 ? await enqueueJobs(trx, rows.slice(0, fits), caps, enqueueOptions) : [];
        refusal = {
          kind: "queue",
          limit: limits.queuedJobsPerUser,
          queued: await countUnfinishedForUser(trx, userId),
        };
        return queued;
      }
    });
  }

  if (jobs.length > 0) {
    ctx.deps.wake();
    ctx.deps.status?.track(ctx.incoming.chatId);
    await recordEvent(ctx.db, {
      category: "analytics",
      action: options.batch ? "batch.queued" : "links.queued",
      actorId: userId,
      subject: jobs[0]!.batch_id ?? jobs[0]!.id,
      data: { jobs: jobs.length, asked: requests.length },
    });
  }

  let quiet = false;
  if (refusal) {
    const action = `limit.${refusal.kind}`;
    const since = new Date(nowMs - RATE_WINDOW_MS).toISOString();
    quiet = await hasEventSince(ctx.db, { action, actorId: userId, since });
    if (!quiet) {
      await recordEvent(ctx.db, {
        category: "analytics",
        action,
        actorId: userId,
        data: { ...refusal, asked: requests.length, queued: jobs.length, at: nowIso() },
      });
    }
  }
  return { jobs, refusal, quiet, claimed };
}

/** The job's options: the user's settings, then what the link's line and buttons asked for. */
function withLinkOptions(base: JobOptions, request: LinkRequest): JobOptions {
  const out: JobOptions = { ...base };
  if (request.quality) {
    if (request.quality === "best") delete out.quality;
    else out.quality = request.quality;
  }
  const asked = request.options;
  if (asked?.audio) out.quality = "audio";
  if (asked?.subtitles) out.subtitles = asked.subtitles;
  if (asked?.trim) out.trim = asked.trim.end === undefined ? { start: asked.trim.start } : { ...asked.trim };
  return out;
}

/** The sentence for a limit that was hit. */
export function refusalText(ctx: Pick<BotContext, "t" | "now">, refusal: Refusal): string {
  if (refusal.kind === "rate") {
    const seconds = Math.max(1, Math.ceil((refusal.resetsAt - ctx.now()) / 1000));
    return ctx.t("limit.rate", {
      limit: refusal.limit,
      time: new Date(refusal.resetsAt).toISOString().slice(11, 19),
      seconds,
    });
  }
  if (refusal.kind === "jobsPerHour" || refusal.kind === "bytesPerDay") {
    const seconds = Math.max(1, Math.ceil((refusal.resetsAt - ctx.now()) / 1000));
    const time = new Date(refusal.resetsAt).toISOString().slice(11, 16);
    if (refusal.kind === "jobsPerHour") {
      return ctx.t("limit.jobsPerHour", { limit: refusal.limit, time, minutes: Math.ceil(seconds / 60) });
    }
    return ctx.t("limit.bytesPerDay", {
      limit: formatBytes(refusal.limit),
      used: formatBytes(refusal.used),
      time,
    });
  }
  return ctx.t("limit.queue", { queued: refusal.queued, limit: refusal.limit });
}
