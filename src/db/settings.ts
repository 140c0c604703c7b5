/** Per-user settings (defaults when no row) and operator-wide bot settings (JSON values). */

import type { Quality } from "../lib/quality.js";
import { type Db, nowIso } from "./database.js";

export interface EffectiveSettings {
  quality: Quality;
  uploadAs: "media" | "document";
  destinationChatId: number | null;
  captionTemplate: string | null;
  splitLarge: boolean;
}

export const DEFAULT_SETTINGS: EffectiveSettings = {
  quality: "best",
  uploadAs: "media",
  destinationChatId: null,
  captionTemplate: null,
  splitLarge: true,
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
    updated_at: nowIso(),
  };
  await db
    .insertInto("user_settings")
    .values({ user_id: userId, ...values })
    .onConflict((oc) => oc.column("user_id").doUpdateSet(values))
    .execute();
  return next;
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
