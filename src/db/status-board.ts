/**
 * The jobs a chat's live status message shows. A board is one message (jobs.status_message_id): every unfinished
 * job requested in the chat is attached to it, and the finished ones attached to it stay on it with their final
 * state. So the board survives a restart: its message id and its jobs are in the rows.
 */
import type { Db } from "./database.js";
import { FINISHED_STATUSES, type Job } from "./schema.js";

/** A board lists at most this many finished jobs (the newest): a chat that keeps adding jobs cannot grow it forever. */
export const MAX_FINISHED_ON_BOARD = 100;

export interface BoardRow {
  job: Job;
  /** The destination message of the job's first part, once delivered (0 when an earlier attempt's id was lost). */
  deliveredMessageId: number | null;
}

/**
 * Attaches to status message `messageId` the chat's unfinished jobs, and the jobs that finished since `since`
 * without ever being on a board (queued and done between two looks of the board); returns how many it attached.
 */
export async function attachToStatusMessage(
  db: Db,
  chatId: number,
  messageId: number,
  since: string,
): Promise<number> {
  const result = await db
    .updateTable("jobs")
    .set({ status_message_id: messageId })
    .where("request_chat_id", "=", chatId)
    .where((eb) =>
      eb.or([
        eb.and([
          eb("status", "not in", FINISHED_STATUSES),
          eb.or([eb("status_message_id", "is", null), eb("status_message_id", "<>", messageId)]),
        ]),
        eb.and([eb("status_message_id", "is", null), eb("finished_at", ">=", since)]),
      ]),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Moves every job of status message `from` to `to` (the board's message was deleted and posted again). */
export async function moveBoard(db: Db, chatId: number, from: number, to: number): Promise<void> {
  await db
    .updateTable("jobs")
    .set({ status_message_id: to })
    .where("request_chat_id", "=", chatId)
    .where("status_message_id", "=", from)
    .execute();
}

/** The status message the chat's unfinished jobs are attached to (the newest), if any: the board to resume. */
export async function currentStatusMessage(db: Db, chatId: number): Promise<number | undefined> {
  const row = await db
    .selectFrom("jobs")
    .select((eb) => eb.fn.max("status_message_id").as("message"))
    .where("request_chat_id", "=", chatId)
    .where("status", "not in", FINISHED_STATUSES)
    .executeTakeFirst();
  return row?.message ?? undefined;
}

/** Chats (other than `except`, e.g. the terminal's 0) with unfinished jobs: the boards to bring back at start. */
export async function chatsWithUnfinishedJobs(db: Db, except: number): Promise<number[]> {
  const rows = await db
    .selectFrom("jobs")
    .select("request_chat_id")
    .distinct()
    .where("status", "not in", FINISHED_STATUSES)
    .where("request_chat_id", "<>", except)
    .orderBy("request_chat_id")
    .execute();
  return rows.map((r) => r.request_chat_id);
}

export async function unfinishedJobsInChat(db: Db, chatId: number): Promise<Job[]> {
  return db
    .selectFrom("jobs")
    .selectAll()
    .where("request_chat_id", "=", chatId)
    .where("status", "not in", FINISHED_STATUSES)
    .orderBy("id")
    .execute();
}

/**
 * What board `messageId` of chat `chatId` shows: the chat's unfinished jobs, and the newest MAX_FINISHED_ON_BOARD
 * finished jobs attached to that message, each with its delivered message. With no message yet, the unfinished only.
 */
export async function boardRows(db: Db, chatId: number, messageId: number | undefined): Promise<BoardRow[]> {
  const unfinished = await unfinishedJobsInChat(db, chatId);
  const finished =
    messageId === undefined
      ? []
      : await db
          .selectFrom("jobs")
          .selectAll()
          .where("request_chat_id", "=", chatId)
          .where("status_message_id", "=", messageId)
          .where("status", "in", FINISHED_STATUSES)
          .orderBy("id", "desc")
          .limit(MAX_FINISHED_ON_BOARD)
          .execute();
  const jobs = [...unfinished, ...finished];
  const doneIds = finished.filter((j) => j.status === "done").map((j) => j.id);
  const delivered =
    doneIds.length === 0
      ? []
      : await db
          .selectFrom("deliveries")
          .select(["job_id", "message_id"])
          .where("job_id", "in", doneIds)
          .where("target", "=", "destination")
          .where("message_id", "is not", null)
          .orderBy("part")
          .orderBy("id")
          .execute();
  const first = new Map<number, number>();
  for (const d of delivered)
    if (d.message_id !== null && !first.has(d.job_id)) first.set(d.job_id, d.message_id);
  return jobs.map((job) => ({ job, deliveredMessageId: first.get(job.id) ?? null }));
}
