/** Per-user settings (defaults when no row) and operator-wide bot settings (JSON values). */

import type { Quality } from "../lib/quality.js";
import { type Db, nowIso } from "./database.js";

export interface EffectiveSettings {
  quality: Quality;
  uploadAs: "media" | "document";
  destinationChatId: number | null;
  captionTemplate: string | null;
  splitLarge: boolean;
  /** "en" | "ru"; null: the user's Telegram language. */
  language: "en" | "ru" | null;
  /** Files over this are split; null: the account's limit. */
  splitBytes: number | null;
  /** The user's own JPEG for their videos. */
  thumbnailPath: string | null;
  /** No default quality chosen: site links get the quality buttons ("ask each time", the default). */
  askQuality: boolean;
}

/** What the user's next message is for (a settings button asked for it), until `until` (ISO UTC). */
export interface AwaitedInput {
  kind: "caption" | "thumbnail";
  until: string;
}

export const DEFAULT_SETTINGS: EffectiveSettings = {
  quality: "best",
  uploadAs: "media",
  destinationChatId: null,
  captionTemplate: null,
  splitLarge: true,
  language: null,
  splitBytes: null,
  thumbnailPath: null,
  askQuality: true,
};

export async function getUserSettings(db: Db, userId: number): Promise<EffectiveSettings> {
  const row = await db
    .selectFrom("user_settings")
    .selectAll()
    .where("user_id", "=", userId)
    .executeTakeFirst();
  if (!row) return { ...DEFAULT_SETTINGS };
  return {
    quality: row.quality,
    uploadAs: row.upload_as,
    destinationChatId: row.destination_chat_id,
    captionTemplate: row.caption_template,
    splitLarge: row.split_large === 1,
    language: row.language,
    splitBytes: row.split_bytes,
    thumbnailPath: row.thumbnail_path,
    askQuality: row.ask_quality === 1,
  };
}

export async function updateUserSettings(
  db: Db,
  userId: number,
  patch: Partial<EffectiveSettings>,
): Promise<EffectiveSettings> {
  const next = { ...(await getUserSettings(db, userId)), ...patch };
  const values = {
    quality: next.quality,
    upload_as: next.uploadAs,
    destination_chat_id: next.destinationChatId,
    caption_template: next.captionTemplate,
    split_large: next.splitLarge ? (1 as const) : (0 as const),
    language: next.language,
    split_bytes: next.splitBytes,
    thumbnail_path: next.thumbnailPath,
    ask_quality: next.askQuality ? (1 as const) : (0 as const),
    updated_at: nowIso(),
  };
  await db
    .insertInto("user_settings")
    .values({ user_id: userId, ...values })
    .onConflict((oc) => oc.column("user_id").doUpdateSet(values))
    .execute();
  return next;
}

/** Marks what the user's next message is for (or nothing, with null). */
export async function setAwaitedInput(db: Db, userId: number, input: AwaitedInput | null): Promise<void> {
  const values = {
    awaiting: input?.kind ?? null,
    awaiting_until: input?.until ?? null,
    updated_at: nowIso(),
  };
  await db
    .insertInto("user_settings")
    .values({ user_id: userId, ...values })
    .onConflict((oc) => oc.column("user_id").doUpdateSet(values))
    .execute();
}

/** What the user's next message is for, if a settings button asked for one that has not expired at `now`. */
export async function getAwaitedInput(
  db: Db,
  userId: number,
  now: string,
): Promise<AwaitedInput | undefined> {
  const row = await db
    .selectFrom("user_settings")
    .select(["awaiting", "awaiting_until"])
    .where("user_id", "=", userId)
    .executeTakeFirst();
  if (!row?.awaiting || !row.awaiting_until || row.awaiting_until < now) return undefined;
  return { kind: row.awaiting, until: row.awaiting_until };
}

export async function getBotSetting<T>(db: Db, key: string, fallback: T): Promise<T> {
  const row = await db.selectFrom("bot_settings").select("value").where("key", "=", key).executeTakeFirst();
  return row ? (JSON.parse(row.value) as T) : fallback;
}

export async function setBotSetting(
  db: Db,
  key: string,
  value: unknown,
  updatedBy: number | null,
): Promise<void> {
  const json = JSON.stringify(value);
  await db
    .insertInto("bot_settings")
    .values({ key, value: json, updated_by: updatedBy })
    .onConflict((oc) =>
      oc.column("key").doUpdateSet({ value: json, updated_by: updatedBy, updated_at: nowIso() }),
    )
    .execute();
}
