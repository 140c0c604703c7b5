/**
 * Watches for what the owner must hear of without asking: jobs failing one after another, the data folder filling
 * up, the Premium user session gone, and a start after a crash. Each is one notice per episode (src/bot/owner-notices),
 * worded in the owner's language with what to do next; the log carries the details.
 */
import type { Db } from "../db/database.js";
import { failuresSince, lastOutcomes } from "../db/job-health.js";
import { freeBytes as statFree } from "../fetch/http/disk-space.js";
import type { RunnerEvent } from "../jobs/runner.js";
import { formatBytes } from "../lib/size.js";
import type { Logger } from "../logger.js";
import type { OwnerNotices } from "./owner-notices.js";

/** Jobs done in a row that end a failure episode: the trouble is over, not merely paused. */
const RECOVERY_STREAK = 3;
/** Error codes shown in the failures notice. */
const TOP_CODES = 3;
/** What Telegram answers once a user session was logged out, revoked or its account deleted. */
export const SESSION_DEAD_CODES: ReadonlySet<string> = new Set([
  "AUTH_KEY_UNREGISTERED",
  "AUTH_KEY_INVALID",
  "AUTH_KEY_DUPLICATED",
  "SESSION_REVOKED",
  "SESSION_EXPIRED",
  "USER_DEACTIVATED",
  "USER_DEACTIVATED_BAN",
]);
/** Download failures that say the disk is the trouble: worth a look at it right away. */
const DISK_CODES = new Set(["DISK_FULL", "DISK_FLOOR_REACHED"]);

export const NOTICE_SUBJECTS = {
  failures: "failures",
  disk: "disk-low",
  session: "user-session",
} as const;

export interface OwnerWatchOptions {
  db: Db;
  notices: OwnerNotices;
  log: Logger;
  dataDir: string;
  /** The floor downloads keep free (MIN_FREE_DISK). */
  minFreeDisk: number;
  /** Warn under minFreeDisk + diskMargin; recovered over minFreeDisk + 2 × diskMargin (no flapping). */
  diskMargin: number;
  /** This many failed jobs within failedWindowMs open a failure episode. */
  failedJobs: number;
  failedWindowMs: number;
  /**
   * Whether a user session is configured: only then do job errors such as AUTH_KEY_UNREGISTERED mean it. A function
   * when it is known only later (the worker opens the session after the watch exists). @default true
   */
  watchSession?: boolean | (() => boolean);
  /** @default statfs of the data folder */
  freeBytes?: (dir: string) => Promise<number>;
  /** @default () => new Date() */
  now?: () => Date;
}

export interface OwnerWatch {
  /** Feeds the runner's events: failures, successes, downloads about to start. Never throws. */
  onRunnerEvent(event: RunnerEvent): void;
  /** The disk now, and whether a failure episode ended quietly (a window without failures): the timer's task. */
  tick(): Promise<void>;
  checkDisk(): Promise<void>;
  /** The user session answered `code` at start or in a job. */
  sessionStopped(code: string): Promise<void>;
  /** The user session opened fine: a later loss is told again. */
  sessionWorks(): Promise<void>;
  /** This start follows one that never stopped cleanly; `resumed` unfinished jobs, `interrupted` of them mid-step. */
  crashed(start: { at: string; resumed: number; interrupted: number }): Promise<void>;
  /** Resolves when the checks under way are done (tests, shutdown). */
  settled(): Promise<void>;
}

/** The Telegram error code a session failure carries (on the error or one of its causes), when it is one. */
export function sessionDeadCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const named = current as Error & { errorMessage?: unknown; code?: unknown };
    for (const value of [named.errorMessage, named.code]) {
      if (typeof value === "string" && SESSION_DEAD_CODES.has(value)) return value;
    }
    current = current.cause;
  }
  return undefined;
}

export function createOwnerWatch(options: OwnerWatchOptions): OwnerWatch {
  const { db, notices, log } = options;
  const now = options.now ?? (() => new Date());
  const readFree = options.freeBytes ?? statFree;
  const pending = new Set<Promise<void>>();
  // One check of each kind at a time: a burst of failures asks the table once per failure, in order.
  let failureChain: Promise<void> = Promise.resolve();
  let diskCheck: Promise<void> | undefined;

  const track = (work: Promise<void>) => {
    const guarded = work.catch((error: unknown) => log.warn({ err: error }, "an owner check failed"));
    pending.add(guarded);
    void guarded.finally(() => pending.delete(guarded));
    return guarded;
  };
  const windowStart = () => new Date(now().getTime() - options.failedWindowMs).toISOString();

  const onFailure = async () => {
    const failures = await failuresSince(db, windowStart(), TOP_CODES);
    if (failures.count < options.failedJobs) return;
    await notices.episode(NOTICE_SUBJECTS.failures, "notice.failures", {
      count: failures.count,
      minutes: Math.round(options.failedWindowMs / 60_000),
      codes: failures.codes.map((c) => `${c.code} × ${c.count}`).join(", "),
    });
  };
  const onSuccess = async () => {
    if (!(await notices.isOpen(NOTICE_SUBJECTS.failures))) return;
    const outcomes = await lastOutcomes(db, RECOVERY_STREAK);
    if (outcomes.length === RECOVERY_STREAK && outcomes.every((s) => s === "done")) {
      await notices.recovered(NOTICE_SUBJECTS.failures, "notice.failuresRecovered", {
        streak: RECOVERY_STREAK,
      });
    }
  };
  const quietCheck = async () => {
    if (!(await notices.isOpen(NOTICE_SUBJECTS.failures))) return;
    if ((await failuresSince(db, windowStart(), 0)).count > 0) return;
    await notices.recovered(NOTICE_SUBJECTS.failures, "notice.failuresRecovered", {
      streak: RECOVERY_STREAK,
    });
  };
  const queueFailureCheck = (task: () => Promise<void>) => {
    failureChain = failureChain.then(task, task);
    return track(failureChain);
  };

  const checkDisk = () => {
    diskCheck ??= track(
      (async () => {
        const free = await readFree(options.dataDir);
        const warnUnder = options.minFreeDisk + options.diskMargin;
        if (free < warnUnder) {
          log.warn({ free, warnUnder }, "the data folder is running out of space");
          await notices.episode(NOTICE_SUBJECTS.disk, "notice.diskLow", {
            free: formatBytes(free),
            min: formatBytes(options.minFreeDisk),
            dir: options.dataDir,
          });
        } else if (free >= options.minFreeDisk + 2 * options.diskMargin) {
          await notices.recovered(NOTICE_SUBJECTS.disk, "notice.diskRecovered", { free: formatBytes(free) });
        }
      })().finally(() => {
        diskCheck = undefined;
      }),
    );
    return diskCheck;
  };

  const watching = options.watchSession ?? true;
  const watchSession = () => (typeof watching === "function" ? watching() : watching);
  const sessionStopped = (code: string) =>
    track(notices.episode(NOTICE_SUBJECTS.session, "notice.sessionStopped", { code }));

  return {
    onRunnerEvent(event) {
      if (event.type === "failed") {
        void queueFailureCheck(onFailure);
        if (watchSession() && typeof event.error !== "string") {
          const dead = sessionDeadCode(event.error);
          if (dead) void sessionStopped(dead);
        }
      } else if (event.type === "done") {
        void queueFailureCheck(onSuccess);
      } else if (event.type === "retry") {
        const dead = watchSession() ? sessionDeadCode(event.error) : undefined;
        if (dead) void sessionStopped(dead);
      }
      // Before a download starts, and when one stopped for space: the disk is worth a look.
      const diskFailure =
        (event.type === "retry" || event.type === "failed") &&
        DISK_CODES.has(event.job.error_code ?? codeOf(event.error));
      if ((event.type === "claimed" && event.lane === "fetch") || diskFailure) void checkDisk();
    },
    async tick() {
      await Promise.all([checkDisk(), queueFailureCheck(quietCheck)]);
    },
    checkDisk,
    sessionStopped,
    sessionWorks: () => track(notices.recovered(NOTICE_SUBJECTS.session)),
    crashed: (start) =>
      track(
        notices.once(`crash-start:${start.at}`, "notice.crashStart", {
          resumed: start.resumed,
          interrupted: start.interrupted,
        }),
      ),
    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "";
}
