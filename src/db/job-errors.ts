/** The error codes jobs ended with lately, for /health: which, how often, when last. Portable SQL (group by). */
import type { Db } from "./database.js";

export interface ErrorCodeCount {
  code: string;
  count: number;
  lastAt: string;
}

export async function recentErrorCodes(db: Db, since: string, limit = 5): Promise<ErrorCodeCount[]> {
  const rows = await db
    .selectFrom("jobs")
    .select((eb) => ["error_code", eb.fn.countAll<number>().as("n"), eb.fn.max("updated_at").as("last_at")])
    .where("error_code", "is not", null)
    .where("updated_at", ">=", since)
    .groupBy("error_code")
    .orderBy("last_at", "desc")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ code: String(r.error_code), count: Number(r.n), lastAt: String(r.last_at) }));
}
