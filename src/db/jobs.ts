/**
 * Jobs and batches. A job's status is written before each step starts; `listUnfinished` is what a restart resumes.
 * Transitions are checked here so that no caller can move a job backwards by mistake.
 */
import { type Db, nowIso, type Trx } from "./database.js";
import { StoreError } from "./errors.js";
import {
  type Batch,
  FINISHED_STATUSES,
  type Job,
  type JobStatus,
  type JobUpdate,
  type NewJob,
} from "./schema.js";

const STEPS: readonly JobStatus[] = ["queued", "downloading", "processing", "uploading", "sending", "done"];

/** May a job go from `from` to `to`? Forward by steps (skipping allowed), to failed/cancelled, or failed → queued. */
export function canTransition(from: JobStatus, to: JobStatus): boolean {
  if (from === to) return !FINISHED_STATUSES.includes(from);
  if (from === "failed") return to === "queued"; // a retry
  if (FINISHED_STATUSES.includes(from)) return false;
  if (to === "failed" || to === "cancelled") return true;
  return STEPS.indexOf(to) > STEPS.indexOf(from);
}

export async function createJob(db: Db, job: NewJob): Promise<Job> {
  return db.insertInto("jobs").values(job).returningAll().executeTakeFirstOrThrow();
}

export async function getJob(db: Db, id: number): Promise<Job | undefined> {
  return db.selectFrom("jobs").selectAll().where("id", "=", id).executeTakeFirst();
}

const ALL_STATUSES: readonly JobStatus[] = [...STEPS, "failed", "cancelled"];

/**
 * Moves a job to `status` with extra column changes. One conditional UPDATE, so it is atomic on its own and can
 * run inside a caller's transaction. Throws JOB_STATE when the move is not allowed (e.g. the job was cancelled
 * meanwhile) and JOB_NOT_FOUND when there is no such job.
 */
export async function transitionJob(
  db: Db,
  id: number,
  status: JobStatus,
  patch: JobUpdate = {},
): Promise<Job> {
  const from = ALL_STATUSES.filter((s) => canTransition(s, status));
  const now = nowIso();
  const finished = FINISHED_STATUSES.includes(status);
  const updated = await db
    .updateTable("jobs")
    .set((eb) => ({
      ...patch,
      status,
      updated_at: now,
      ...(status === "downloading" ? { started_at: eb.fn.coalesce("started_at", eb.val(now)) } : {}),
      ...(finished ? { finished_at: now } : {}),
      ...(status === "queued" ? { finished_at: null, error_code: null, error_message: null } : {}),
    }))
    .where("id", "=", id)
    .where("status", "in", from)
    .returningAll()
    .executeTakeFirst();
  if (updated) return updated;
  const current = await db.selectFrom("jobs").select("status").where("id", "=", id).executeTakeFirst();
  if (!current) throw new StoreError("JOB_NOT_FOUND", `job ${id} does not exist`);
  throw new StoreError("JOB_STATE", `job ${id} is ${current.status}; it cannot become ${status}`);
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

/** Inserts a batch and its jobs; the caller's transaction makes them appear together or not at all. */
export async function createBatch(
  trx: Trx,
  batch: {
    userId: number;
    chatId: number;
    sourceName: string | null;
    jobs: Omit<NewJob, "batch_id" | "position">[];
  },
): Promise<{ batch: Batch; jobs: Job[] }> {
  const created = await trx
    .insertInto("batches")
    .values({
      user_id: batch.userId,
      chat_id: batch.chatId,
      source_name: batch.sourceName,
      total: batch.jobs.length,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const jobs: Job[] = [];
  for (const [index, job] of batch.jobs.entries()) {
    jobs.push(await createJob(trx, { ...job, batch_id: created.id, position: index + 1 }));
  }
  return { batch: created, jobs };
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
