/**
 * Jobs and batches as rows: create, read, move between statuses (checked by canTransition), progress. The queue
 * they form (claims, leases, retries, cancels) is job-queue.ts; positions and speeds are queue-overview.ts.
 * Time is ISO-8601 UTC text compared as strings (they sort), so the queries hold no SQLite date functions.
 */
import type { ExpressionBuilder } from "kysely";
import { type Db, nowIso, type Trx } from "./database.js";
import { StoreError } from "./errors.js";
import {
  type Batch,
  type Database,
  FINISHED_STATUSES,
  type Job,
  type JobStatus,
  type JobUpdate,
  type NewJob,
} from "./schema.js";

const STEPS: readonly JobStatus[] = ["queued", "downloading", "processing", "uploading", "sending", "done"];
export const ALL_STATUSES: readonly JobStatus[] = [...STEPS, "failed", "cancelled"];
/** Statuses a worker may claim: everything not finished. */
export const UNFINISHED_STATUSES: readonly JobStatus[] = ALL_STATUSES.filter(
  (s) => !FINISHED_STATUSES.includes(s),
);

/** May a job go from `from` to `to`? Forward by steps (skipping allowed), to failed/cancelled, or failed → queued. */
export function canTransition(from: JobStatus, to: JobStatus): boolean {
  if (from === to) return !FINISHED_STATUSES.includes(from);
  if (from === "failed") return to === "queued"; // a retry
  if (FINISHED_STATUSES.includes(from)) return false;
  if (to === "failed" || to === "cancelled") return true;
  return STEPS.indexOf(to) > STEPS.indexOf(from);
}

/**
 * Columns a step may write with a transition: its results and resume state. The status, the lease, attempts, the
 * cancel flag, pids and the timestamps belong to the store.
 */
export type JobPatch = Omit<
  JobUpdate,
  | "id"
  | "user_id"
  | "status"
  | "attempts"
  | "max_attempts"
  | "locked_by"
  | "locked_until"
  | "claimed_at"
  | "cancel_requested"
  | "pids"
  | "created_at"
  | "updated_at"
  | "started_at"
  | "finished_at"
>;

/** What a request for a job says; the queue fills in the rest. */
export type JobRequest = Pick<
  NewJob,
  | "user_id"
  | "request_chat_id"
  | "request_message_id"
  | "destination_chat_id"
  | "status_message_id"
  | "source_url"
  | "source_kind"
  | "name"
  | "options"
  | "priority"
  | "run_at"
  | "max_attempts"
  | "bytes_total"
  | "batch_line"
>;

/** `now` plus `ms`, as stored. */
export function later(now: string, ms: number): string {
  return new Date(Date.parse(now) + ms).toISOString();
}

export function checkIso(name: string, value: string): void {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new TypeError(
      `Expected \`${name}\` to be an ISO-8601 UTC time like 2024-01-31T12:00:00.000Z, got ${value}`,
    );
  }
}

export function checkLeaseMs(leaseMs: number): void {
  if (!Number.isSafeInteger(leaseMs) || leaseMs <= 0) {
    throw new TypeError(`Expected \`leaseMs\` to be a positive whole number of milliseconds, got ${leaseMs}`);
  }
}

export function checkWorkerId(workerId: string): void {
  if (typeof workerId !== "string" || workerId.length === 0) {
    throw new TypeError(`Expected \`workerId\` to be a non-empty string, got ${JSON.stringify(workerId)}`);
  }
}

/** The columns a move to `status` changes besides the caller's patch. */
export function statusChange(eb: ExpressionBuilder<Database, "jobs">, status: JobStatus, now: string) {
  // failed → queued is a retry by hand: a fresh start with a full set of attempts, due now. (queued → queued is
  // a worker saving a patch: nothing to reset.)
  const retry = eb("status", "=", "failed");
  return {
    status,
    updated_at: now,
    ...(status === "downloading" ? { started_at: eb.fn.coalesce("started_at", eb.val(now)) } : {}),
    // A finished job holds no lease.
    ...(FINISHED_STATUSES.includes(status) ? { finished_at: now, locked_by: null, locked_until: null } : {}),
    ...(status === "queued"
      ? {
          finished_at: null,
          error_code: eb.case().when(retry).then(null).else(eb.ref("error_code")).end(),
          error_message: eb.case().when(retry).then(null).else(eb.ref("error_message")).end(),
          error_key: eb.case().when(retry).then(null).else(eb.ref("error_key")).end(),
          error_params: eb.case().when(retry).then(null).else(eb.ref("error_params")).end(),
          attempts: eb.case().when(retry).then(0).else(eb.ref("attempts")).end(),
          cancel_requested: eb
            .case()
            .when(retry)
            .then(eb.val<0 | 1>(0))
            .else(eb.ref("cancel_requested"))
            .end(),
          run_at: eb.case().when(retry).then(now).else(eb.ref("run_at")).end(),
        }
      : {}),
  };
}

/** Why a conditional UPDATE of job `id` changed nothing. */
export async function refusal(
  db: Db,
  id: number,
  owner: string | undefined,
  wanted: string,
): Promise<StoreError> {
  const current = await db
    .selectFrom("jobs")
    .select(["status", "locked_by"])
    .where("id", "=", id)
    .executeTakeFirst();
  if (!current) return new StoreError("JOB_NOT_FOUND", `job ${id} does not exist`);
  if (owner !== undefined && current.locked_by !== owner) {
    return new StoreError(
      "LEASE_LOST",
      `job ${id} is leased by ${current.locked_by ?? "nobody"}, not ${owner}; it cannot ${wanted}`,
    );
  }
  return new StoreError("JOB_STATE", `job ${id} is ${current.status}; it cannot ${wanted}`);
}

/** One conditional UPDATE: the move is allowed from the current status (and, with `owner`, only for the owner). */
export async function moveJob(
  db: Db,
  id: number,
  status: JobStatus,
  patch: JobPatch,
  owner: string | undefined,
  now: string,
): Promise<Job> {
  const from = ALL_STATUSES.filter((s) => canTransition(s, status));
  let query = db
    .updateTable("jobs")
    .set((eb) => ({ ...patch, ...statusChange(eb, status, now) }))
    .where("id", "=", id)
    .where("status", "in", from);
  if (owner !== undefined) query = query.where("locked_by", "=", owner);
  const updated = await query.returningAll().executeTakeFirst();
  if (updated) return updated;
  throw await refusal(db, id, owner, `become ${status}`);
}

export async function createJob(db: Db, job: NewJob): Promise<Job> {
  const now = nowIso();
  return db
    .insertInto("jobs")
    .values({ run_at: now, ...job })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function getJob(db: Db, id: number): Promise<Job | undefined> {
  return db.selectFrom("jobs").selectAll().where("id", "=", id).executeTakeFirst();
}

/**
 * Moves a job to `status` with extra column changes, whoever holds it: for administrative moves. Workers use
 * advanceJob. One conditional UPDATE, so it is atomic on its own and can run inside a caller's transaction. Throws
 * JOB_STATE when the move is not allowed (e.g. the job was cancelled meanwhile) and JOB_NOT_FOUND when there is no
 * such job. A move to a finished status drops the lease: its holder gets LEASE_LOST on its next write.
 */
export async function transitionJob(
  db: Db,
  id: number,
  status: JobStatus,
  patch: JobPatch = {},
): Promise<Job> {
  return moveJob(db, id, status, patch, undefined, nowIso());
}

/** Progress writes skip the transition check: they are frequent and change no state. */
export async function recordProgress(db: Db, id: number, bytesDone: number, bytesTotal: number | null) {
  await db
    .updateTable("jobs")
    .set({ bytes_done: bytesDone, bytes_total: bytesTotal, updated_at: nowIso() })
    .where("id", "=", id)
    .where("status", "not in", FINISHED_STATUSES)
    .execute();
}

export async function listUnfinished(db: Db): Promise<Job[]> {
  return db
    .selectFrom("jobs")
    .selectAll()
    .where("status", "not in", FINISHED_STATUSES)
    .orderBy("id")
    .execute();
}

export async function countUnfinishedForUser(db: Db, userId: number): Promise<number> {
  const row = await db
    .selectFrom("jobs")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("user_id", "=", userId)
    .where("status", "not in", FINISHED_STATUSES)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function listJobsForUser(db: Db, userId: number, limit = 20): Promise<Job[]> {
  return db
    .selectFrom("jobs")
    .selectAll()
    .where("user_id", "=", userId)
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
}

/** A line of a batch file that never became a job (not a link, a repeated link), as its summary reports it. */
export interface SkippedLine {
  line: number;
  reason: string;
}

export async function insertBatch(
  trx: Trx,
  batch: {
    userId: number;
    chatId: number;
    sourceName: string | null;
    total: number;
    now: string;
    skipped?: readonly SkippedLine[] | undefined;
  },
): Promise<Batch> {
  return trx
    .insertInto("batches")
    .values({
      user_id: batch.userId,
      chat_id: batch.chatId,
      source_name: batch.sourceName,
      total: batch.total,
      created_at: batch.now,
      skipped: JSON.stringify(batch.skipped ?? []),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function insertJobs(
  trx: Db,
  jobs: readonly Omit<NewJob, "batch_id" | "position">[],
  batchId: number | null,
  now: string,
): Promise<Job[]> {
  const created: Job[] = [];
  for (const [index, job] of jobs.entries()) {
    created.push(
      await trx
        .insertInto("jobs")
        .values({
          run_at: now,
          created_at: now,
          updated_at: now,
          ...job,
          batch_id: batchId,
          position: batchId === null ? null : index + 1,
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
  }
  return created;
}

/** Inserts a batch and its jobs, without caps; the caller's transaction makes them appear together or not at all. */
export async function createBatch(
  trx: Trx,
  batch: {
    userId: number;
    chatId: number;
    sourceName: string | null;
    jobs: Omit<NewJob, "batch_id" | "position">[];
    skipped?: readonly SkippedLine[];
  },
): Promise<{ batch: Batch; jobs: Job[] }> {
  const now = nowIso();
  const created = await insertBatch(trx, { ...batch, total: batch.jobs.length, now });
  return { batch: created, jobs: await insertJobs(trx, batch.jobs, created.id, now) };
}

export interface BatchProgress {
  total: number;
  done: number;
  failed: number;
  cancelled: number;
  pending: number;
}

export async function batchProgress(db: Db, batchId: number): Promise<BatchProgress> {
  const rows = await db
    .selectFrom("jobs")
    .select(["status", (eb) => eb.fn.countAll<number>().as("n")])
    .where("batch_id", "=", batchId)
    .groupBy("status")
    .execute();
  const count = (s: JobStatus) => Number(rows.find((r) => r.status === s)?.n ?? 0);
  const total = rows.reduce((sum, r) => sum + Number(r.n), 0);
  const done = count("done");
  const failed = count("failed");
  const cancelled = count("cancelled");
  return { total, done, failed, cancelled, pending: total - done - failed - cancelled };
}

/** Marks a batch finished once none of its jobs is pending; returns the batch when it just finished. */
export async function finishBatchIfDone(db: Db, batchId: number): Promise<Batch | undefined> {
  const progress = await batchProgress(db, batchId);
  if (progress.pending > 0) return undefined;
  return db
    .updateTable("batches")
    .set({ status: progress.cancelled === progress.total ? "cancelled" : "done", finished_at: nowIso() })
    .where("id", "=", batchId)
    .where("status", "=", "running")
    .returningAll()
    .executeTakeFirst();
}

export async function getBatch(db: Db, id: number): Promise<Batch | undefined> {
  return db.selectFrom("batches").selectAll().where("id", "=", id).executeTakeFirst();
}

export interface RecentRequests {
  /** Links and batches the user asked for since the given time (a batch counts once, whatever its size). */
  count: number;
  /** When the oldest of them was made: the window frees up a minute after it. */
  oldest: string | null;
}

/** What a rate limit counts: single jobs (not part of a batch) and batches the user made since `since`. */
export async function requestsSince(db: Db, userId: number, since: string): Promise<RecentRequests> {
  const jobs = await db
    .selectFrom("jobs")
    .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.min("created_at").as("oldest")])
    .where("user_id", "=", userId)
    .where("batch_id", "is", null)
    .where("created_at", ">=", since)
    .executeTakeFirstOrThrow();
  const batches = await db
    .selectFrom("batches")
    .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.min("created_at").as("oldest")])
    .where("user_id", "=", userId)
    .where("created_at", ">=", since)
    .executeTakeFirstOrThrow();
  const oldest = [jobs.oldest, batches.oldest].filter((t): t is string => typeof t === "string").sort()[0];
  return { count: Number(jobs.n) + Number(batches.n), oldest: oldest ?? null };
}

/** The jobs one chat message asked for (a redelivered update must not queue them twice). */
export async function jobsOfRequest(db: Db, chatId: number, messageId: number): Promise<Job[]> {
  return db
    .selectFrom("jobs")
    .selectAll()
    .where("request_chat_id", "=", chatId)
    .where("request_message_id", "=", messageId)
    .orderBy("id")
    .execute();
}
