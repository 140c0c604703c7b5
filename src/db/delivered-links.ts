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
  const files = await destinationFiles(
    db,
    jobs.map((j) => j.id),
    { account },
  );
  return jobs.flatMap((job) => {
    const found = files.get(job.id);
    return found ? [{ job, files: found }] : [];
  });
}

/**
 * The documents each of `jobIds` reached its destination as, in part order, for the jobs whose parts 1..n are all
 * recorded (anything else is a delivery that did not finish as recorded). `account`: only documents stored by it;
 * `sentOnly`: only parts whose message id is known.
 */
export async function destinationFiles(
  db: Db,
  jobIds: readonly number[],
  filter: { account?: FileRecord["account"]; sentOnly?: boolean } = {},
): Promise<Map<number, FileRecord[]>> {
  const complete = new Map<number, FileRecord[]>();
  if (jobIds.length === 0) return complete;
  let query = db
    .selectFrom("deliveries as d")
    .innerJoin("files as f", "f.id", "d.file_id")
    .selectAll("f")
    .select(["d.job_id as delivery_job_id", "d.part as delivery_part"])
    .where("d.job_id", "in", [...jobIds])
    .where("d.target", "=", "destination");
  if (filter.account !== undefined) query = query.where("f.account", "=", filter.account);
  if (filter.sentOnly) query = query.where("d.message_id", "is not", null);
  const rows = await query.orderBy("d.job_id").orderBy("d.part").execute();
  for (const jobId of jobIds) {
    const parts = rows.filter((r) => r.delivery_job_id === jobId);
    if (parts.length === 0 || parts.some((p, i) => p.delivery_part !== i + 1)) continue;
    complete.set(
      jobId,
      parts.map(({ delivery_job_id: _job, delivery_part: _part, ...file }) => file),
    );
  }
  return complete;
}
