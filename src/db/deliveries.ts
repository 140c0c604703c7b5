/**
 * Messages carrying a job's file. The row (with its random_id) is written before the send, so a crash between
 * send and record resends with the same random_id and Telegram drops the duplicate.
 */
import { randomLong } from "../lib/ids.js";
import { type Db, nowIso } from "./database.js";
import type { DeliveriesTable, Delivery } from "./schema.js";

/**
 * Returns the existing delivery for (job, part, chat) or creates it with a fresh random_id. The insert yields to
 * the UNIQUE (job_id, part, chat_id) constraint, so two callers racing still share one random_id.
 */
export async function planDelivery(
  db: Db,
  delivery: { jobId: number; part: number; chatId: number; target: DeliveriesTable["target"] },
): Promise<Delivery> {
  await db
    .insertInto("deliveries")
    .values({
      job_id: delivery.jobId,
      part: delivery.part,
      chat_id: delivery.chatId,
      target: delivery.target,
      random_id: randomLong().toString(),
    })
    .onConflict((oc) => oc.columns(["job_id", "part", "chat_id"]).doNothing())
    .execute();
  return db
    .selectFrom("deliveries")
    .selectAll()
    .where("job_id", "=", delivery.jobId)
    .where("part", "=", delivery.part)
    .where("chat_id", "=", delivery.chatId)
    .executeTakeFirstOrThrow();
}

export async function markDelivered(
  db: Db,
  id: number,
  messageId: number,
  fileId: number | null,
): Promise<void> {
  await db
    .updateTable("deliveries")
    .set({ message_id: messageId, file_id: fileId, sent_at: nowIso() })
    .where("id", "=", id)
    .execute();
}

export async function listDeliveries(db: Db, jobId: number): Promise<Delivery[]> {
  return db
    .selectFrom("deliveries")
    .selectAll()
    .where("job_id", "=", jobId)
    .orderBy("part")
    .orderBy("id")
    .execute();
}
