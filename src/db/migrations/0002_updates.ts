/**
 * Update state and peers, so that nothing a user sends while Medusa is down is lost and chats stay reachable
 * after a restart. Frozen in time: never import app code here, never edit after release — add a migration.
 */
import type { Kysely } from "kysely";
import { runStatements } from "./dialect.js";

const NOW = `(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;

const UP = [
  `CREATE TABLE update_state (
    -- Telegram's update sequence per logged-in account, saved after each handled update; getDifference from here.
    account    TEXT PRIMARY KEY,             -- 'bot' or 'user'
    pts        INTEGER NOT NULL,
    qts        INTEGER NOT NULL,
    date       INTEGER NOT NULL,             -- unix seconds, as Telegram counts them
    seq        INTEGER NOT NULL,
    updated_at TEXT NOT NULL DEFAULT ${NOW}
  ) STRICT`,
  `CREATE TABLE handled_updates (
    -- Updates already given to the bot, so an overlap of a pushed update and getDifference is handled once.
    account    TEXT NOT NULL,
    key        TEXT NOT NULL,                -- e.g. msg:<chat>:<message id>, cb:<query id>
    status     TEXT NOT NULL CHECK (status IN ('handling', 'done')),
    attempts   INTEGER NOT NULL DEFAULT 1,
    handled_at TEXT NOT NULL DEFAULT ${NOW},
    PRIMARY KEY (account, key)
  ) STRICT`,
  `CREATE INDEX handled_updates_at ON handled_updates (handled_at)`,
  `CREATE TABLE peers (
    -- Every user, group and channel Telegram told us about: the access hash a later send needs.
    id          INTEGER PRIMARY KEY,         -- Bot API style: user > 0, group -id, channel -100…id
    kind        TEXT NOT NULL CHECK (kind IN ('user', 'group', 'channel')),
    access_hash TEXT,                        -- signed 64-bit as text; NULL for basic groups
    username    TEXT,
    title       TEXT,                        -- a chat's title or a user's full name
    lang_code   TEXT,                        -- what Telegram reports to bots for users
    is_bot      INTEGER NOT NULL DEFAULT 0 CHECK (is_bot IN (0, 1)),
    updated_at  TEXT NOT NULL DEFAULT ${NOW}
  ) STRICT`,
  `CREATE INDEX peers_username ON peers (lower(username)) WHERE username IS NOT NULL`,
];

const DOWN = ["DROP TABLE peers", "DROP TABLE handled_updates", "DROP TABLE update_state"];

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, UP);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, DOWN);
}
