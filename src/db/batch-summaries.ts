/**
 * The summary of a finished batch, delivered once to each chat: the text is saved once (every chat and every
 * retry send the same), each chat's row with its random_id is written before the send, and the batch is marked
 * done with it once every chat has it. Time is ISO-8601 UTC text; no SQLite-only functions in the queries.
 */
import { randomLong } from "../lib/ids.js";
import { type Db, nowIso } from "./database.js";
import type { SkippedLine } from "./jobs.js";
import { type BatchSummaryDelivery, FINISHED_STATUSES, type Job } from "./schema.js";

/**
 * Batches whose summary is owed: ended (done or cancelled) without summary_sent_at, or still marked running
 * though none of their jobs is left (a crash between the last job's end and the batch's). Oldest first, bounded.
 */
export async function listOwedSummaries(db: Db, limit = 100): Promise<number[]> {
  const rows = await db
    .selectFrom("batches as b")
    .select("b.id")
    .where("b.summary_sent_at", "is", null)
    .where((eb) =>
      eb.or([
        eb("b.status", "<>", "running"),
        eb.not(
          eb.exists(
            eb
              .selectFrom("jobs as j")
              .select("j.id")
              .whereRef("j.batch_id", "=", "b.id")
              .where("j.status", "not in", FINISHED_STATUSES),
          ),
        ),
      ]),
    )
    .orderBy("b.id")
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/** What a summary is made of: the batch's jobs in line order. */
export type BatchJobOutcome = Pick<
  Job,
  | "id"
  | "status"
  | "position"
  | "batch_line"
  | "name"
  | "error_code"
  | "error_message"
  | "error_key"
  | "error_params"
  | "bytes_total"
  | "started_at"
  | "finished_at"
>;

export async function listBatchOutcomes(db: Db, batchId: number): Promise<BatchJobOutcome[]> {
  return db
    .selectFrom("jobs")
    .select([
      "id",
      "status",
      "position",
      "batch_line",
      "name",
      "error_code",
      "error_message",
      "error_key",
      "error_params",
      "bytes_total",
      "started_at",
      "finished_at",
    ])
    .where("batch_id", "=", batchId)
    .orderBy("position")
    .orderBy("id")
    .execute();
}

export function skippedLines(batch: { skipped: string }): SkippedLine[] {
  try {
    const parsed = JSON.parse(batch.skipped) as unknown;
    return Array.isArray(parsed) ? (parsed as SkippedLine[]) : [];
  } catch {
    return []; // a row written by hand: nothing skipped
  }
}

/** Saves the rendered summary unless one was saved before; returns the one saved (the first wins). */
export async function saveSummaryText(db: Db, batchId: number, text: string): Promise<string> {
  await db
    .updateTable("batches")
    .set({ summary: text })
    .where("id", "=", batchId)
    .where("summary", "is", null)
    .execute();
  const row = await db
    .selectFrom("batches")
    .select("summary")
    .where("id", "=", batchId)
    .executeTakeFirstOrThrow();
  return row.summary ?? text;
}

/**
 * Returns the summary's row for (batch, chat), creating it with a fresh random_id. The insert yields to the UNIQUE
 * (batch_id, chat_id) constraint, so two callers racing share one random_id.
 */
export async function planSummary(
  db: Db,
  summary: { batchId: number; chatId: number; target: BatchSummaryDelivery["target"] },
): Promise<BatchSummaryDelivery> {
  await db
    .insertInto("batch_summaries")
    .values({
      batch_id: summary.batchId,
      chat_id: summary.chatId,
      target: summary.target,
      random_id: randomLong().toString(),
    })
    .onConflict((oc) => oc.columns(["batch_id", "chat_id"]).doNothing())
    .execute();
  return db
    .selectFrom("batch_summaries")
    .selectAll()
    .where("batch_id", "=", summary.batchId)
    .where("chat_id", "=", summary.chatId)
    .executeTakeFirstOrThrow();
}

export async function markSummarySent(db: Db, id: number, messageId: number): Promise<void> {
  await db
    .updateTable("batch_summaries")
    .set({ message_id: messageId, sent_at: nowIso() })
    .where("id", "=", id)
    .execute();
}

/** The chat refused the summary for good (a log channel that no longer lets the bot post): skipped. */
export async function markSummaryRefused(db: Db, id: number, code: string): Promise<void> {
  await db
    .updateTable("batch_summaries")
    .set({ refused: code, sent_at: nowIso() })
    .where("id", "=", id)
    .execute();
}

/** Every chat has the summary: nothing is owed for the batch any more. */
export async function markSummaryDone(db: Db, batchId: number): Promise<void> {
  await db
    .updateTable("batches")
    .set({ summary_sent_at: nowIso() })
    .where("id", "=", batchId)
    .where("summary_sent_at", "is", null)
    .execute();
}

export async function listSummaryDeliveries(db: Db, batchId: number): Promise<BatchSummaryDelivery[]> {
  return db.selectFrom("batch_summaries").selectAll().where("batch_id", "=", batchId).orderBy("id").execute();
}
