/**
 * User preferences set from /settings: the language the bot speaks to them, where big files are split, their own
 * video thumbnail, and what the next message they send means (a caption template, a thumbnail photo) while a
 * settings button waits for it. Frozen in time: never import app code here, never edit after release — add a migration.
 * Columns are added with constant defaults (SQLite cannot add one with an expression default to a table with rows);
 * each column's comment sits inside its definition so that `.schema user_settings` keeps it.
 */
import type { Kysely } from "kysely";
import { runInTransaction } from "./dialect.js";

const UP = [
  `ALTER TABLE user_settings ADD COLUMN language TEXT /* 'en' or 'ru'; NULL: the user's Telegram language */ CHECK (language IS NULL OR language IN ('en', 'ru'))`,
  `ALTER TABLE user_settings ADD COLUMN split_bytes INTEGER /* files over this are split; NULL: the account's limit */ CHECK (split_bytes IS NULL OR split_bytes > 0)`,
  `ALTER TABLE user_settings ADD COLUMN thumbnail_path TEXT /* the user's own JPEG for their videos, under the data folder */`,
  `ALTER TABLE user_settings ADD COLUMN awaiting TEXT /* what the user's next message is for */ CHECK (awaiting IS NULL OR awaiting IN ('caption', 'thumbnail'))`,
  `ALTER TABLE user_settings ADD COLUMN awaiting_until TEXT /* ISO UTC; a later message is not taken for it */`,
];

const DOWN = [
  `ALTER TABLE user_settings DROP COLUMN awaiting_until`,
  `ALTER TABLE user_settings DROP COLUMN awaiting`,
  `ALTER TABLE user_settings DROP COLUMN thumbnail_path`,
  `ALTER TABLE user_settings DROP COLUMN split_bytes`,
  `ALTER TABLE user_settings DROP COLUMN language`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  await runInTransaction(db, UP);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runInTransaction(db, DOWN);
}
