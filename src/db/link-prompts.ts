/** Questions about a link the bot is waiting on (src/bot/link-prompts.ts): quality buttons, playlist confirms. */
import type { Db, Trx } from "./database.js";
import type { LinkPrompt, LinkPromptState } from "./schema.js";

/** The states in which a question still waits for a press or its deadline. */
export const OPEN_PROMPT_STATES: readonly LinkPromptState[] = ["probing", "asking", "confirming"];

export async function insertPrompt(
  db: Db | Trx,
  row: Omit<LinkPrompt, "resolved_at" | "job_ids" | "message_id"> & { message_id?: number | null },
): Promise<void> {
  await db
    .insertInto("link_prompts")
    .values({ ...row, message_id: row.message_id ?? null, resolved_at: null, job_ids: null })
    .execute();
}

export async function getPrompt(db: Db | Trx, id: string): Promise<LinkPrompt | undefined> {
  return db.selectFrom("link_prompts").selectAll().where("id", "=", id).executeTakeFirst();
}

/**
 * Moves a question from one of `from` to `to`, with the other columns given; false when it was no longer in one of
 * `from` (a press and the deadline raced, or a second press): exactly one of them acts.
 */
export async function movePrompt(
  db: Db | Trx,
  id: string,
  from: readonly LinkPromptState[],
  to: LinkPromptState,
  set: Partial<Pick<LinkPrompt, "message_id" | "request" | "deadline" | "resolved_at" | "job_ids">> = {},
): Promise<boolean> {
  const result = await db
    .updateTable("link_prompts")
    .set({ ...set, state: to })
    .where("id", "=", id)
    .where("state", "in", from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function setPromptMessage(db: Db | Trx, id: string, messageId: number): Promise<void> {
  await db.updateTable("link_prompts").set({ message_id: messageId }).where("id", "=", id).execute();
}

/** Open questions whose deadline is at or before `now`, oldest first. */
export async function duePrompts(db: Db, now: string, limit = 100): Promise<LinkPrompt[]> {
  return db
    .selectFrom("link_prompts")
    .selectAll()
    .where("state", "in", OPEN_PROMPT_STATES)
    .where("deadline", "<=", now)
    .orderBy("deadline")
    .limit(limit)
    .execute();
}

/** The nearest deadline of an open question, if any. */
export async function nextPromptDeadline(db: Db): Promise<string | undefined> {
  const row = await db
    .selectFrom("link_prompts")
    .select((eb) => eb.fn.min("deadline").as("next"))
    .where("state", "in", OPEN_PROMPT_STATES)
    .executeTakeFirst();
  return (row?.next as string | null | undefined) ?? undefined;
}
