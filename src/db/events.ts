/** The audit log (admin actions) and analytics events. */
import type { Db } from "./database.js";
import type { EventRecord, EventsTable } from "./schema.js";

export interface NewEvent {
  category: EventsTable["category"];
  action: string;
  actorId?: number | null;
  subject?: string | number | null;
  data?: Record<string, unknown>;
}

export async function recordEvent(db: Db, event: NewEvent): Promise<void> {
  await db
    .insertInto("events")
    .values({
      category: event.category,
      action: event.action,
      actor_id: event.actorId ?? null,
      subject: event.subject === undefined || event.subject === null ? null : String(event.subject),
      data: JSON.stringify(event.data ?? {}),
    })
    .execute();
}

export async function listEvents(
  db: Db,
  filter: { category?: EventsTable["category"]; action?: string; limit?: number } = {},
): Promise<EventRecord[]> {
  let query = db
    .selectFrom("events")
    .selectAll()
    .orderBy("id", "desc")
    .limit(filter.limit ?? 100);
  if (filter.category) query = query.where("category", "=", filter.category);
  if (filter.action) query = query.where("action", "=", filter.action);
  return query.execute();
}

/** Whether `actorId` has an event `action` at or after `since` (ISO text): one notice per window, not per try. */
export async function hasEventSince(
  db: Db,
  filter: { action: string; actorId: number; since: string },
): Promise<boolean> {
  const row = await db
    .selectFrom("events")
    .select("id")
    .where("action", "=", filter.action)
    .where("actor_id", "=", filter.actorId)
    .where("at", ">=", filter.since)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Whether an event with this action and subject was ever recorded (a notice sent once, whatever its age). */
export async function hasEventFor(db: Db, filter: { action: string; subject: string }): Promise<boolean> {
  const row = await db
    .selectFrom("events")
    .select("id")
    .where("action", "=", filter.action)
    .where("subject", "=", filter.subject)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Which of `actions` was recorded last (for `subject` when given): an episode is open while its start is last. */
export async function latestOfActions(
  db: Db,
  filter: { actions: readonly string[]; subject?: string },
): Promise<string | undefined> {
  let query = db
    .selectFrom("events")
    .select("action")
    .where("action", "in", [...filter.actions])
    .orderBy("id", "desc")
    .limit(1);
  if (filter.subject !== undefined) query = query.where("subject", "=", filter.subject);
  return (await query.executeTakeFirst())?.action;
}
