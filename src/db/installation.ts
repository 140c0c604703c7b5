/**
 * An installation as records: who may use the bot (users, roles), their settings, the operator's settings, the
 * chats it posts to, the files already on Telegram (so repeated links keep going out by reference), and the
 * history the operator views show (per day and per user, as v_daily and v_users count it). `medusa export` writes
 * them as JSON lines and `medusa import` reads them back, into SQLite or PostgreSQL.
 *
 * History travels as totals, not job rows: finished jobs and the totals of pruned days (0007) folded into one
 * record per day and one per user, which the import keeps in daily_totals and user_totals. So v_daily and v_users
 * read the same on the new installation, and no half-run job (its lease, its temp files on another host) moves.
 */
import { sql } from "kysely";
import { type Db, nowIso, type Trx } from "./database.js";
import { type Chat, FINISHED_STATUSES, type FileRecord, type Role } from "./schema.js";

export interface UserRecord {
  type: "user";
  id: number;
  username: string | null;
  first_name: string | null;
  last_name: string | null;
  role: Role;
  created_at: string;
  last_seen_at: string | null;
}

export interface UserSettingsRecord {
  type: "user_settings";
  user_id: number;
  quality: "best" | "1080" | "720" | "480" | "360" | "audio";
  upload_as: "media" | "document";
  destination_chat_id: number | null;
  caption_template: string | null;
  split_large: boolean;
}

export interface BotSettingRecord {
  type: "bot_setting";
  key: string;
  value: unknown;
}

export interface ChatRecord {
  type: "chat";
  id: number;
  kind: Chat["kind"];
  purpose: Chat["purpose"];
  title: string | null;
  username: string | null;
  owner_id: number | null;
}

export interface FileRecordLine {
  type: "file";
  sha256: string;
  size: number;
  name: string;
  mime_type: string | null;
  kind: FileRecord["kind"];
  account: FileRecord["account"];
  document_id: string;
  access_hash: string;
  /** base64 */
  file_reference: string;
  dc_id: number;
  duration: number | null;
  width: number | null;
  height: number | null;
  source_url: string | null;
  created_at: string;
}

/** One UTC day of finished jobs, as v_daily counts it. */
export interface HistoryDayRecord {
  type: "history_day";
  day: string;
  jobs: number;
  done: number;
  failed: number;
  cancelled: number;
  users: number;
  bytes_sent: number | null;
  upload_ms: number | null;
}

/** One user's finished jobs, as v_users counts them. */
export interface HistoryUserRecord {
  type: "history_user";
  user_id: number;
  jobs: number;
  done: number;
  failed: number;
  bytes_sent: number;
  last_job_at: string | null;
}

export type InstallationRecord =
  | UserRecord
  | UserSettingsRecord
  | BotSettingRecord
  | ChatRecord
  | FileRecordLine
  | HistoryDayRecord
  | HistoryUserRecord;

export type RecordType = InstallationRecord["type"];

/** The order records are written and applied in, so that every reference points at a row already there. */
export const RECORD_ORDER: readonly RecordType[] = [
  "user",
  "chat",
  "user_settings",
  "bot_setting",
  "file",
  "history_day",
  "history_user",
];

/** Rows read per query while exporting: bounded memory whatever the size of the files table. */
const PAGE = 500;

/** Every record of the installation, users first, in the order an import applies them. */
export async function* exportInstallation(db: Db): AsyncGenerator<InstallationRecord> {
  for (const u of await db.selectFrom("users").selectAll().orderBy("id").execute()) {
    yield {
      type: "user",
      id: u.id,
      username: u.username,
      first_name: u.first_name,
      last_name: u.last_name,
      role: u.role,
      created_at: u.created_at,
      last_seen_at: u.last_seen_at,
    };
  }
  for (const c of await db.selectFrom("chats").selectAll().orderBy("id").execute()) {
    yield {
      type: "chat",
      id: c.id,
      kind: c.kind,
      purpose: c.purpose,
      title: c.title,
      username: c.username,
      owner_id: c.owner_id,
    };
  }
  for (const s of await db.selectFrom("user_settings").selectAll().orderBy("user_id").execute()) {
    yield {
      type: "user_settings",
      user_id: s.user_id,
      quality: s.quality,
      upload_as: s.upload_as,
      destination_chat_id: s.destination_chat_id,
      caption_template: s.caption_template,
      split_large: s.split_large === 1,
    };
  }
  for (const b of await db.selectFrom("bot_settings").selectAll().orderBy("key").execute()) {
    yield { type: "bot_setting", key: b.key, value: JSON.parse(b.value) };
  }
  let after = 0;
  for (;;) {
    const page = await db
      .selectFrom("files")
      .selectAll()
      .where("id", ">", after)
      .orderBy("id")
      .limit(PAGE)
      .execute();
    for (const f of page) {
      yield {
        type: "file",
        sha256: f.sha256,
        size: f.size,
        name: f.name,
        mime_type: f.mime_type,
        kind: f.kind,
        account: f.account,
        document_id: f.document_id,
        access_hash: f.access_hash,
        file_reference: Buffer.from(f.file_reference).toString("base64"),
        dc_id: f.dc_id,
        duration: f.duration,
        width: f.width,
        height: f.height,
        source_url: f.source_url,
        created_at: f.created_at,
      };
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]?.id ?? after;
  }
  yield* exportHistory(db);
}

const count = (status: string) => sql<number>`sum(case when status = ${status} then 1 else 0 end)`;
const doneSum = (column: "bytes_total" | "upload_ms") =>
  sql<number | null>`sum(case when status = 'done' then ${sql.ref(column)} end)`;

const plus = (a: number | null, b: number | null) => (a === null && b === null ? null : (a ?? 0) + (b ?? 0));

/** Finished jobs plus pruned totals, per day and per user (the views' numbers without the unfinished jobs). */
async function* exportHistory(db: Db): AsyncGenerator<HistoryDayRecord | HistoryUserRecord> {
  const days = new Map<string, HistoryDayRecord>();
  const liveDays = await db
    .selectFrom("jobs")
    .where("status", "in", FINISHED_STATUSES)
    .select([
      sql<string>`substr(created_at, 1, 10)`.as("day"),
      sql<number>`count(*)`.as("jobs"),
      count("done").as("done"),
      count("failed").as("failed"),
      count("cancelled").as("cancelled"),
      sql<number>`count(distinct user_id)`.as("users"),
      doneSum("bytes_total").as("bytes_sent"),
      doneSum("upload_ms").as("upload_ms"),
    ])
    .groupBy(sql`substr(created_at, 1, 10)`)
    .execute();
  const prunedDays = await db.selectFrom("daily_totals").selectAll().execute();
  for (const d of [...liveDays, ...prunedDays]) {
    const seen = days.get(d.day);
    days.set(d.day, {
      type: "history_day",
      day: d.day,
      jobs: (seen?.jobs ?? 0) + Number(d.jobs),
      done: (seen?.done ?? 0) + Number(d.done),
      failed: (seen?.failed ?? 0) + Number(d.failed),
      cancelled: (seen?.cancelled ?? 0) + Number(d.cancelled),
      users: (seen?.users ?? 0) + Number(d.users), // days are pruned whole: no user is counted on both sides
      bytes_sent: plus(seen?.bytes_sent ?? null, d.bytes_sent === null ? null : Number(d.bytes_sent)),
      upload_ms: plus(seen?.upload_ms ?? null, d.upload_ms === null ? null : Number(d.upload_ms)),
    });
  }
  for (const day of [...days.keys()].sort()) yield days.get(day) as HistoryDayRecord;

  const users = new Map<number, HistoryUserRecord>();
  const liveUsers = await db
    .selectFrom("jobs")
    .where("status", "in", FINISHED_STATUSES)
    .select([
      "user_id",
      sql<number>`count(*)`.as("jobs"),
      count("done").as("done"),
      count("failed").as("failed"),
      sql<number>`coalesce(${doneSum("bytes_total")}, 0)`.as("bytes_sent"),
      sql<string | null>`max(created_at)`.as("last_job_at"),
    ])
    .groupBy("user_id")
    .execute();
  const prunedUsers = await db.selectFrom("user_totals").selectAll().execute();
  for (const u of [...liveUsers, ...prunedUsers]) {
    const seen = users.get(u.user_id);
    const last = [seen?.last_job_at, u.last_job_at].filter((x): x is string => typeof x === "string").sort();
    users.set(u.user_id, {
      type: "history_user",
      user_id: u.user_id,
      jobs: (seen?.jobs ?? 0) + Number(u.jobs),
      done: (seen?.done ?? 0) + Number(u.done),
      failed: (seen?.failed ?? 0) + Number(u.failed),
      bytes_sent: (seen?.bytes_sent ?? 0) + Number(u.bytes_sent),
      last_job_at: last.at(-1) ?? null,
    });
  }
  for (const id of [...users.keys()].sort((a, b) => a - b)) yield users.get(id) as HistoryUserRecord;
}

export interface ImportTally {
  added: number;
  updated: number;
  unchanged: number;
}

export interface ImportOutcome {
  counts: Record<RecordType, ImportTally>;
  /** What was adjusted rather than taken as written, one sentence each. */
  notes: string[];
}

/**
 * Applies records in one transaction (the caller's): new rows are added, changed rows updated, equal rows left
 * alone, so importing the same file twice changes nothing. The owner comes from the configuration, never from a
 * file: an imported "owner" becomes an admin, and the current owner's role is never changed.
 */
export async function importInstallation(
  trx: Trx,
  records: Iterable<InstallationRecord>,
): Promise<ImportOutcome> {
  const counts = Object.fromEntries(
    RECORD_ORDER.map((type) => [type, { added: 0, updated: 0, unchanged: 0 }]),
  ) as Record<RecordType, ImportTally>;
  const notes: string[] = [];
  const sorted = [...records].sort((a, b) => RECORD_ORDER.indexOf(a.type) - RECORD_ORDER.indexOf(b.type));
  for (const record of sorted) {
    const outcome = await applyRecord(trx, record, notes);
    counts[record.type][outcome]++;
  }
  return { counts, notes };
}

type Outcome = keyof ImportTally;

async function applyRecord(trx: Trx, record: InstallationRecord, notes: string[]): Promise<Outcome> {
  switch (record.type) {
    case "user":
      return applyUser(trx, record, notes);
    case "chat":
      return applyChat(trx, record);
    case "user_settings":
      return applyUserSettings(trx, record, notes);
    case "bot_setting":
      return applyBotSetting(trx, record);
    case "file":
      return applyFile(trx, record);
    case "history_day":
      return applyHistoryDay(trx, record);
    case "history_user":
      return applyHistoryUser(trx, record);
  }
}

/**
 * A day's history from the file replaces what the target keeps for that day in daily_totals (so importing twice
 * counts once); the target's own job rows still add to v_daily on top.
 */
async function applyHistoryDay(trx: Trx, r: HistoryDayRecord): Promise<Outcome> {
  const { type: _, ...wanted } = r;
  const existing = await trx
    .selectFrom("daily_totals")
    .selectAll()
    .where("day", "=", r.day)
    .executeTakeFirst();
  if (existing && same(existing, wanted)) return "unchanged";
  await trx
    .insertInto("daily_totals")
    .values({ ...wanted, pruned_at: nowIso() })
    .onConflict((oc) => oc.column("day").doUpdateSet(wanted))
    .execute();
  return existing ? "updated" : "added";
}

/** As applyHistoryDay, per user; a user the target does not know is added without a role of their own. */
async function applyHistoryUser(trx: Trx, r: HistoryUserRecord): Promise<Outcome> {
  const { type: _, ...wanted } = r;
  const user = await trx.selectFrom("users").select("id").where("id", "=", r.user_id).executeTakeFirst();
  if (!user) await trx.insertInto("users").values({ id: r.user_id }).execute();
  const existing = await trx
    .selectFrom("user_totals")
    .selectAll()
    .where("user_id", "=", r.user_id)
    .executeTakeFirst();
  if (existing && same(existing, wanted)) return "unchanged";
  await trx
    .insertInto("user_totals")
    .values(wanted)
    .onConflict((oc) => oc.column("user_id").doUpdateSet(wanted))
    .execute();
  return existing ? "updated" : "added";
}

function same<T extends object>(row: T, wanted: Partial<T>): boolean {
  return Object.entries(wanted).every(([key, value]) => row[key as keyof T] === value);
}

async function applyUser(trx: Trx, r: UserRecord, notes: string[]): Promise<Outcome> {
  const existing = await trx.selectFrom("users").selectAll().where("id", "=", r.id).executeTakeFirst();
  let role: Role = r.role;
  if (role === "owner") {
    role = "admin";
    notes.push(`user ${r.id} was an owner in the file and is imported as an admin (the owner is OWNER_ID)`);
  }
  if (existing?.role === "owner") role = "owner";
  const wanted = { username: r.username, first_name: r.first_name, last_name: r.last_name, role };
  if (!existing) {
    await trx
      .insertInto("users")
      .values({ id: r.id, ...wanted, created_at: r.created_at, last_seen_at: r.last_seen_at })
      .execute();
    return "added";
  }
  if (same(existing, wanted)) return "unchanged";
  await trx
    .updateTable("users")
    .set({ ...wanted, updated_at: nowIso() })
    .where("id", "=", r.id)
    .execute();
  return "updated";
}

async function applyChat(trx: Trx, r: ChatRecord): Promise<Outcome> {
  const existing = await trx.selectFrom("chats").selectAll().where("id", "=", r.id).executeTakeFirst();
  const owner =
    r.owner_id === null
      ? undefined
      : await trx.selectFrom("users").select("id").where("id", "=", r.owner_id).executeTakeFirst();
  const wanted = {
    kind: r.kind,
    purpose: r.purpose,
    title: r.title,
    username: r.username,
    owner_id: owner ? r.owner_id : null,
  };
  if (!existing) {
    await trx
      .insertInto("chats")
      .values({ id: r.id, ...wanted })
      .execute();
    return "added";
  }
  if (same(existing, wanted)) return "unchanged";
  await trx.updateTable("chats").set(wanted).where("id", "=", r.id).execute();
  return "updated";
}

async function applyUserSettings(trx: Trx, r: UserSettingsRecord, notes: string[]): Promise<Outcome> {
  const user = await trx.selectFrom("users").select("id").where("id", "=", r.user_id).executeTakeFirst();
  if (!user) {
    // A settings row needs its user; a file with settings but no user line was cut or edited by hand.
    await trx.insertInto("users").values({ id: r.user_id }).execute();
    notes.push(`user ${r.user_id} had settings but no user line; added with the user role`);
  }
  let destination = r.destination_chat_id;
  if (destination !== null) {
    const chat = await trx.selectFrom("chats").select("id").where("id", "=", destination).executeTakeFirst();
    if (!chat) {
      notes.push(
        `user ${r.user_id}'s destination ${destination} is not a known chat; reset to their own chat`,
      );
      destination = null;
    }
  }
  const wanted = {
    quality: r.quality,
    upload_as: r.upload_as,
    destination_chat_id: destination,
    caption_template: r.caption_template,
    split_large: r.split_large ? (1 as const) : (0 as const),
  };
  const existing = await trx
    .selectFrom("user_settings")
    .selectAll()
    .where("user_id", "=", r.user_id)
    .executeTakeFirst();
  if (!existing) {
    await trx
      .insertInto("user_settings")
      .values({ user_id: r.user_id, ...wanted })
      .execute();
    return "added";
  }
  if (same(existing, wanted)) return "unchanged";
  await trx
    .updateTable("user_settings")
    .set({ ...wanted, updated_at: nowIso() })
    .where("user_id", "=", r.user_id)
    .execute();
  return "updated";
}

async function applyBotSetting(trx: Trx, r: BotSettingRecord): Promise<Outcome> {
  const value = JSON.stringify(r.value);
  const existing = await trx
    .selectFrom("bot_settings")
    .selectAll()
    .where("key", "=", r.key)
    .executeTakeFirst();
  if (!existing) {
    await trx.insertInto("bot_settings").values({ key: r.key, value, updated_by: null }).execute();
    return "added";
  }
  if (JSON.stringify(JSON.parse(existing.value)) === value) return "unchanged";
  await trx
    .updateTable("bot_settings")
    .set({ value, updated_by: null, updated_at: nowIso() })
    .where("key", "=", r.key)
    .execute();
  return "updated";
}

async function applyFile(trx: Trx, r: FileRecordLine): Promise<Outcome> {
  const reference = Buffer.from(r.file_reference, "base64");
  const existing = await trx
    .selectFrom("files")
    .selectAll()
    .where("sha256", "=", r.sha256)
    .where("size", "=", r.size)
    .where("account", "=", r.account)
    .executeTakeFirst();
  const wanted = {
    name: r.name,
    mime_type: r.mime_type,
    kind: r.kind,
    document_id: r.document_id,
    access_hash: r.access_hash,
    dc_id: r.dc_id,
    duration: r.duration,
    width: r.width,
    height: r.height,
    source_url: r.source_url,
  };
  if (!existing) {
    await trx
      .insertInto("files")
      .values({
        sha256: r.sha256,
        size: r.size,
        account: r.account,
        ...wanted,
        file_reference: reference,
        created_at: r.created_at,
      })
      .execute();
    return "added";
  }
  if (same(existing, wanted) && Buffer.from(existing.file_reference).equals(reference)) return "unchanged";
  await trx
    .updateTable("files")
    .set({ ...wanted, file_reference: reference })
    .where("id", "=", existing.id)
    .execute();
  return "updated";
}
