/**
 * The persistent queue that jobs form. A job row is the single source of truth; its lease (locked_by,
 * locked_until) says which worker runs it. The queue, in the shape of graphile-worker and pg-boss:
 * - enqueueJobs inserts jobs (and their batch) under per-user and total caps;
 * - claimJob hands the next runnable job to a worker in one UPDATE … RETURNING: priority first, then turns
 *   between users, then age; the claim takes a lease of leaseMs and counts an attempt;
 * - heartbeat keeps the lease alive and tells the worker about a cancel or a pause;
 * - only the lease owner advances, completes, fails or releases a job (else LEASE_LOST);
 * - failJob schedules a retry by moving run_at, or gives up; releaseJob hands the job back without a verdict;
 * - releaseStaleLeases frees what dead or hung workers held.
 * On PostgreSQL the functions that make jobs claimable (enqueue, resume, release) or ask a running job to stop
 * (cancel, pause) also send a signal (src/db/job-signals.ts), in the caller's transaction when there is one (it is
 * delivered at commit) and else right after the write, so that workers elsewhere act at once rather than on their
 * next poll or heartbeat.
 *
 * Attempts: every claim starts an attempt (attempts + 1) and needs attempts < max_attempts. releaseJob gives the
 * attempt back (a shutdown, or a download worker handing a downloaded job over to the upload workers, costs
 * nothing). An attempt whose worker vanished (its lease expired, or releaseStaleLeases freed it) keeps its count,
 * so a job that brings Medusa down every time fails after max_attempts instead of looping forever.
 *
 * Time is ISO-8601 UTC text compared as strings (they sort), so the queries hold no SQLite date functions.
 */
import { sql } from "kysely";
import { type Db, isPostgres, nowIso, type Trx } from "./database.js";
import { StoreError } from "./errors.js";
import { type JobSignal, notifyJobs } from "./job-signals.js";
import {
  checkIso,
  checkLeaseMs,
  checkWorkerId,
  insertBatch,
  insertJobs,
  type JobPatch,
  type JobRequest,
  later,
  moveJob,
  refusal,
  type SkippedLine,
  UNFINISHED_STATUSES,
} from "./jobs.js";
import { FINISHED_STATUSES, type Job, type JobStatus } from "./schema.js";

/** Caps on unfinished jobs (queued or running). Pass Infinity for no cap (e.g. admins). */
export interface QueueLimits {
  perUserQueued: number;
  totalQueued: number;
}

export interface EnqueueOptions {
  /** Make the jobs one batch (a .txt list): a batches row, and batch_id/position on each job. One user only. */
  batch?: { chatId: number; sourceName: string | null; skipped?: readonly SkippedLine[] };
  /** @default nowIso() */
  now?: string;
}

function checkLimit(name: string, value: number): void {
  if (!(value === Number.POSITIVE_INFINITY || (Number.isSafeInteger(value) && value >= 0))) {
    throw new TypeError(`Expected \`${name}\` to be a non-negative whole number or Infinity, got ${value}`);
  }
}

/**
 * Enqueues jobs, all or none: when they would take a user past `perUserQueued` unfinished jobs, or everyone past
 * `totalQueued`, nothing is inserted and StoreError USER_QUEUE_FULL / QUEUE_FULL says how many would fit (`fits`,
 * under both caps). Counts and inserts in the caller's transaction, so two enqueues cannot both squeeze past a cap.
 * Returns the jobs in the order given (with batch_id and position when `batch` is set; the batch is jobs[0].batch_id).
 */
export async function enqueueJobs(
  trx: Trx,
  jobs: readonly JobRequest[],
  limits: QueueLimits,
  options: EnqueueOptions = {},
): Promise<Job[]> {
  checkLimit("perUserQueued", limits.perUserQueued);
  checkLimit("totalQueued", limits.totalQueued);
  const now = options.now ?? nowIso();
  if (options.now !== undefined) checkIso("now", options.now);
  if (jobs.length === 0) return [];
  const wanted = new Map<number, number>();
  for (const job of jobs) wanted.set(job.user_id, (wanted.get(job.user_id) ?? 0) + 1);
  if (options.batch && wanted.size > 1) {
    throw new TypeError(
      `Expected the jobs of a batch to belong to one user, got users ${[...wanted.keys()]}`,
    );
  }

  if (isPostgres(trx)) await sql`SELECT pg_advisory_xact_lock(${ENQUEUE_LOCK_KEY})`.execute(trx);
  const total = await trx
    .selectFrom("jobs")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("status", "not in", FINISHED_STATUSES)
    .executeTakeFirstOrThrow();
  const perUser = await trx
    .selectFrom("jobs")
    .select(["user_id", (eb) => eb.fn.countAll<number>().as("n")])
    .where("status", "not in", FINISHED_STATUSES)
    .where("user_id", "in", [...wanted.keys()])
    .groupBy("user_id")
    .execute();
  const fitsTotal = Math.max(0, limits.totalQueued - Number(total.n));
  let fits = fitsTotal;
  for (const [userId, count] of wanted) {
    const queued = Number(perUser.find((r) => r.user_id === userId)?.n ?? 0);
    const fitsUser = Math.max(0, limits.perUserQueued - queued);
    if (wanted.size === 1) fits = Math.min(fits, fitsUser);
    if (count > fitsUser) {
      throw new StoreError(
        "USER_QUEUE_FULL",
        `user ${userId} has ${queued} unfinished jobs; ${count} more would pass the cap of ${limits.perUserQueued}`,
        { fits: Math.min(fitsUser, fitsTotal) },
      );
    }
  }
  if (jobs.length > fitsTotal) {
    throw new StoreError(
      "QUEUE_FULL",
      `${Number(total.n)} unfinished jobs; ${jobs.length} more would pass the cap of ${limits.totalQueued}`,
      { fits },
    );
  }

  const batch = options.batch
    ? await insertBatch(trx, {
        userId: jobs[0]!.user_id,
        chatId: options.batch.chatId,
        sourceName: options.batch.sourceName,
        skipped: options.batch.skipped,
        total: jobs.length,
        now,
      })
    : undefined;
  const created = await insertJobs(trx, jobs, batch?.id ?? null, now);
  await notifyJobs(trx, { kind: "queued" });
  return created;
}

/**
 * On PostgreSQL, how many of each user's best jobs compete for a claim: more than the claimers likely to hold a row
 * of one user at the same moment (SKIP LOCKED passes those), few enough to keep the ordering cheap.
 */
const PG_CANDIDATES_PER_USER = 16;

/** Serialises enqueues on PostgreSQL (as SQLite's single writer does), so two cannot both squeeze past a cap. */
const ENQUEUE_LOCK_KEY = 0x6d656475; // "medu"

export interface ClaimOptions {
  /** Who takes the lease: unique per running process (and per pool, if pools should not share leases). */
  workerId: string;
  /** How long the lease lasts without a heartbeat. */
  leaseMs: number;
  /**
   * Claim only jobs in these statuses, so that pools have their own concurrency: e.g. a download pool claims
   * ["queued", "downloading"] and an upload pool ["processing", "uploading", "sending"].
   * @default every unfinished status
   */
  statuses?: readonly JobStatus[];
  /**
   * Claim only these jobs: a worker that runs its own jobs and no one else's (`medusa upload` next to a running bot).
   * @default any job
   */
  ids?: readonly number[];
  /**
   * Claim a batch's job only once every earlier job of its batch (lower position) has ended, so a batch is
   * delivered in the order of its file however its downloads finish. @default false
   */
  inBatchOrder?: boolean;
  /** @default nowIso() */
  now?: string;
}

/**
 * Hands the next runnable job to `workerId`, or undefined when none is. One statement: UPDATE … WHERE id = (the
 * best candidate) AND the lease is still free … RETURNING, so two workers (or two connections) never get the same
 * job. Runnable: unfinished, in `statuses`, run_at <= now, no live lease (none, or expired), no cancel requested,
 * attempts < max_attempts. Order: priority (higher first); then turns between users — the user with the fewest
 * jobs leased now, then the user whose last claim is oldest; then the oldest job. So a 500-line batch of one user
 * and a single link of another alternate instead of the link waiting for the batch.
 * The claim sets the lease (locked_by, locked_until = now + leaseMs), claimed_at, started_at once, and
 * attempts + 1 (see the header: every claim starts an attempt; releaseJob gives it back).
 * On SQLite the single writer makes the statement atomic. On PostgreSQL many workers claim at once: the candidate
 * is locked with FOR UPDATE SKIP LOCKED, so a claimer never waits for another's row nor takes it, and moves on to
 * the next candidate; each user offers up to PG_CANDIDATES_PER_USER of them, so that one user's jobs are not
 * hidden behind the one row another claimer holds. A row claimed meanwhile fails the lease re-check and is passed.
 */
export async function claimJob(db: Db, options: ClaimOptions): Promise<Job | undefined> {
  checkWorkerId(options.workerId);
  checkLeaseMs(options.leaseMs);
  const statuses = options.statuses ?? UNFINISHED_STATUSES;
  if (statuses.length === 0 || statuses.some((s) => !UNFINISHED_STATUSES.includes(s))) {
    throw new TypeError(`Expected \`statuses\` to list unfinished statuses, got ${JSON.stringify(statuses)}`);
  }
  const ids = options.ids;
  if (ids !== undefined && (ids.length === 0 || ids.some((id) => !Number.isSafeInteger(id)))) {
    throw new TypeError(`Expected \`ids\` to list job ids, got ${JSON.stringify(ids)}`);
  }
  const now = options.now ?? nowIso();
  if (options.now !== undefined) checkIso("now", options.now);

  // Each user's best runnable job (priority, then age); the users' turns then decide between these heads, so the
  // per-user lookups run once per user rather than once per job.
  const heads = db
    .selectFrom("jobs as j")
    .select((eb) => [
      "j.id",
      "j.user_id",
      "j.priority",
      eb.fn
        .agg<number>("row_number")
        .over((ob) => ob.partitionBy("j.user_id").orderBy("j.priority", "desc").orderBy("j.id"))
        .as("rank"),
    ])
    // As literals, so that the partial index jobs_claim applies (SQLite does not match a bound parameter to it).
    .where(
      "j.status",
      "not in",
      FINISHED_STATUSES.map((s) => sql.lit(s)),
    )
    .where("j.status", "in", statuses)
    .where("j.run_at", "<=", now)
    .where((eb) => eb.or([eb("j.locked_by", "is", null), eb("j.locked_until", "<", now)]))
    .where("j.cancel_requested", "=", 0)
    .where("j.paused", "=", 0)
    .whereRef("j.attempts", "<", "j.max_attempts")
    .$if(ids !== undefined, (q) => q.where("j.id", "in", ids ?? []))
    .$if(options.inBatchOrder === true, (q) =>
      q.where((eb) =>
        eb.or([
          eb("j.batch_id", "is", null),
          eb.not(
            eb.exists(
              eb
                .selectFrom("jobs as e")
                .select("e.id")
                .whereRef("e.batch_id", "=", "j.batch_id")
                .whereRef("e.position", "<", "j.position")
                .where("e.status", "not in", FINISHED_STATUSES),
            ),
          ),
        ]),
      ),
    );
  const pg = isPostgres(db);
  const next = db
    .selectFrom(heads.as("h"))
    .innerJoin("jobs as k", "k.id", "h.id")
    .select("k.id")
    .where("h.rank", "<=", pg ? PG_CANDIDATES_PER_USER : 1)
    // Re-checked on the latest row version when another claim committed meanwhile (PostgreSQL's EvalPlanQual).
    .$if(pg, (q) =>
      q
        .where((eb) => eb.or([eb("k.locked_by", "is", null), eb("k.locked_until", "<", now)]))
        .where("k.cancel_requested", "=", 0)
        .where("k.paused", "=", 0)
        .where("k.status", "not in", FINISHED_STATUSES),
    )
    .orderBy("h.priority", "desc")
    .orderBy((eb) =>
      eb
        .selectFrom("jobs as l")
        .select((e) => e.fn.countAll().as("n"))
        .whereRef("l.user_id", "=", "h.user_id")
        .where("l.locked_by", "is not", null)
        .where("l.locked_until", ">=", now),
    )
    .orderBy((eb) =>
      eb.fn.coalesce(
        eb
          .selectFrom("jobs as c")
          .select((e) => e.fn.max("c.claimed_at").as("t"))
          .whereRef("c.user_id", "=", "h.user_id"),
        eb.val(""),
      ),
    )
    .orderBy("h.id")
    .limit(1)
    .$if(pg, (q) => q.forUpdate("k").skipLocked());

  return db
    .updateTable("jobs")
    .set((eb) => ({
      locked_by: options.workerId,
      locked_until: later(now, options.leaseMs),
      claimed_at: now,
      attempts: eb("attempts", "+", 1),
      started_at: eb.fn.coalesce("started_at", eb.val(now)),
      updated_at: now,
    }))
    .where("id", "=", next)
    .where((eb) => eb.or([eb("locked_by", "is", null), eb("locked_until", "<", now)]))
    .returningAll()
    .executeTakeFirst();
}

export interface Heartbeat {
  /** The worker still holds the lease (now extended). When false, it must stop: the job is someone else's. */
  alive: boolean;
  /** Someone asked to cancel the job: stop, then failJob or releaseJob (either finishes it as cancelled). */
  cancelRequested: boolean;
  /** Someone paused the job: stop, then releaseJob (it waits, unclaimed, until resumed). */
  pauseRequested: boolean;
}

/**
 * Extends the lease to now + leaseMs, only if `workerId` still holds it (even if it expired meanwhile, as long as no
 * one else claimed the job). Touches nothing else, not even updated_at.
 */
export async function heartbeat(
  db: Db,
  jobId: number,
  workerId: string,
  leaseMs: number,
  now: string = nowIso(),
): Promise<Heartbeat> {
  checkLeaseMs(leaseMs);
  const row = await db
    .updateTable("jobs")
    .set({ locked_until: later(now, leaseMs) })
    .where("id", "=", jobId)
    .where("locked_by", "=", workerId)
    .returning(["cancel_requested", "paused"])
    .executeTakeFirst();
  if (row) {
    return { alive: true, cancelRequested: row.cancel_requested === 1, pauseRequested: row.paused === 1 };
  }
  const current = await db
    .selectFrom("jobs")
    .select(["status", "cancel_requested", "paused"])
    .where("id", "=", jobId)
    .executeTakeFirst();
  return {
    alive: false,
    cancelRequested: current?.status === "cancelled" || current?.cancel_requested === 1,
    pauseRequested: current?.paused === 1,
  };
}

/**
 * The lease owner moves its job to `status` (or stays, to save a patch such as the checkpoint). Allowed moves are
 * canTransition's; a finished status drops the lease. Throws LEASE_LOST when `workerId` does not hold the lease
 * (another worker re-claimed it after it expired, it was released, or the job was cancelled while unleased),
 * JOB_STATE when the move is not allowed, JOB_NOT_FOUND when there is no such job.
 */
export async function advanceJob(
  db: Db,
  jobId: number,
  workerId: string,
  status: JobStatus,
  patch: JobPatch = {},
  now: string = nowIso(),
): Promise<Job> {
  return moveJob(db, jobId, status, patch, workerId, now);
}

/** The lease owner finishes its job: done, lease dropped. Throws as advanceJob. */
export async function completeJob(
  db: Db,
  jobId: number,
  workerId: string,
  patch: JobPatch = {},
  now: string = nowIso(),
): Promise<Job> {
  return moveJob(db, jobId, "done", patch, workerId, now);
}

export interface JobFailure {
  /** A stable code (e.g. HTTP_404, FLOOD_WAIT, NETWORK) and a message for logs. */
  code: string;
  message: string;
  /** The catalog key and params that word it for a chat. */
  key?: string;
  params?: Readonly<Record<string, string | number>>;
  /** When to try again; null: never (user errors). */
  retryAt: string | null;
  /** @default nowIso() */
  now?: string;
}

/**
 * The lease owner reports a failed attempt. One UPDATE that drops the lease and records the error, then:
 * - a cancel was requested: cancelled (and finished);
 * - retryAt is null, or attempts >= max_attempts: failed (and finished);
 * - else: the status stays (the step reached; the steps resume from the job's columns) and run_at = retryAt.
 * Throws LEASE_LOST / JOB_NOT_FOUND as advanceJob.
 */
export async function failJob(db: Db, jobId: number, workerId: string, failure: JobFailure): Promise<Job> {
  const now = failure.now ?? nowIso();
  const retryAt = failure.retryAt;
  if (retryAt !== null) checkIso("retryAt", retryAt);
  const updated = await db
    .updateTable("jobs")
    .set((eb) => {
      const cancelled = eb("cancel_requested", "=", 1);
      const givesUp = retryAt === null ? eb.lit(true) : eb("attempts", ">=", eb.ref("max_attempts"));
      const finishes = eb.or([cancelled, givesUp]);
      return {
        status: eb
          .case()
          .when(cancelled)
          .then(eb.val<JobStatus>("cancelled"))
          .when(givesUp)
          .then(eb.val<JobStatus>("failed"))
          .else(eb.ref("status"))
          .end(),
        run_at:
          retryAt === null
            ? eb.ref("run_at")
            : eb.case().when(finishes).then(eb.ref("run_at")).else(retryAt).end(),
        finished_at: eb.case().when(finishes).then(now).else(null).end(),
        error_code: failure.code,
        error_message: failure.message,
        error_key: failure.key ?? null,
        error_params: failure.params ? JSON.stringify(failure.params) : null,
        locked_by: null,
        locked_until: null,
        updated_at: now,
      };
    })
    .where("id", "=", jobId)
    .where("locked_by", "=", workerId)
    .returningAll()
    .executeTakeFirst();
  if (updated) return updated;
  throw await refusal(db, jobId, workerId, "fail");
}

/**
 * The lease owner gives the job back without a verdict (shutdown, or a hand-over to another pool): the lease is
 * dropped, the attempt given back (attempts − 1), run_at moved to `runAt` if given. A job whose cancel was
 * requested is finished as cancelled instead. Throws LEASE_LOST / JOB_NOT_FOUND as advanceJob.
 */
export async function releaseJob(
  db: Db,
  jobId: number,
  workerId: string,
  options: { runAt?: string; now?: string } = {},
): Promise<Job> {
  const now = options.now ?? nowIso();
  if (options.runAt !== undefined) checkIso("runAt", options.runAt);
  const runAt = options.runAt;
  const updated = await db
    .updateTable("jobs")
    .set((eb) => {
      const cancelled = eb("cancel_requested", "=", 1);
      return {
        status: eb.case().when(cancelled).then(eb.val<JobStatus>("cancelled")).else(eb.ref("status")).end(),
        finished_at: eb.case().when(cancelled).then(now).else(null).end(),
        attempts: eb
          .case()
          .when("attempts", ">", 0)
          .then(eb("attempts", "-", 1))
          .else(0)
          .end(),
        run_at: runAt === undefined ? eb.ref("run_at") : eb.val(runAt),
        locked_by: null,
        locked_until: null,
        updated_at: now,
      };
    })
    .where("id", "=", jobId)
    .where("locked_by", "=", workerId)
    .returningAll()
    .executeTakeFirst();
  if (!updated) throw await refusal(db, jobId, workerId, "be released");
  if (claimable(updated)) await notifyJobs(db, { kind: "queued" });
  return updated;
}

export interface StaleLeaseOptions {
  /** Also free every lease this (dead) worker holds, expired or not. */
  workerId?: string;
  /**
   * Free every lease. Only for the start of the single Medusa process: it gets a new worker id each run, so every
   * lease in the file belongs to a process that is gone. Never with several worker processes.
   */
  all?: boolean;
  /** @default nowIso() */
  now?: string;
}

export interface ReleasedLeases {
  /** How many leases were freed. */
  released: number;
  /**
   * Jobs that finished instead of going back to the queue: cancelled (a cancel was requested) or failed with
   * error_code ABANDONED (their worker vanished on the last allowed attempt). Tell their users.
   */
  finished: Job[];
}

/**
 * Frees leases whose holder is gone: those that expired, plus all of `workerId`'s, or all with `all`. One UPDATE.
 * The abandoned attempt keeps its count (see the header); the job stays at the step it reached and is claimable
 * again at once. Run at start and on a timer (every lease length or so).
 */
export async function releaseStaleLeases(db: Db, options: StaleLeaseOptions = {}): Promise<ReleasedLeases> {
  const now = options.now ?? nowIso();
  if (options.now !== undefined) checkIso("now", options.now);
  const { workerId, all = false } = options;
  const rows = await db
    .updateTable("jobs")
    .set((eb) => {
      const cancelled = eb("cancel_requested", "=", 1);
      const exhausted = eb("attempts", ">=", eb.ref("max_attempts"));
      const abandoned = eb.and([eb("cancel_requested", "=", 0), exhausted]);
      const finishes = eb.or([cancelled, exhausted]);
      return {
        status: eb
          .case()
          .when(cancelled)
          .then(eb.val<JobStatus>("cancelled"))
          .when(exhausted)
          .then(eb.val<JobStatus>("failed"))
          .else(eb.ref("status"))
          .end(),
        finished_at: eb.case().when(finishes).then(now).else(eb.ref("finished_at")).end(),
        error_code: eb.case().when(abandoned).then("ABANDONED").else(eb.ref("error_code")).end(),
        error_message: eb
          .case()
          .when(abandoned)
          .then("its worker stopped without finishing it on the last allowed attempt")
          .else(eb.ref("error_message"))
          .end(),
        // Worded by its code (err.ABANDONED), not by the attempt before.
        error_key: eb.case().when(abandoned).then(null).else(eb.ref("error_key")).end(),
        error_params: eb.case().when(abandoned).then(null).else(eb.ref("error_params")).end(),
        locked_by: null,
        locked_until: null,
        updated_at: now,
      };
    })
    .where("locked_by", "is not", null)
    .$if(!all, (q) =>
      q.where((eb) =>
        eb.or([
          eb("locked_until", "<", now),
          ...(workerId === undefined ? [] : [eb("locked_by", "=", workerId)]),
        ]),
      ),
    )
    .returningAll()
    .execute();
  if (rows.some(claimable)) await notifyJobs(db, { kind: "queued" });
  return { released: rows.length, finished: rows.filter((r) => FINISHED_STATUSES.includes(r.status)) };
}

/** A job just handed back that another worker may take (now or at its run_at). */
function claimable(job: Job): boolean {
  return !FINISHED_STATUSES.includes(job.status) && job.paused === 0;
}

/**
 * Pauses (`paused` true) or resumes an unfinished job in one UPDATE; returns the job, or undefined when it is
 * finished, missing, or already so. A paused job keeps its row as it is (its place in the claim order comes from
 * its priority and id, its finished steps from its columns) and claimJob skips it; a worker running it sees the
 * pause at once on PostgreSQL (a signal) or on its next heartbeat, stops, and releases it. A job whose cancel is
 * pending is not paused.
 */
export async function setPaused(
  db: Db,
  jobId: number,
  paused: boolean,
  now: string = nowIso(),
): Promise<Job | undefined> {
  const changed = await db
    .updateTable("jobs")
    .set({ paused: paused ? 1 : 0, updated_at: now })
    .where("id", "=", jobId)
    .where("status", "not in", FINISHED_STATUSES)
    .where("paused", "=", paused ? 0 : 1)
    .$if(paused, (q) => q.where("cancel_requested", "=", 0))
    .returningAll()
    .executeTakeFirst();
  if (changed && !paused) await notifyJobs(db, { kind: "resume" });
  // Only a worker holding the job has anything to stop.
  if (changed && paused && changed.locked_by !== null) await notifyJobs(db, { kind: "pause", job: jobId });
  return changed;
}

export type CancelTarget = number | { userId: number } | { batchId: number };

export interface CancelOutcome {
  /** Jobs no worker held: cancelled now (finished). */
  cancelled: Job[];
  /**
   * Jobs a worker holds: flagged; the worker stops at once on PostgreSQL (a signal) or on its next heartbeat, and
   * finishes them as cancelled.
   */
  flagged: Job[];
}

/**
 * Cancels a job, all of a user's unfinished jobs, or a batch's, in one UPDATE: jobs without a live lease become
 * cancelled at once (an expired lease is dropped: its worker gets LEASE_LOST); leased ones get cancel_requested.
 * Finished jobs are left alone. The batch row is the caller's (finishBatchIfDone).
 */
export async function requestCancel(
  db: Db,
  target: CancelTarget,
  now: string = nowIso(),
): Promise<CancelOutcome> {
  const rows = await db
    .updateTable("jobs")
    .set((eb) => {
      const free = eb.or([eb("locked_by", "is", null), eb("locked_until", "<", now)]);
      return {
        status: eb.case().when(free).then(eb.val<JobStatus>("cancelled")).else(eb.ref("status")).end(),
        finished_at: eb.case().when(free).then(now).else(eb.ref("finished_at")).end(),
        locked_by: eb.case().when(free).then(null).else(eb.ref("locked_by")).end(),
        locked_until: eb.case().when(free).then(null).else(eb.ref("locked_until")).end(),
        cancel_requested: 1 as const,
        updated_at: now,
      };
    })
    .where("status", "not in", FINISHED_STATUSES)
    .$call((q) =>
      typeof target === "number"
        ? q.where("id", "=", target)
        : "userId" in target
          ? q.where("user_id", "=", target.userId)
          : q.where("batch_id", "=", target.batchId),
    )
    .returningAll()
    .execute();
  rows.sort((a, b) => a.id - b.id);
  const flagged = rows.filter((r) => r.status !== "cancelled");
  await notifyJobs(
    db,
    flagged.map((r): JobSignal => ({ kind: "cancel", job: r.id })),
  );
  return { cancelled: rows.filter((r) => r.status === "cancelled"), flagged };
}

function checkPids(pids: readonly number[]): void {
  if (!Array.isArray(pids) || pids.some((p) => !Number.isSafeInteger(p) || p <= 0)) {
    throw new TypeError(
      `Expected \`pids\` to be a list of positive process-group ids, got ${JSON.stringify(pids)}`,
    );
  }
}

/** Records the child process groups running for a job (an empty list once they exited). */
export async function setJobPids(db: Db, jobId: number, pids: readonly number[]): Promise<void> {
  checkPids(pids);
  const result = await db
    .updateTable("jobs")
    .set({ pids: JSON.stringify(pids) })
    .where("id", "=", jobId)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw new StoreError("JOB_NOT_FOUND", `job ${jobId} does not exist`);
}

/** Every job with recorded process groups, finished or not: what a restarted Medusa kills (then clears). */
export async function listJobPids(db: Db): Promise<{ jobId: number; pids: number[] }[]> {
  const rows = await db
    .selectFrom("jobs")
    .select(["id", "pids"])
    .where("pids", "<>", "[]")
    .orderBy("id")
    .execute();
  return rows
    .map((r) => ({
      jobId: r.id,
      pids: (JSON.parse(r.pids) as unknown[]).filter(Number.isSafeInteger) as number[],
    }))
    .filter((r) => r.pids.length > 0);
}
