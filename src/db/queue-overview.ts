import { claimOrder, type UserTurn } from "./claim-order.js";
import { type Db, nowIso } from "./database.js";
import { FINISHED_STATUSES, type Job, type JobStatus } from "./schema.js";

/** How many recently done jobs the speed for an ETA is averaged over. */
const RECENT_DONE_JOBS = 20;

export interface QueueEntry {
  id: number;
  userId: number;
  batchId: number | null;
  requestChatId: number;
  statusMessageId: number | null;
  status: JobStatus;
  /** A worker holds it now. */
  running: boolean;
  /** 1-based place among the waiting jobs in the order claims would take them; null while running or leaving. */
  position: number | null;
  /** Not claimable before this (a scheduled retry) when later than now. */
  runAt: string;
  cancelRequested: boolean;
  /** Paused by its user: no position until resumed. */
  paused: boolean;
  attempts: number;
  bytesDone: number;
  bytesTotal: number | null;
}

export interface RecentSpeed {
  /** How many done jobs the figures come from (0: no figures yet). */
  jobs: number;
  /** Total bytes over total time, per direction; null without data. */
  downloadBytesPerSecond: number | null;
  uploadBytesPerSecond: number | null;
  /** Mean time from a job's first claim to done. */
  averageJobMs: number | null;
}

export interface QueueOverview {
  /** The selected unfinished jobs: running ones first, then by position. */
  jobs: QueueEntry[];
  /** The whole queue, whatever the filter. */
  running: number;
  waiting: number;
  recent: RecentSpeed;
}

/**
 * The queue as a user sees it: each unfinished job (those requested in chat `chatId`, or of user `userId`, or all)
 * with its place in the order claimJob would take the waiting ones, and the speed of recent jobs for an ETA (e.g.
 * position × averageJobMs ÷ the number of workers, or bytes left ÷ a speed).
 *
 * The positions replay claimJob's ORDER BY over the whole queue (src/db/claim-order.ts), assuming nothing finishes
 * and nothing new arrives meanwhile. Approximations: one order for all pools (a pool that claims only some
 * statuses serves its own jobs in the same relative order); jobs whose retry is due later come after every job due
 * now, by due time; a job with a cancel pending or out of attempts gets no position (it is about to finish), nor
 * does a paused one (it is not claimed until resumed).
 */
export async function queueOverview(
  db: Db,
  options: { chatId?: number; userId?: number; now?: string } = {},
): Promise<QueueOverview> {
  const now = options.now ?? nowIso();
  const jobs = await db
    .selectFrom("jobs")
    .selectAll()
    .where("status", "not in", FINISHED_STATUSES)
    .orderBy("id")
    .execute();
  const running = (j: Job) => j.locked_by !== null && (j.locked_until ?? "") >= now;
  const waiting = jobs.filter(
    (j) => !running(j) && j.cancel_requested === 0 && j.paused === 0 && j.attempts < j.max_attempts,
  );

  const userIds = [...new Set(waiting.map((j) => j.user_id))];
  const lastClaims =
    userIds.length === 0
      ? []
      : await db
          .selectFrom("jobs")
          .select(["user_id", (eb) => eb.fn.max("claimed_at").as("last")])
          .where("user_id", "in", userIds)
          .groupBy("user_id")
          .execute();
  const turns = new Map<number, UserTurn>();
  for (const userId of userIds) {
    turns.set(userId, {
      leased: jobs.filter((j) => j.user_id === userId && running(j)).length,
      lastClaim: lastClaims.find((r) => r.user_id === userId)?.last ?? null,
    });
  }
  const candidate = (j: Job) => ({ id: j.id, userId: j.user_id, priority: j.priority });
  const dueNow = claimOrder(waiting.filter((j) => j.run_at <= now).map(candidate), turns);
  // Later retries: by due time, then the same rule among those due together.
  const later = waiting
    .filter((j) => j.run_at > now)
    .sort((a, b) =>
      a.run_at < b.run_at ? -1 : a.run_at > b.run_at ? 1 : b.priority - a.priority || a.id - b.id,
    )
    .map((j) => j.id);
  const position = new Map([...dueNow, ...later].map((id, index) => [id, index + 1]));

  const selected = jobs.filter(
    (j) =>
      (options.chatId === undefined || j.request_chat_id === options.chatId) &&
      (options.userId === undefined || j.user_id === options.userId),
  );
  const entries = selected.map(
    (j): QueueEntry => ({
      id: j.id,
      userId: j.user_id,
      batchId: j.batch_id,
      requestChatId: j.request_chat_id,
      statusMessageId: j.status_message_id,
      status: j.status,
      running: running(j),
      position: position.get(j.id) ?? null,
      runAt: j.run_at,
      cancelRequested: j.cancel_requested === 1,
      paused: j.paused === 1,
      attempts: j.attempts,
      bytesDone: j.bytes_done,
      bytesTotal: j.bytes_total,
    }),
  );
  const rank = (e: QueueEntry) => (e.running ? 0 : (e.position ?? Number.MAX_SAFE_INTEGER));
  entries.sort((a, b) => rank(a) - rank(b) || a.id - b.id);

  return {
    jobs: entries,
    running: jobs.filter(running).length,
    waiting: waiting.length,
    recent: await recentSpeed(db),
  };
}

async function recentSpeed(db: Db): Promise<RecentSpeed> {
  const rows = await db
    .selectFrom("jobs")
    .select(["bytes_total", "download_ms", "upload_ms", "started_at", "finished_at"])
    .where("status", "=", "done")
    .orderBy("finished_at", "desc")
    .limit(RECENT_DONE_JOBS)
    .execute();
  const rate = (ms: "download_ms" | "upload_ms") => {
    let bytes = 0;
    let time = 0;
    for (const r of rows) {
      const spent = r[ms];
      if (r.bytes_total !== null && r.bytes_total > 0 && spent !== null && spent > 0) {
        bytes += r.bytes_total;
        time += spent;
      }
    }
    return time > 0 ? (bytes * 1000) / time : null;
  };
  const durations = rows
    .map((r) =>
      r.started_at && r.finished_at ? Date.parse(r.finished_at) - Date.parse(r.started_at) : Number.NaN,
    )
    .filter((ms) => Number.isFinite(ms) && ms >= 0);
  return {
    jobs: rows.length,
    downloadBytesPerSecond: rate("download_ms"),
    uploadBytesPerSecond: rate("upload_ms"),
    averageJobMs: durations.length > 0 ? durations.reduce((a, b) => a + b, 0) / durations.length : null,
  };
}
