/**
 * What a process that runs no jobs (the gateway) reads to follow the jobs that other processes (the workers) run:
 * the unfinished jobs' marks, one cheap read of the claim index. A job that leaves this set has finished.
 */
import { sql } from "kysely";
import type { Db } from "./database.js";
import { FINISHED_STATUSES, type Job } from "./schema.js";

/** The columns whose change is worth a look: a claim, a step, progress, a lease given back, a press. */
export type JobMark = Pick<
  Job,
  | "id"
  | "request_chat_id"
  | "batch_id"
  | "status"
  | "updated_at"
  | "locked_by"
  | "bytes_done"
  | "cancel_requested"
  | "paused"
>;

export async function unfinishedJobMarks(db: Db): Promise<JobMark[]> {
  return (
    db
      .selectFrom("jobs")
      .select([
        "id",
        "request_chat_id",
        "batch_id",
        "status",
        "updated_at",
        "locked_by",
        "bytes_done",
        "cancel_requested",
        "paused",
      ])
      // As literals, so that the partial index jobs_claim applies (SQLite does not match a bound parameter to it).
      .where(
        "status",
        "not in",
        FINISHED_STATUSES.map((s) => sql.lit(s)),
      )
      .execute()
  );
}
