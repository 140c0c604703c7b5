/**
 * What /stats shows the admins: per period the jobs, their outcome, the bytes delivered and the average speeds,
 * the users with most jobs, the most frequent error codes, and the bytes delivered per day. Portable SQL: CASE
 * sums instead of boolean arithmetic, substr on the ISO text for the day.
 */
import type { Db } from "./database.js";

export interface PeriodStats {
  jobs: number;
  done: number;
  failed: number;
  cancelled: number;
  /** Bytes of the jobs delivered. */
  bytes: number;
  /** Bytes and time of the delivered jobs that recorded their download (upload) time: their ratio is the speed. */
  downloadBytes: number;
  downloadMs: number;
  uploadBytes: number;
  uploadMs: number;
}

export async function periodStats(db: Db, since: string | null): Promise<PeriodStats> {
  let query = db.selectFrom("jobs").select((eb) => {
    const doneWith = (
      column: "bytes_total" | "download_ms" | "upload_ms",
      timed?: "download_ms" | "upload_ms",
    ) =>
      eb.fn.sum<number | null>(
        eb
          .case()
          .when(
            eb.and([
              eb("status", "=", "done"),
              ...(timed ? [eb(timed, ">", 0), eb("bytes_total", "is not", null)] : []),
            ]),
          )
          .then(eb.ref(column))
          .else(0)
          .end(),
      );
    const count = (status: "done" | "failed" | "cancelled") =>
      eb.fn.sum<number | null>(eb.case().when("status", "=", status).then(1).else(0).end());
    return [
      eb.fn.countAll<number>().as("jobs"),
      count("done").as("done"),
      count("failed").as("failed"),
      count("cancelled").as("cancelled"),
      doneWith("bytes_total").as("bytes"),
      doneWith("bytes_total", "download_ms").as("downloadBytes"),
      doneWith("download_ms", "download_ms").as("downloadMs"),
      doneWith("bytes_total", "upload_ms").as("uploadBytes"),
      doneWith("upload_ms", "upload_ms").as("uploadMs"),
    ];
  });
  if (since !== null) query = query.where("created_at", ">=", since);
  const row = await query.executeTakeFirstOrThrow();
  return {
    jobs: Number(row.jobs),
    done: Number(row.done ?? 0),
    failed: Number(row.failed ?? 0),
    cancelled: Number(row.cancelled ?? 0),
    bytes: Number(row.bytes ?? 0),
    downloadBytes: Number(row.downloadBytes ?? 0),
    downloadMs: Number(row.downloadMs ?? 0),
    uploadBytes: Number(row.uploadBytes ?? 0),
    uploadMs: Number(row.uploadMs ?? 0),
  };
}

export interface TopUser {
  userId: number;
  username: string | null;
  firstName: string | null;
  jobs: number;
}

export async function topUsers(db: Db, since: string | null, limit: number): Promise<TopUser[]> {
  let query = db
    .selectFrom("jobs")
    .leftJoin("users", "users.id", "jobs.user_id")
    .select((eb) => [
      "jobs.user_id as userId",
      "users.username as username",
      "users.first_name as firstName",
      eb.fn.countAll<number>().as("jobs"),
    ])
    .groupBy(["jobs.user_id", "users.username", "users.first_name"])
    .orderBy("jobs", "desc")
    .orderBy("jobs.user_id")
    .limit(limit);
  if (since !== null) query = query.where("jobs.created_at", ">=", since);
  return (await query.execute()).map((r) => ({ ...r, jobs: Number(r.jobs) }));
}

export async function topErrors(
  db: Db,
  since: string | null,
  limit: number,
): Promise<{ code: string; count: number }[]> {
  let query = db
    .selectFrom("jobs")
    .select((eb) => ["error_code", eb.fn.countAll<number>().as("count")])
    .where("status", "=", "failed")
    .where("error_code", "is not", null)
    .groupBy("error_code")
    .orderBy("count", "desc")
    .orderBy("error_code")
    .limit(limit);
  if (since !== null) query = query.where("created_at", ">=", since);
  return (await query.execute()).map((r) => ({ code: r.error_code ?? "", count: Number(r.count) }));
}

/** Jobs made and bytes delivered per UTC day ("2026-11-25") from `since`, oldest first; days without jobs left out. */
export async function dailyVolume(
  db: Db,
  since: string,
): Promise<{ day: string; jobs: number; bytes: number }[]> {
  const rows = await db
    .selectFrom("jobs")
    .select((eb) => [
      eb.fn<string>("substr", [eb.ref("created_at"), eb.val(1), eb.val(10)]).as("day"),
      eb.fn.countAll<number>().as("jobs"),
      eb.fn
        .sum<number | null>(eb.case().when("status", "=", "done").then(eb.ref("bytes_total")).else(0).end())
        .as("bytes"),
    ])
    .where("created_at", ">=", since)
    .groupBy("day")
    .orderBy("day")
    .execute();
  return rows.map((r) => ({ day: r.day, jobs: Number(r.jobs), bytes: Number(r.bytes ?? 0) }));
}
