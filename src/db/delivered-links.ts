/**
 * Links delivered before, with the stored documents their parts went out as: what a repeated link is re-sent
 * from by reference, with no download and no upload. Plain joins and comparisons (no SQLite-only functions), so
 * the same queries run on PostgreSQL.
 */
import type { Db } from "./database.js";
import type { FileRecord, Job } from "./schema.js";

export interface DeliveredLink {
  job: Pick<Job, "id" | "options" | "name" | "source_kind" | "bytes_total">;
  /** The documents of its parts, in part order (1, 2, …). */
  files: FileRecord[];
}

/** How many earlier deliveries of one link are looked at: the newest ones; options rarely vary more. */
const CANDIDATES = 20;

/**
 * The newest done jobs of `sourceUrl` (other than `exceptJobId`) whose every part reached its destination as a
 * document stored by `account`, newest first. A job with a part missing (split, then one part lost) is left out.
 */
export async function findDeliveredLinks(
  db: Db,
  sourceUrl: string,
  account: FileRecord["account"],
  exceptJobId: number,
): Promise<DeliveredLink[]> {
  const jobs = await db
    .selectFrom("jobs")
    .select(["id", "options", "name", "source_kind", "bytes_total"])
    .where("source_url", "=", sourceUrl)
    .where("status", "=", "done")
    .where("id", "<>", exceptJobId)
    .orderBy("id", "desc")
    .limit(CANDIDATES)
    .execute();
  if (jobs.length === 0) return [];
  const rows = await db
    .selectFrom("deliveries as d")
    .innerJoin("files as f", "f.id", "d.file_id")
    .selectAll("f")
    .select(["d.job_id as delivery_job_id", "d.part as delivery_part"])
    .where(
      "d.job_id",
      "in",
      jobs.map((j) => j.id),
    )
    .where("d.target", "=", "destination")
    .where("f.account", "=", account)
    .orderBy("d.job_id")
    .orderBy("d.part")
    .execute();
  const found: DeliveredLink[] = [];
  for (const job of jobs) {
    const parts = rows.filter((r) => r.delivery_job_id === job.id);
    // Parts 1..n, each once: anything else is a delivery that did not finish as recorded.
    if (parts.length === 0 || parts.some((p, i) => p.delivery_part !== i + 1)) continue;
    found.push({
      job,
      files: parts.map(({ delivery_job_id: _job, delivery_part: _part, ...file }) => file),
    });
  }
  return found;
}
