/**
 * Telegram's update sequence per account, and the updates already handled. Together they make each update
 * reach the bot once: the state says where getDifference starts, the handled keys absorb overlaps between a
 * pushed update and a difference, and between a handled update and a state saved after a crash.
 */
import { type Db, nowIso } from "./database.js";
import type { TelegramAccount, UpdateState } from "./schema.js";

export async function getUpdateState(db: Db, account: TelegramAccount): Promise<UpdateState | undefined> {
  return db
    .selectFrom("update_state")
    .select(["pts", "qts", "date", "seq"])
    .where("account", "=", account)
    .executeTakeFirst();
}

export async function saveUpdateState(db: Db, account: TelegramAccount, state: UpdateState): Promise<void> {
  const row = { pts: state.pts, qts: state.qts, date: state.date, seq: state.seq, updated_at: nowIso() };
  await db
    .insertInto("update_state")
    .values({ account, ...row })
    .onConflict((oc) => oc.column("account").doUpdateSet(row))
    .execute();
}

/**
 * Marks `key` as being handled. Returns "new" the first time, "again" when an earlier handling never finished
 * (the process died inside the handler), and "done" when it was handled already.
 */
export async function claimUpdate(
  db: Db,
  account: TelegramAccount,
  key: string,
): Promise<"new" | "again" | "done"> {
  const inserted = await db
    .insertInto("handled_updates")
    .values({ account, key, status: "handling" })
    .onConflict((oc) => oc.columns(["account", "key"]).doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return "new";
  const retried = await db
    .updateTable("handled_updates")
    .set((eb) => ({ attempts: eb("attempts", "+", 1), handled_at: nowIso() }))
    .where("account", "=", account)
    .where("key", "=", key)
    .where("status", "=", "handling")
    .executeTakeFirst();
  return Number(retried.numUpdatedRows) > 0 ? "again" : "done";
}

export async function finishUpdate(db: Db, account: TelegramAccount, key: string): Promise<void> {
  await db
    .updateTable("handled_updates")
    .set({ status: "done", handled_at: nowIso() })
    .where("account", "=", account)
    .where("key", "=", key)
    .execute();
}

/** Forgets handled keys older than `before` (ISO time): Telegram replays nothing that old. */
export async function pruneHandledUpdates(db: Db, before: string): Promise<number> {
  const result = await db.deleteFrom("handled_updates").where("handled_at", "<", before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
