/**
 * When the last job of a batch ends (done, failed or cancelled), its summary goes to the batch's chat and to every
 * log channel, exactly once across crashes:
 *   finish the batch row → save the rendered text once → per chat: a row with its random_id, stored before the send
 *   → send (a RANDOM_ID_DUPLICATE on a re-send counts as sent) → record → mark the batch's summary done.
 * Two paths lead here, so nothing depends on one surviving a crash: the runner's job-ended events, and a sweep at
 * start (and on a timer) for every batch whose summary is owed — ended without one, or still marked running with
 * no job left. A log channel that refuses is skipped and reported; so is a chat that refuses for good.
 */
import {
  type BatchJobOutcome,
  listBatchOutcomes,
  listOwedSummaries,
  markSummaryDone,
  markSummaryRefused,
  markSummarySent,
  planSummary,
  saveSummaryText,
  skippedLines,
} from "../db/batch-summaries.js";
import type { Db } from "../db/database.js";
import { finishBatchIfDone, getBatch } from "../db/jobs.js";
import type { Batch, Job } from "../db/schema.js";
import { getUser } from "../db/users.js";
import type { Logger } from "../logger.js";
import type { TelegramGateway } from "../telegram/gateway.js";
import {
  type BatchFailure,
  type BatchSummary,
  type BatchSummaryTexts,
  renderBatchSummary,
} from "./batch-summary.js";
import { LOG_REFUSED } from "./deliver.js";
import { escapeHtml, MESSAGE_LIMIT, plainText, truncateText, visibleLength } from "./telegram-html.js";

/** Owed summaries are looked for this often besides job ends (a cancel made elsewhere, a send that failed). */
const SWEEP_EVERY_MS = 60_000;
/** A chat that refuses these will not take the summary later either: it is skipped, not retried forever. */
const CHAT_REFUSED = /^(USER_IS_BLOCKED|INPUT_USER_DEACTIVATED|USER_DEACTIVATED|PEER_ID_INVALID)$/;

export interface BatchFinisherOptions {
  db: Db;
  gateway: Pick<TelegramGateway, "sendTextOnce">;
  /** Chats that get a copy of every summary. */
  logChats: () => Promise<number[]>;
  log: Logger;
  /** The summary's words for the batch's user (their language); log channels get the same text. */
  textsFor: (userId: number) => BatchSummaryTexts | Promise<BatchSummaryTexts>;
  /** A log channel refused the summary (reported to the owner by the caller). */
  onLogRefused?: (chatId: number, code: string) => void;
  /** Crash-recovery tests: "summary.finished", "summary.sent", "summary.recorded". */
  crashPoint?: (name: string) => void;
  /** @default SWEEP_EVERY_MS */
  sweepMs?: number;
}

export interface BatchFinisher {
  /** A job ended: when it was its batch's last, the summary goes out (errors are logged; the sweep retries). */
  jobEnded(job: Pick<Job, "batch_id">): Promise<void>;
  /** Sends every summary that is owed. */
  sweep(): Promise<void>;
  /** Sweeps now, then on a timer; resolves when the first sweep is over (a caller need not wait for it). */
  start(): Promise<void>;
  /** Stops the timer and waits for the sends in flight; what is left is owed to the next start. */
  stop(): Promise<void>;
}

export function createBatchFinisher(options: BatchFinisherOptions): BatchFinisher {
  const { db, gateway, log } = options;
  /** One summary per batch at a time in this process; a second caller waits for the first. */
  const inFlight = new Map<number, Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> = Promise.resolve();
  let stopped = false;

  function finish(batchId: number): Promise<void> {
    const running = inFlight.get(batchId);
    if (running) return running;
    const work = deliverSummary(batchId).finally(() => inFlight.delete(batchId));
    inFlight.set(batchId, work);
    return work;
  }

  async function deliverSummary(batchId: number): Promise<void> {
    let batch = await getBatch(db, batchId);
    if (!batch || batch.summary_sent_at !== null) return;
    if (batch.status === "running") {
      // Not finished while one of its jobs is pending; another caller may have finished it meanwhile.
      batch = (await finishBatchIfDone(db, batchId)) ?? (await getBatch(db, batchId));
      if (!batch || batch.status === "running") return;
      options.crashPoint?.("summary.finished");
    }
    const text = batch.summary ?? (await saveSummaryText(db, batchId, await renderSummary(batch)));
    const logChats = (await options.logChats()).filter((id) => id !== batch.chat_id);
    const targets = [
      { chatId: batch.chat_id, target: "chat" as const },
      ...logChats.map((chatId) => ({ chatId, target: "log" as const })),
    ];
    const header = logChats.length > 0 ? await logHeader(batch) : "";
    for (const { chatId, target } of targets) {
      const row = await planSummary(db, { batchId, chatId, target });
      if (row.sent_at !== null) continue;
      try {
        const sent = await gateway.sendTextOnce(chatId, target === "log" ? header + text : text, {
          randomId: BigInt(row.random_id),
          html: true,
        });
        options.crashPoint?.("summary.sent");
        // A duplicate was posted by an earlier attempt whose record was lost: its id is unknown (0).
        await markSummarySent(db, row.id, sent.messageId ?? 0);
      } catch (error) {
        const code = (error as { code?: string }).code ?? "";
        if ((target === "log" && LOG_REFUSED.test(code)) || CHAT_REFUSED.test(code)) {
          await markSummaryRefused(db, row.id, code);
          if (target === "log") options.onLogRefused?.(chatId, code);
          log.warn({ batch: batchId, chatId, code }, "a chat refused the batch summary; skipped");
          continue;
        }
        throw error;
      }
    }
    await markSummaryDone(db, batchId);
    options.crashPoint?.("summary.recorded");
  }

  async function renderSummary(batch: Batch): Promise<string> {
    const jobs = await listBatchOutcomes(db, batch.id);
    const texts = await options.textsFor(batch.user_id);
    return renderBatchSummary(summaryOf(jobs, skippedLines(batch), texts), texts, {
      // Room for the log channels' header line, so every chat gets the same text.
      limit: MESSAGE_LIMIT - LOG_HEADER_ROOM,
    });
  }

  async function logHeader(batch: Batch): Promise<string> {
    const user = await getUser(db, batch.user_id);
    const name = [user?.first_name, user?.last_name].filter(Boolean).join(" ") || "user";
    const source = batch.source_name ? ` · ${truncateText(plainText(batch.source_name), 60)}` : "";
    const line = `${truncateText(plainText(name), 60)} (${batch.user_id})${source} #u${batch.user_id}`;
    const header = `${escapeHtml(line)}\n`;
    return visibleLength(header) <= LOG_HEADER_ROOM ? header : "";
  }

  async function sweep(): Promise<void> {
    for (const batchId of await listOwedSummaries(db)) {
      if (stopped) return;
      await finish(batchId).catch((error: unknown) =>
        log.warn({ err: error, batch: batchId }, "batch summary not sent; tried again later"),
      );
    }
  }

  return {
    async jobEnded(job) {
      if (job.batch_id === null || stopped) return;
      await finish(job.batch_id).catch((error: unknown) =>
        log.warn({ err: error, batch: job.batch_id }, "batch summary not sent; tried again later"),
      );
    },
    sweep,
    async start() {
      const run = () => {
        sweeping = sweeping
          .then(sweep)
          .catch((error: unknown) => log.warn({ err: error }, "looking for owed summaries failed"));
      };
      run();
      timer = setInterval(run, options.sweepMs ?? SWEEP_EVERY_MS);
      timer.unref();
      await sweeping;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.allSettled([sweeping, ...inFlight.values()]);
    },
  };
}

/** The log channels' header: user name (60), id, source name (60) and a tag fit in this. */
const LOG_HEADER_ROOM = 200;

/** The counts, sizes, time and failures of a batch, from its jobs and the lines that never became jobs. */
export function summaryOf(
  jobs: readonly BatchJobOutcome[],
  skipped: readonly { line: number; reason: string }[],
  texts: Pick<BatchSummaryTexts, "reason" | "skipped">,
): BatchSummary {
  const done = jobs.filter((j) => j.status === "done");
  const failed = jobs.filter((j) => j.status === "failed");
  const failures: BatchFailure[] = [
    ...failed.map((j) => ({
      line: j.batch_line ?? j.position ?? 0,
      name: j.name,
      reason: texts.reason(j),
    })),
    ...skipped.map((s) => ({ line: s.line, name: null, reason: texts.skipped(s.reason) })),
  ];
  const starts = jobs.map((j) => j.started_at).filter((t): t is string => t !== null);
  const ends = jobs.map((j) => j.finished_at).filter((t): t is string => t !== null);
  const first = starts.length > 0 ? Math.min(...starts.map(Date.parse)) : Number.NaN;
  const last = ends.length > 0 ? Math.max(...ends.map(Date.parse)) : Number.NaN;
  return {
    done: done.length,
    failed: failed.length,
    skipped: skipped.length,
    cancelled: jobs.filter((j) => j.status === "cancelled").length,
    bytes: done.reduce((sum, j) => sum + (j.bytes_total ?? 0), 0),
    seconds: Number.isFinite(first) && last > first ? Math.round((last - first) / 1000) : 0,
    failures,
  };
}
