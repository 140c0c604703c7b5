/** What the owner's notices ask of the jobs table: failures lately, the newest outcomes, the unfinished at start. */
import type { Db } from "./database.js";
import { FINISHED_STATUSES } from "./schema.js";

/** Jobs that failed for good at or after `since` (ISO text), with their most frequent codes first. */
export async function failuresSince(
  db: Db,
  since: string,
  topCodes = 3,
): Promise<{ count: number; codes: { code: string; count: number }[] }> {
  const rows = await db
    .selectFrom("jobs")
    .select((eb) => ["error_code", eb.fn.countAll<number>().as("n")])
    .where("status", "=", "failed")
    .where("finished_at", ">=", since)
    .groupBy("error_code")
    .execute();
  const codes = rows
    .map((r) => ({ code: r.error_code ?? "UNKNOWN", count: Number(r.n) }))
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  return { count: codes.reduce((sum, c) => sum + c.count, 0), codes: codes.slice(0, topCodes) };
}

/** The statuses of the `n` jobs that finished last (done or failed; cancelled ones say nothing about health). */
export async function lastOutcomes(db: Db, n: number): Promise<("done" | "failed")[]> {
  const rows = await db
    .selectFrom("jobs")
    .select("status")
    .where("status", "in", ["done", "failed"])
    .where("finished_at", "is not", null)
    .orderBy("finished_at", "desc")
    .orderBy("id", "desc")
    .limit(n)
    .execute();
  return rows.map((r) => r.status as "done" | "failed");
}

/** Unfinished jobs (the runner picks them all up at start) and how many of them a worker held when it stopped. */
export async function unfinishedJobs(db: Db): Promise<{ unfinished: number; interrupted: number }> {
  const row = await db
    .selectFrom("jobs")
    .select((eb) => [
      eb.fn.countAll<number>().as("unfinished"),
      eb.fn.count<number>("locked_by").as("interrupted"),
    ])
    .where("status", "not in", [...FINISHED_STATUSES])
    .executeTakeFirstOrThrow();
  return { unfinished: Number(row.unfinished), interrupted: Number(row.interrupted) };
}
