/**
 * What the per-user limits count: jobs asked for in a window and bytes delivered in a window. Plain SQL that
 * PostgreSQL runs as well (count, sum, coalesce; timestamps compared as ISO text).
 */
import type { Db } from "./database.js";

/** Jobs the user asked for at or after `since`, and the oldest of them (when the window frees up). */
export async function jobsCreatedSince(
  db: Db,
  userId: number,
  since: string,
): Promise<{ count: number; oldest: string | null }> {
  const row = await db
    .selectFrom("jobs")
    .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.min("created_at").as("oldest")])
    .where("user_id", "=", userId)
    .where("created_at", ">=", since)
    .executeTakeFirstOrThrow();
  return { count: Number(row.n), oldest: typeof row.oldest === "string" ? row.oldest : null };
}

/** Bytes of the user's jobs delivered (done) at or after `since`. */
export async function deliveredBytesSince(db: Db, userId: number, since: string): Promise<number> {
  const row = await db
    .selectFrom("jobs")
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>("bytes_total"), eb.val(0)).as("bytes"))
    .where("user_id", "=", userId)
    .where("status", "=", "done")
    .where("finished_at", ">=", since)
    .executeTakeFirstOrThrow();
  return Number(row.bytes);
}
