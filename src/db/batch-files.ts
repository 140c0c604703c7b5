/**
 * A batch as /merge sees it: found from a message of its chat (the .txt that started it, the /batch command, its
 * status or its summary), and the stored documents its done jobs reached their destination as, in list order.
 * Plain joins and comparisons, so the same queries run on PostgreSQL.
 */
import type { Db } from "./database.js";
import type { Batch, FileRecord } from "./schema.js";

/**
 * The batch a message of `chatId` belongs to: the document or /batch command that queued it, its status message,
 * or its summary. The newest when several match (one list queued twice with /batch ranges).
 */
export async function findBatchByMessage(
  db: Db,
  chatId: number,
  messageId: number,
): Promise<Batch | undefined> {
  const byRequest = await db
    .selectFrom("jobs")
    .select("batch_id")
    .where("request_chat_id", "=", chatId)
    .where("request_message_id", "=", messageId)
    .where("batch_id", "is not", null)
    .orderBy("batch_id", "desc")
    .executeTakeFirst();
  const bySummary = await db
    .selectFrom("batch_summaries")
    .select("batch_id")
    .where("chat_id", "=", chatId)
    .where("target", "=", "chat")
    .where("message_id", "=", messageId)
    .orderBy("batch_id", "desc")
    .executeTakeFirst();
  const byStatus = await db
    .selectFrom("batches")
    .select("id")
    .where("chat_id", "=", chatId)
    .where("status_message_id", "=", messageId)
    .orderBy("id", "desc")
    .executeTakeFirst();
  const ids = [byRequest?.batch_id, bySummary?.batch_id, byStatus?.id].filter(
    (id): id is number => typeof id === "number",
  );
  if (ids.length === 0) return undefined;
  return db
    .selectFrom("batches")
    .selectAll()
    .where("id", "=", Math.max(...ids))
    .executeTakeFirst();
}

/** One delivered link of a batch: its place in the list and its stored documents, in part order. */
export interface BatchDelivery {
  jobId: number;
  position: number | null;
  name: string | null;
  files: FileRecord[];
}

/**
 * The batch's done jobs in list order, each with the documents its parts reached the destination as. A job whose
 * parts are not all recorded (1..n) is left out: it cannot be put together again.
 */
export async function listBatchDeliveries(db: Db, batchId: number): Promise<BatchDelivery[]> {
  const jobs = await db
    .selectFrom("jobs")
    .select(["id", "position", "name"])
    .where("batch_id", "=", batchId)
    .where("status", "=", "done")
    .orderBy("position")
    .orderBy("id")
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
    .where("d.message_id", "is not", null)
    .orderBy("d.job_id")
    .orderBy("d.part")
    .execute();
  const found: BatchDelivery[] = [];
  for (const job of jobs) {
    const parts = rows.filter((r) => r.delivery_job_id === job.id);
    if (parts.length === 0 || parts.some((p, i) => p.delivery_part !== i + 1)) continue;
    found.push({
      jobId: job.id,
      position: job.position,
      name: job.name,
      files: parts.map(({ delivery_job_id: _job, delivery_part: _part, ...file }) => file),
    });
  }
  return found;
}
