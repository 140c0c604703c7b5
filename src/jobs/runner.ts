/**
 * The worker loop, in the shape graphile-worker and pg-boss use: claim a job in one statement, keep its lease
 * alive with a heartbeat, run its steps with an AbortController and a time limit, and let only the lease owner
 * complete, fail (with a retry scheduled by error class) or release it. No SQL here: the store is src/db/jobs.ts.
 *
 * Two lanes with their own concurrency, so the next job downloads while the current one uploads: the fetch lane
 * takes jobs that still need their file, the deliver lane takes jobs whose file is ready.
 */
import { randomBytes } from "node:crypto";
import type { Db } from "../db/database.js";
import {
  advanceJob,
  claimJob,
  completeJob,
  failJob,
  heartbeat,
  releaseJob,
  releaseStaleLeases,
} from "../db/job-queue.js";
import type { Job, JobStatus, JobUpdate } from "../db/schema.js";
import { CancelledError, MedusaError, userFacing } from "../errors.js";
import { abortableSleep } from "../lib/abort.js";
import { toolGroups } from "../lib/run-tool.js";
import type { Logger } from "../logger.js";
import { endOrphanGroups, jobGroupWatcher } from "./orphans.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy, retryDecision } from "./retry.js";

export type Lane = "fetch" | "deliver";

/** Statuses each lane claims: a job moves to `processing` once its file is on disk. */
export const LANE_STATUSES: Record<Lane, JobStatus[]> = {
  fetch: ["queued", "downloading"],
  deliver: ["processing", "uploading", "sending"],
};

export interface StepContext {
  signal: AbortSignal;
  log: Logger;
  /** Moves the job to `status` with column changes, as its lease owner (throws LEASE_LOST otherwise). */
  advance(status: JobStatus, patch?: JobUpdate): Promise<Job>;
}

/** What a job does; each step resumes from the job's own columns, so running one twice is harmless. */
export interface JobSteps {
  /** Gets the file onto disk; the runner then moves the job to `processing`. */
  fetch(job: Job, ctx: StepContext): Promise<JobUpdate>;
  /** Prepares, uploads and sends the file; the runner then completes the job with the returned columns. */
  deliver(job: Job, ctx: StepContext): Promise<JobUpdate>;
}

export type RunnerEvent =
  | { type: "claimed"; job: Job; lane: Lane }
  /** A step moved the job on (downloading, uploading, sending) or saved its checkpoint. */
  | { type: "advanced"; job: Job }
  | { type: "fetched"; job: Job }
  | { type: "done"; job: Job }
  | { type: "retry"; job: Job; error: unknown; delayMs: number }
  | { type: "failed"; job: Job; error: unknown }
  | { type: "cancelled"; job: Job }
  /** Its user paused it: stopped and released, kept in place, not claimed until resumed. */
  | { type: "paused"; job: Job };

export interface RunnerOptions {
  db: Db;
  steps: JobSteps;
  log: Logger;
  /** Jobs downloading at once. @default 2 */
  fetchConcurrency?: number;
  /** Jobs uploading and sending at once. @default 1 */
  deliverConcurrency?: number;
  /** A lease not renewed for this long is free for another worker. @default 60_000 */
  leaseMs?: number;
  /** @default leaseMs / 4 */
  heartbeatMs?: number;
  /** How often an idle lane looks for work when nobody calls wake(). @default 1000 */
  pollMs?: number;
  /** The most one lane of one job may take before it is stopped and retried. @default 3 h */
  stepTimeoutMs?: number;
  retry?: RetryPolicy;
  /** This process's lease owner id. @default a random one: a restart never inherits a dead process's leases */
  workerId?: string;
  /**
   * The only process working this database: at start every lease belongs to a dead process and is released.
   * False for one of several workers (PostgreSQL), where only expired leases are. @default true
   */
  singleProcess?: boolean;
  /** Run these jobs and no others (`medusa upload` runs its one job, next to a bot that may run the rest). */
  onlyJobs?: readonly number[];
  onEvent?: (event: RunnerEvent) => void;
  /** How long stop() waits for running steps to notice the abort. @default 8000 */
  stopGraceMs?: number;
  /** Crash-recovery tests: called where a crash must lose nothing ("fetch.downloaded"). */
  crashPoint?: (name: string) => void;
}

export interface Runner {
  readonly workerId: string;
  /** Releases leases a dead process left, then starts both lanes. */
  start(): Promise<void>;
  /** Tells idle lanes there is new work (a job was enqueued). */
  wake(): void;
  /**
   * Someone asked to cancel or pause `jobId`: if it runs here, its heartbeat runs now instead of at its next tick, and
   * acts on what it reads. Nothing when it does not run here.
   */
  check(jobId: number): void;
  /** Stops claiming, stops running steps, gives their leases back without counting an attempt; bounded. */
  stop(): Promise<void>;
  /** Jobs running now, by id. */
  running(): number[];
}

/** Stop waits at most this long for running steps to notice the abort. */
export const STOP_GRACE_MS = 8_000;

/** A job running here; `stopTimers` ends its heartbeat and time limit (runJob's finally, or stop()). */
interface ActiveJob {
  controller: AbortController;
  lane: Lane;
  stopTimers: () => void;
  /** Renews the lease now and stops the job if it was cancelled, paused or taken over. */
  beat: () => void;
}

class ShutdownError extends MedusaError {
  constructor() {
    super("SHUTDOWN", "Medusa is stopping");
  }
}

class PausedError extends MedusaError {
  constructor() {
    super("PAUSED", "Paused by the user");
  }
}

export function createRunner(options: RunnerOptions): Runner {
  const { db, steps, log } = options;
  const workerId = options.workerId ?? `w-${process.pid}-${randomBytes(4).toString("hex")}`;
  const leaseMs = options.leaseMs ?? 60_000;
  const heartbeatMs = options.heartbeatMs ?? Math.max(100, Math.floor(leaseMs / 4));
  const pollMs = options.pollMs ?? 1000;
  const stepTimeoutMs = options.stepTimeoutMs ?? 3 * 3600_000;
  const stopGraceMs = options.stopGraceMs ?? STOP_GRACE_MS;
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const limits: Record<Lane, number> = {
    fetch: options.fetchConcurrency ?? 2,
    deliver: options.deliverConcurrency ?? 1,
  };
  /** Jobs running now, by id. */
  const active = new Map<number, ActiveJob & { done: Promise<void> }>();
  const stopping = new AbortController();
  /** Idle lanes waiting for work; wake() and a freed slot end their wait at once. */
  const idle = new Set<() => void>();
  /** Counts wakes, so that a lane woken while it was claiming (its claim may not have seen the news) looks again. */
  let wakes = 0;
  const wakeUp = () => {
    wakes++;
    for (const done of [...idle]) done();
  };
  let loops: Promise<void>[] = [];
  let sweeper: NodeJS.Timeout | undefined;

  async function settleReleased(result: { released: number; finished: Job[] }): Promise<void> {
    if (result.released > 0) log.info({ released: result.released }, "released leases of a stopped worker");
    for (const job of result.finished) {
      emit(
        job.status === "cancelled"
          ? { type: "cancelled", job }
          : { type: "failed", job, error: job.error_code },
      );
    }
  }

  const emit = (event: RunnerEvent) => {
    try {
      options.onEvent?.(event);
    } catch (error) {
      log.warn({ err: error }, "runner event listener failed");
    }
  };

  function countIn(lane: Lane): number {
    let n = 0;
    for (const entry of active.values()) if (entry.lane === lane) n++;
    return n;
  }

  async function laneLoop(lane: Lane): Promise<void> {
    while (!stopping.signal.aborted) {
      let claimed: Job | undefined;
      const wakesBefore = wakes;
      if (countIn(lane) < limits[lane]) {
        try {
          claimed = await claimJob(db, {
            workerId,
            leaseMs,
            statuses: LANE_STATUSES[lane],
            // Downloads run side by side; a batch's files are posted in the order of its file.
            inBatchOrder: lane === "deliver",
            ...(options.onlyJobs ? { ids: options.onlyJobs } : {}),
          });
        } catch (error) {
          log.error({ err: error, lane }, "claiming a job failed");
        }
      }
      if (claimed) {
        emit({ type: "claimed", job: claimed, lane });
        startJob(claimed, lane);
        continue;
      }
      if (stopping.signal.aborted) break; // stop() came during the claim: its abort event has fired already
      if (wakes !== wakesBefore) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollMs);
        function done() {
          clearTimeout(timer);
          stopping.signal.removeEventListener("abort", done);
          idle.delete(done);
          resolve();
        }
        idle.add(done);
        stopping.signal.addEventListener("abort", done, { once: true });
      });
    }
  }

  function startJob(job: Job, lane: Lane): void {
    const entry = {
      controller: new AbortController(),
      done: Promise.resolve(),
      lane,
      stopTimers: () => {},
      beat: () => {},
    };
    active.set(job.id, entry);
    entry.done = runJob(job, lane, entry).finally(() => {
      active.delete(job.id);
      wakeUp(); // a slot is free
    });
  }

  async function runJob(job: Job, lane: Lane, entry: ActiveJob): Promise<void> {
    const { controller } = entry;
    const jobLog = log.child({ job: job.id, lane });
    const timeLimit = setTimeout(
      () =>
        controller.abort(new MedusaError("STEP_TIMEOUT", `The ${lane} step ran over ${stepTimeoutMs} ms`)),
      stepTimeoutMs,
    );
    entry.beat = () => {
      heartbeat(db, job.id, workerId, leaseMs).then(
        (state) => {
          if (!state.alive)
            controller.abort(new MedusaError("LEASE_LOST", "Another worker took the job over"));
          else if (state.cancelRequested) controller.abort(new CancelledError("Cancelled by the user"));
          else if (state.pauseRequested) controller.abort(new PausedError());
        },
        (error: unknown) => jobLog.warn({ err: error }, "heartbeat failed"),
      );
    };
    const beats = setInterval(entry.beat, heartbeatMs);
    entry.stopTimers = () => {
      clearTimeout(timeLimit);
      clearInterval(beats);
      entry.beat = () => {};
    };
    const onStop = () => controller.abort(new ShutdownError());
    stopping.signal.addEventListener("abort", onStop, { once: true });
    const ctx: StepContext = {
      signal: controller.signal,
      log: jobLog,
      advance: async (status, patch = {}) => {
        const advanced = await advanceJob(db, job.id, workerId, status, patch);
        emit({ type: "advanced", job: advanced });
        return advanced;
      },
    };
    const groups = jobGroupWatcher(db, job.id, jobLog);
    try {
      if (lane === "fetch") {
        const patch = await toolGroups.run(groups, () => steps.fetch(job, ctx));
        options.crashPoint?.("fetch.downloaded");
        const fetched = await advanceJob(db, job.id, workerId, "processing", patch);
        // The deliver lane claims it next; releasing gives this claim's attempt back (the fetch succeeded).
        await releaseJob(db, job.id, workerId);
        emit({ type: "fetched", job: fetched });
      } else {
        const patch = await toolGroups.run(groups, () => steps.deliver(job, ctx));
        emit({ type: "done", job: await completeJob(db, job.id, workerId, patch) });
      }
    } catch (error) {
      await settleFailure(job, error, controller.signal, jobLog);
    } finally {
      await groups.clear();
      entry.stopTimers();
      stopping.signal.removeEventListener("abort", onStop);
    }
  }

  async function settleFailure(job: Job, error: unknown, signal: AbortSignal, jobLog: Logger): Promise<void> {
    const reason = signal.aborted ? signal.reason : error;
    try {
      if (reason instanceof ShutdownError) {
        await releaseJob(db, job.id, workerId, {});
        jobLog.info("released for the next start");
        return;
      }
      if (reason instanceof PausedError) {
        // Released like a shutdown: the attempt is given back and the columns kept, so resuming goes on from here.
        const released = await releaseJob(db, job.id, workerId, {});
        jobLog.info("paused");
        emit(
          released.status === "cancelled"
            ? { type: "cancelled", job: released }
            : { type: "paused", job: released },
        );
        return;
      }
      if (reason instanceof MedusaError && reason.code === "LEASE_LOST") {
        jobLog.warn("lease lost; the new owner carries on");
        return;
      }
      const decision = retryDecision(reason, job.attempts, policy);
      const { code, text, key, params } = userFacing(reason);
      if (decision.retry) {
        const retryAt = new Date(Date.now() + decision.delayMs).toISOString();
        await failJob(db, job.id, workerId, { code, message: text, key, params, retryAt });
        jobLog.warn({ err: reason, code, delayMs: decision.delayMs }, "step failed; retry scheduled");
        emit({ type: "retry", job, error: reason, delayMs: decision.delayMs });
        return;
      }
      if (decision.why === "cancelled") {
        await advanceJob(db, job.id, workerId, "cancelled", { error_code: "CANCELLED" });
        emit({ type: "cancelled", job });
        return;
      }
      await failJob(db, job.id, workerId, { code, message: text, key, params, retryAt: null });
      jobLog.warn({ err: reason, code }, "job failed");
      emit({ type: "failed", job, error: reason });
    } catch (settleError) {
      // The lease may be gone (another worker took over); the job row stays the truth either way.
      jobLog.error({ err: settleError }, "recording the outcome failed");
    }
  }

  return {
    workerId,
    async start() {
      // One process per database (today): whatever lease exists now, and whatever tool a job recorded, belongs
      // to a process that is gone. Next to another worker (`medusa upload` beside the bot) both are its own.
      const alone = options.singleProcess ?? true;
      if (alone) {
        const ended = await endOrphanGroups(db, log);
        if (ended > 0) log.info({ ended }, "ended tools a stopped Medusa left running");
      }
      await settleReleased(await releaseStaleLeases(db, { all: alone }));
      sweeper = setInterval(() => {
        releaseStaleLeases(db, {}).then(settleReleased, (error: unknown) =>
          log.warn({ err: error }, "releasing expired leases failed"),
        );
      }, leaseMs);
      sweeper.unref();
      loops = (["fetch", "deliver"] as const).map((lane) => laneLoop(lane));
    },
    wake() {
      wakeUp();
    },
    check(jobId) {
      active.get(jobId)?.beat();
    },
    async stop() {
      stopping.abort();
      clearInterval(sweeper);
      const running = [...active.values()].map((entry) => entry.done);
      const grace = new AbortController();
      await Promise.race([
        Promise.allSettled([...running, ...loops]),
        abortableSleep(stopGraceMs, grace.signal).catch(() => undefined),
      ]);
      grace.abort(); // its timer would keep the process alive for the rest of the grace period
      // A step that ignores its signal keeps running, but not its heartbeat: its lease expires (and the next
      // start releases it), and no timer of this runner keeps the process alive.
      for (const [id, entry] of active) {
        entry.stopTimers();
        log.warn({ job: id, lane: entry.lane }, "a step did not stop in time; its lease is left to expire");
      }
    },
    running: () => [...active.keys()],
  };
}
