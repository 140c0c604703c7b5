/**
 * The JSON-lines form of an installation (src/db/installation.ts): a header line, then one record a line. Every
 * line is checked here before anything is written, so a bad file changes nothing and says which line is wrong.
 */
import { parseEnv } from "node:util";
import { z } from "zod";
import type { InstallationRecord } from "../db/installation.js";
import { QUALITIES } from "../lib/quality.js";

export const FORMAT = "medusa-installation";
export const FORMAT_VERSION = 1;

/** A file larger than this is not an installation export (a million users is well under it). */
export const MAX_IMPORT_BYTES = 512 * 1024 * 1024;
/** Problems listed before "… and N more". */
const MAX_LISTED = 20;

const id = z.number().int().refine(Number.isSafeInteger, "expected a whole number");
const text = (max: number) => z.string().max(max).nullable();
const iso = z.iso.datetime({ offset: false });
const count = z.number().int().nonnegative().refine(Number.isSafeInteger, "expected a whole number");

const lineSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("user"),
    id: id.positive(),
    username: text(64),
    first_name: text(256),
    last_name: text(256),
    role: z.enum(["owner", "admin", "user", "banned"]),
    created_at: iso,
    last_seen_at: iso.nullable(),
  }),
  z.strictObject({
    type: z.literal("chat"),
    id: id.refine((n) => n !== 0, "a chat id is never 0"),
    kind: z.enum(["channel", "group", "private"]),
    purpose: z.enum(["destination", "log"]),
    title: text(256),
    username: text(64),
    owner_id: id.positive().nullable(),
  }),
  z.strictObject({
    type: z.literal("user_settings"),
    user_id: id.positive(),
    quality: z.enum(QUALITIES),
    upload_as: z.enum(["media", "document"]),
    destination_chat_id: id.nullable(),
    caption_template: text(4096),
    split_large: z.boolean(),
  }),
  z.strictObject({
    type: z.literal("bot_setting"),
    key: z.string().min(1).max(128),
    value: z.json(),
  }),
  z.strictObject({
    type: z.literal("history_day"),
    day: z.iso.date(),
    jobs: count,
    done: count,
    failed: count,
    cancelled: count,
    users: count,
    bytes_sent: count.nullable(),
    upload_ms: count.nullable(),
  }),
  z.strictObject({
    type: z.literal("history_user"),
    user_id: id.positive(),
    jobs: count,
    done: count,
    failed: count,
    bytes_sent: count,
    last_job_at: iso.nullable(),
  }),
  z.strictObject({
    type: z.literal("file"),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    size: z.number().int().nonnegative(),
    name: z.string().min(1).max(1024),
    mime_type: text(255),
    kind: z.enum(["video", "audio", "photo", "document"]),
    account: z.enum(["bot", "user"]),
    document_id: z.string().regex(/^-?\d{1,20}$/),
    access_hash: z.string().regex(/^-?\d{1,20}$/),
    file_reference: z.base64().max(4096),
    dc_id: z.number().int().min(1).max(1000),
    duration: z.number().nonnegative().nullable(),
    width: z.number().int().nonnegative().nullable(),
    height: z.number().int().nonnegative().nullable(),
    source_url: text(8192),
    created_at: iso,
  }),
]);

const headerSchema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(FORMAT_VERSION),
  exported_at: iso,
});

export function headerLine(): string {
  return JSON.stringify({ format: FORMAT, version: FORMAT_VERSION, exported_at: new Date().toISOString() });
}

export type ParsedLines = { ok: true; records: InstallationRecord[] } | { ok: false; problems: string[] };

/** Reads a whole export; any problem anywhere means nothing is taken (each problem names its line). */
export function parseInstallationLines(input: string): ParsedLines {
  const problems: string[] = [];
  const records: InstallationRecord[] = [];
  const lines = input.split("\n");
  let header = false;
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "") continue;
    const where = `line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      problems.push(`${where}: not JSON`);
      continue;
    }
    if (!header) {
      header = true;
      const parsed = headerSchema.safeParse(value);
      if (!parsed.success) {
        problems.push(
          `${where}: not a Medusa export header (expected {"format":"${FORMAT}","version":${FORMAT_VERSION},…})`,
        );
        break; // the rest would be read against the wrong format
      }
      continue;
    }
    const parsed = lineSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.length ? `${issue.path.join(".")}: ` : "";
      problems.push(`${where}: ${field}${issue?.message ?? "invalid"}`);
      continue;
    }
    records.push(parsed.data as InstallationRecord);
  }
  if (!header && problems.length === 0) problems.push("the file is empty");
  if (problems.length > 0) return { ok: false, problems: listed(problems) };
  return { ok: true, records };
}

function listed(problems: string[]): string[] {
  if (problems.length <= MAX_LISTED) return problems;
  return [...problems.slice(0, MAX_LISTED), `… and ${problems.length - MAX_LISTED} more`];
}

/**
 * Variables that bots of this kind keep in their environment, read from such a bot's .env file: lists of ids
 * separated by commas or spaces. Names stay unresolved (no Telegram here), so they are reported, not guessed.
 */
const LEGACY_KEYS = {
  user: ["AUTH_USERS", "AUTHORIZED_USERS", "ALLOWED_USERS", "AUTH_USER"],
  admin: ["ADMINS", "SUDO_USERS", "ADMIN_IDS"],
  log: ["LOG_CHANNELS", "LOG_CHANNEL", "LOG_CHANNEL_ID", "LOG_CHAT", "DUMP_CHANNEL"],
  destination: ["CHANNELS", "UPLOAD_CHANNELS", "AUTH_CHANNELS", "DESTINATION_CHANNELS"],
} as const;

/** Entries taken from one legacy list at most: such files hold dozens, not millions. */
const MAX_LEGACY_ENTRIES = 10_000;

export interface LegacyLists {
  records: InstallationRecord[];
  /** Entries that are not numeric ids, with the variable they came from. */
  skipped: string[];
  /** The variables that were found. */
  found: string[];
}

export function legacyEnvRecords(fileText: string): LegacyLists {
  const env = parseEnv(fileText);
  const records: InstallationRecord[] = [];
  const skipped: string[] = [];
  const found: string[] = [];
  const now = new Date().toISOString();
  const seenUsers = new Map<number, "user" | "admin">();
  const seenChats = new Map<number, "log" | "destination">();
  for (const [kind, keys] of Object.entries(LEGACY_KEYS) as [keyof typeof LEGACY_KEYS, readonly string[]][]) {
    for (const key of keys) {
      const value = env[key];
      if (value === undefined || value.trim() === "") continue;
      found.push(key);
      const entries = value
        .split(/[\s,;]+/)
        .filter(Boolean)
        .slice(0, MAX_LEGACY_ENTRIES);
      for (const entry of entries) {
        const n = /^-?\d{1,20}$/.test(entry) ? Number(entry) : Number.NaN;
        if (!Number.isSafeInteger(n) || n === 0) {
          skipped.push(`${key}: ${entry.slice(0, 64)}`);
          continue;
        }
        if (kind === "user" || kind === "admin") {
          if (n < 0) {
            skipped.push(`${key}: ${entry} (a chat id, not a user)`);
            continue;
          }
          // Admin wins when someone is in both lists.
          if (seenUsers.get(n) !== "admin") seenUsers.set(n, kind);
        } else if (seenChats.get(n) !== "log") {
          seenChats.set(n, kind);
        }
      }
    }
  }
  for (const [userId, role] of seenUsers) {
    records.push({
      type: "user",
      id: userId,
      username: null,
      first_name: null,
      last_name: null,
      role,
      created_at: now,
      last_seen_at: null,
    });
  }
  for (const [chatId, purpose] of seenChats) {
    records.push({
      type: "chat",
      id: chatId,
      kind: chatId > 0 ? "private" : String(chatId).startsWith("-100") ? "channel" : "group",
      purpose,
      title: null,
      username: null,
      owner_id: null,
    });
  }
  return { records, skipped, found };
}
