/**
 * An installation as records: who may use the bot (users, roles), their settings, the operator's settings, the
 * chats it posts to, and the files already on Telegram (so repeated links keep going out by reference). `medusa
 * export` writes them as JSON lines and `medusa import` reads them back, into SQLite or (later) PostgreSQL.
 */
import { type Db, nowIso, type Trx } from "./database.js";
import type { Chat, FileRecord, Role } from "./schema.js";

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

export type InstallationRecord =
  | UserRecord
  | UserSettingsRecord
  | BotSettingRecord
  | ChatRecord
  | FileRecordLine;

export type RecordType = InstallationRecord["type"];

/** The order records are written and applied in, so that every reference points at a row already there. */
export const RECORD_ORDER: readonly RecordType[] = ["user", "chat", "user_settings", "bot_setting", "file"];

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
    if (page.length < PAGE) return;
    after = page[page.length - 1]?.id ?? after;
  }
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
  }
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
