/**
 * A batch as /merge sees it: found from a message of its chat (the .txt that started it, the /batch command, its
 * status or its summary), and the stored documents its done jobs reached their destination as, in list order.
 * Plain joins and comparisons, so the same queries run on PostgreSQL.
 */
import type { Db } from "./database.js";
import { destinationFiles } from "./delivered-links.js";
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
  const files = await destinationFiles(
    db,
    jobs.map((j) => j.id),
    { sentOnly: true },
  );
  return jobs.flatMap((job) => {
    const found = files.get(job.id);
    return found ? [{ jobId: job.id, position: job.position, name: job.name, files: found }] : [];
  });
}
