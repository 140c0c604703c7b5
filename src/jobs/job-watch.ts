/**
 * Follows the jobs through their rows, whichever process runs them: every `intervalMs` the unfinished jobs' marks
 * are read and compared with the last read; a job whose marks moved (claimed, a step, progress, a press) or that
 * left the set (finished) is reported. The status boards and the batch summaries listen here, in every role, so
 * a gateway whose workers are other processes (or hosts) shows the same as one process: one code path.
 *
 * Comparing marks rather than reading "updated since" needs no clock agreement between hosts and no index on
 * updated_at; the unfinished set is the queue, small next to the history. A job queued and finished between two
 * reads is never seen here: its board was started by the enqueue and shows it, and the batch sweep sends its summary.
 */
import type { Db } from "../db/database.js";
import { type JobMark, unfinishedJobMarks } from "../db/job-watch.js";
import type { Logger } from "../logger.js";

/** Once a second: the boards edit every few seconds at most, so a change waits well under one edit. */
export const DEFAULT_JOB_WATCH_MS = 1000;

export interface JobChange {
  id: number;
  chatId: number;
  batchId: number | null;
  /** It left the unfinished set: done, failed or cancelled. */
  finished: boolean;
}

export interface JobWatchOptions {
  db: Db;
  log: Logger;
  /** @default DEFAULT_JOB_WATCH_MS */
  intervalMs?: number;
  /** The jobs that changed since the last read, in one call; synchronous, errors are logged. */
  onChanges: (changes: JobChange[]) => void;
}

export interface JobWatch {
  /** Reads the first marks (nothing is reported for them), then reads on a timer. */
  start(): Promise<void>;
  /** Reads now and reports what changed (the timer's read; tests call it to skip the wait). */
  poll(): Promise<void>;
  stop(): Promise<void>;
}

export function createJobWatch(options: JobWatchOptions): JobWatch {
  const { db, log } = options;
  const intervalMs = options.intervalMs ?? DEFAULT_JOB_WATCH_MS;
  if (!Number.isSafeInteger(intervalMs) || intervalMs <= 0) {
    throw new TypeError(`Expected \`intervalMs\` to be a positive whole number, got ${intervalMs}`);
  }
  let known = new Map<number, JobMark>();
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> = Promise.resolve();
  let stopped = false;

  async function read(report: boolean): Promise<void> {
    const marks = await unfinishedJobMarks(db);
    const next = new Map(marks.map((m) => [m.id, m]));
    const changes: JobChange[] = [];
    for (const mark of marks) {
      const before = known.get(mark.id);
      if (!before || moved(before, mark)) {
        changes.push({ id: mark.id, chatId: mark.request_chat_id, batchId: mark.batch_id, finished: false });
      }
    }
    for (const [id, before] of known) {
      if (!next.has(id)) {
        changes.push({ id, chatId: before.request_chat_id, batchId: before.batch_id, finished: true });
      }
    }
    known = next;
    if (!report || changes.length === 0) return;
    try {
      options.onChanges(changes);
    } catch (error) {
      log.warn({ err: error }, "a job change listener failed");
    }
  }

  function poll(): Promise<void> {
    // One read at a time: a slow read is not overtaken by the next, which would report its changes twice.
    polling = polling.then(() =>
      read(true).catch((error: unknown) => log.warn({ err: error }, "reading the jobs failed")),
    );
    return polling;
  }

  function tick(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      void poll().then(tick);
    }, intervalMs);
  }

  return {
    async start() {
      await read(false);
      tick();
    },
    poll,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await polling;
    },
  };
}

function moved(a: JobMark, b: JobMark): boolean {
  return (
    a.status !== b.status ||
    a.updated_at !== b.updated_at ||
    a.locked_by !== b.locked_by ||
    a.bytes_done !== b.bytes_done ||
    a.cancel_requested !== b.cancel_requested ||
    a.paused !== b.paused
  );
}
