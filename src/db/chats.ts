/** Destination channels/groups and log channels. */
import type { Db } from "./database.js";
import type { Chat, NewChat } from "./schema.js";

export async function addChat(db: Db, chat: NewChat): Promise<Chat> {
  const { id: _id, ...rest } = chat;
  return db
    .insertInto("chats")
    .values(chat)
    .onConflict((oc) => oc.column("id").doUpdateSet(rest))
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function getChat(db: Db, id: number): Promise<Chat | undefined> {
  return db.selectFrom("chats").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function listChats(db: Db, purpose?: Chat["purpose"]): Promise<Chat[]> {
  let query = db.selectFrom("chats").selectAll().orderBy("id");
  if (purpose) query = query.where("purpose", "=", purpose);
  return query.execute();
}

/** Removes a chat; returns false when it was not there. */
export async function removeChat(db: Db, id: number): Promise<boolean> {
  const result = await db.deleteFrom("chats").where("id", "=", id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}
