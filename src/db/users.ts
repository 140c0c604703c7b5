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
  return (
    db
      .insertInto("users")
      .values({ id, role, added_by: addedBy })
      // Giving a role gives access back too (a removed person added again).
      .onConflict((oc) =>
        oc.column("id").doUpdateSet({ role, added_by: addedBy, removed_at: null, updated_at: now }),
      )
      .returningAll()
      .executeTakeFirstOrThrow()
  );
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
  let query = db.selectFrom("users").selectAll().where("removed_at", "is", null).orderBy("id");
  if (roles && roles.length > 0) query = query.where("role", "in", roles);
  return query.execute();
}

/** True for roles that may use the bot at all. */
export function isAuthorised(user: Pick<User, "role" | "removed_at"> | undefined): boolean {
  return user !== undefined && user.role !== "banned" && user.removed_at === null;
}

/**
 * Takes a person's access away (an admin's role with it), keeping the row their jobs point at; false when there was
 * nothing to take (no row, the owner, banned, removed already).
 */
export async function removeUserAccess(db: Db, id: number, now: string = nowIso()): Promise<boolean> {
  const result = await db
    .updateTable("users")
    .set({ removed_at: now, role: "user", updated_at: now })
    .where("id", "=", id)
    .where("role", "not in", ["owner", "banned"])
    .where("removed_at", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** A page of the people with a role (removed ones left out), admins first, then by id. */
export async function listUsersPage(
  db: Db,
  page: { offset: number; limit: number },
): Promise<{ users: User[]; total: number }> {
  const base = db.selectFrom("users").where("removed_at", "is", null);
  const total = await base.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
  const users = await base
    .selectAll()
    .orderBy((eb) =>
      eb
        .case()
        .when("role", "=", "owner")
        .then(0)
        .when("role", "=", "admin")
        .then(1)
        .when("role", "=", "user")
        .then(2)
        .else(3)
        .end(),
    )
    .orderBy("id")
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  return { users, total: Number(total.n) };
}
