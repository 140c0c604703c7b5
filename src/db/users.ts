/** Users and their roles. The owner comes from config; admins and users are added from the chat. */
import { type Db, nowIso, type Trx } from "./database.js";
import type { Role, User } from "./schema.js";

export interface TelegramProfile {
  id: number;
  username?: string | null;
  firstName?: string | null;
  lastName?: string | null;
}

/** Records what Telegram says about a person without changing their role; returns the row. */
export async function touchUser(db: Db, profile: TelegramProfile): Promise<User> {
  const now = nowIso();
  return db
    .insertInto("users")
    .values({
      id: profile.id,
      username: profile.username ?? null,
      first_name: profile.firstName ?? null,
      last_name: profile.lastName ?? null,
      last_seen_at: now,
    })
    .onConflict((oc) =>
      oc.column("id").doUpdateSet({
        username: profile.username ?? null,
        first_name: profile.firstName ?? null,
        last_name: profile.lastName ?? null,
        last_seen_at: now,
        updated_at: now,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function getUser(db: Db, id: number): Promise<User | undefined> {
  return db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
}

/** Sets a role, creating the user row when the person never wrote to the bot yet. */
export async function setRole(db: Db, id: number, role: Role, addedBy: number | null): Promise<User> {
  const now = nowIso();
  return db
    .insertInto("users")
    .values({ id, role, added_by: addedBy })
    .onConflict((oc) => oc.column("id").doUpdateSet({ role, added_by: addedBy, updated_at: now }))
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Makes sure the configured owner exists with the owner role (and that nobody else holds it). */
export async function ensureOwner(trx: Trx, ownerId: number): Promise<void> {
  await trx
    .updateTable("users")
    .set({ role: "admin", updated_at: nowIso() })
    .where("role", "=", "owner")
    .where("id", "!=", ownerId)
    .execute();
  await setRole(trx, ownerId, "owner", null);
}

export async function listUsers(db: Db, roles?: readonly Role[]): Promise<User[]> {
  let query = db.selectFrom("users").selectAll().orderBy("id");
  if (roles && roles.length > 0) query = query.where("role", "in", roles);
  return query.execute();
}

/** True for roles that may use the bot at all. */
export function isAuthorised(user: Pick<User, "role"> | undefined): boolean {
  return user !== undefined && user.role !== "banned";
}
