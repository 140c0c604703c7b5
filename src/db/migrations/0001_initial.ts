/**
 * The first schema. Frozen in time: never import app code here, never edit after release — add a migration.
 * Comments inside CREATE statements are kept by SQLite, so `sqlite3 data/medusa.db .schema` shows them.
 */
import type { Kysely } from "kysely";
import { isPostgres, runStatements } from "./dialect.js";

const NOW = `(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;

const UP = [
  `CREATE TABLE users (
    -- People who talk to the bot. role decides what they may do; banned users are ignored.
    id           INTEGER PRIMARY KEY,          -- Telegram user id
    username     TEXT,
    first_name   TEXT,
    last_name    TEXT,
    role         TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('owner', 'admin', 'user', 'banned')),
    added_by     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at   TEXT NOT NULL DEFAULT ${NOW},
    updated_at   TEXT NOT NULL DEFAULT ${NOW},
    last_seen_at TEXT
  ) STRICT`,
  `CREATE TABLE user_settings (
    -- One row per user who changed a default; missing rows mean defaults.
    user_id             INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    quality             TEXT NOT NULL DEFAULT 'best' CHECK (quality IN ('best', '1080', '720', '480', '360', 'audio')),
    upload_as           TEXT NOT NULL DEFAULT 'media' CHECK (upload_as IN ('media', 'document')),
    destination_chat_id INTEGER REFERENCES chats (id) ON DELETE SET NULL,  -- NULL: the user's own chat
    caption_template    TEXT,
    split_large         INTEGER NOT NULL DEFAULT 1 CHECK (split_large IN (0, 1)),
    updated_at          TEXT NOT NULL DEFAULT ${NOW}
  ) STRICT`,
  `CREATE TABLE bot_settings (
    -- Operator-wide settings changed from the chat (value is JSON).
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL CHECK (json_valid(value)),
    updated_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    updated_at TEXT NOT NULL DEFAULT ${NOW}
  ) STRICT`,
  `CREATE TABLE chats (
    -- Channels and groups the bot posts to: destinations users pick, and log channels that get a copy of every upload.
    id         INTEGER PRIMARY KEY,            -- Telegram chat id (-100… for channels)
    kind       TEXT NOT NULL CHECK (kind IN ('channel', 'group', 'private')),
    purpose    TEXT NOT NULL CHECK (purpose IN ('destination', 'log')),
    title      TEXT,
    username   TEXT,
    owner_id   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    added_at   TEXT NOT NULL DEFAULT ${NOW}
  ) STRICT`,
  `CREATE TABLE batches (
    -- A .txt list of links sent at once; its jobs point here.
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id           INTEGER NOT NULL REFERENCES users (id),
    chat_id           INTEGER NOT NULL,      -- where the user sent the list
    source_name       TEXT,                  -- the .txt file name
    total             INTEGER NOT NULL CHECK (total >= 0),
    status            TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'cancelled')),
    status_message_id INTEGER,
    created_at        TEXT NOT NULL DEFAULT ${NOW},
    finished_at       TEXT
  ) STRICT`,
  `CREATE TABLE files (
    -- Files already on Telegram: re-sent by reference, never uploaded twice (log channels, repeated links).
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256         TEXT NOT NULL CHECK (length(sha256) = 64),
    size           INTEGER NOT NULL CHECK (size >= 0),
    name           TEXT NOT NULL,
    mime_type      TEXT,
    kind           TEXT NOT NULL CHECK (kind IN ('video', 'audio', 'photo', 'document')),
    account        TEXT NOT NULL CHECK (account IN ('bot', 'user')),  -- which session uploaded it
    document_id    TEXT NOT NULL,            -- Telegram ids are 64-bit: kept as text
    access_hash    TEXT NOT NULL,
    file_reference BLOB NOT NULL,
    dc_id          INTEGER NOT NULL,
    duration       REAL,
    width          INTEGER,
    height         INTEGER,
    source_url     TEXT,
    created_at     TEXT NOT NULL DEFAULT ${NOW},
    UNIQUE (sha256, size, account)
  ) STRICT`,
  `CREATE TABLE jobs (
    -- One link from request to delivery. status moves forward one step at a time and is written before each step
    -- starts, so a restart resumes every unfinished job where it stopped.
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id            INTEGER NOT NULL REFERENCES users (id),
    batch_id           INTEGER REFERENCES batches (id) ON DELETE SET NULL,
    position           INTEGER,              -- line order inside the batch
    request_chat_id    INTEGER NOT NULL,
    request_message_id INTEGER,
    destination_chat_id INTEGER NOT NULL,
    status_message_id  INTEGER,
    source_url         TEXT NOT NULL,
    source_kind        TEXT CHECK (source_kind IN ('http', 'ytdlp')),  -- NULL until decided
    name               TEXT,                 -- from the batch line or the user; else from the source
    options            TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(options)),
    status             TEXT NOT NULL DEFAULT 'queued' CHECK (status IN
                         ('queued', 'downloading', 'processing', 'uploading', 'sending', 'done', 'failed', 'cancelled')),
    attempts           INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    bytes_total        INTEGER,
    bytes_done         INTEGER NOT NULL DEFAULT 0,
    work_dir           TEXT,
    download_path      TEXT,
    upload_paths       TEXT CHECK (upload_paths IS NULL OR json_valid(upload_paths)),  -- JSON list after splitting
    error_code         TEXT,
    error_message      TEXT,
    download_ms        INTEGER,
    upload_ms          INTEGER,
    created_at         TEXT NOT NULL DEFAULT ${NOW},
    updated_at         TEXT NOT NULL DEFAULT ${NOW},
    started_at         TEXT,
    finished_at        TEXT
  ) STRICT`,
  `CREATE INDEX jobs_unfinished ON jobs (status, id) WHERE status NOT IN ('done', 'failed', 'cancelled')`,
  `CREATE INDEX jobs_user ON jobs (user_id, created_at)`,
  `CREATE INDEX jobs_batch ON jobs (batch_id, position)`,
  `CREATE TABLE deliveries (
    -- Every message the bot sends with a file: to the destination and to each log channel. random_id is stored
    -- before sending so that a resend after a crash is dropped by Telegram instead of posted twice.
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id      INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    file_id     INTEGER REFERENCES files (id) ON DELETE SET NULL,
    part        INTEGER NOT NULL DEFAULT 1 CHECK (part >= 1),   -- 1-based part number after splitting
    chat_id     INTEGER NOT NULL,
    target      TEXT NOT NULL CHECK (target IN ('destination', 'log')),
    random_id   TEXT NOT NULL UNIQUE,       -- signed 64-bit, as text
    message_id  INTEGER,                    -- NULL until Telegram confirmed
    created_at  TEXT NOT NULL DEFAULT ${NOW},
    sent_at     TEXT,
    UNIQUE (job_id, part, chat_id)
  ) STRICT`,
  `CREATE TABLE events (
    -- Audit log of admin actions and analytics events; data is JSON.
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL DEFAULT ${NOW},
    category   TEXT NOT NULL CHECK (category IN ('admin', 'analytics', 'system')),
    action     TEXT NOT NULL,               -- e.g. user.added, job.done, bot.started
    actor_id   INTEGER,                     -- who did it (NULL: the system)
    subject    TEXT,                        -- what it was done to (user id, job id, chat id)
    data       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data))
  ) STRICT`,
  `CREATE INDEX events_at ON events (at)`,
  `CREATE VIEW v_daily AS
    -- How is it doing: one row per UTC day.
    SELECT substr(created_at, 1, 10)                                        AS day,
           count(*)                                                         AS jobs,
           sum(status = 'done')                                             AS done,
           sum(status = 'failed')                                           AS failed,
           sum(status = 'cancelled')                                        AS cancelled,
           count(DISTINCT user_id)                                          AS users,
           round(sum(CASE WHEN status = 'done' THEN bytes_total END) / 1048576.0, 1) AS mib_sent,
           round(sum(CASE WHEN status = 'done' THEN bytes_total END) / 1048576.0
                 / nullif(sum(CASE WHEN status = 'done' THEN upload_ms END) / 1000.0, 0), 1) AS upload_mib_s
      FROM jobs GROUP BY day ORDER BY day DESC`,
  `CREATE VIEW v_users AS
    -- Who uses it and how much.
    SELECT u.id, u.username, u.first_name, u.role, u.last_seen_at,
           count(j.id)                                                      AS jobs,
           coalesce(sum(j.status = 'done'), 0)                              AS done,
           coalesce(sum(j.status = 'failed'), 0)                            AS failed,
           round(coalesce(sum(CASE WHEN j.status = 'done' THEN j.bytes_total END), 0) / 1048576.0, 1) AS mib_sent,
           max(j.created_at)                                                AS last_job_at
      FROM users u LEFT JOIN jobs j ON j.user_id = u.id
     GROUP BY u.id ORDER BY jobs DESC, u.id`,
  `CREATE VIEW v_queue AS
    -- What is waiting or running now, oldest first.
    SELECT j.id, j.user_id, u.username, j.status, j.attempts, j.batch_id, j.source_url,
           round(100.0 * j.bytes_done / nullif(j.bytes_total, 0), 1)       AS percent,
           round((julianday('now') - julianday(j.created_at)) * 1440, 1)   AS age_min,
           j.updated_at
      FROM jobs j LEFT JOIN users u ON u.id = j.user_id
     WHERE j.status NOT IN ('done', 'failed', 'cancelled')
     ORDER BY j.id`,
];

const DOWN = [
  "DROP VIEW v_queue",
  "DROP VIEW v_users",
  "DROP VIEW v_daily",
  "DROP TABLE events",
  "DROP TABLE deliveries",
  "DROP TABLE jobs",
  "DROP TABLE files",
  "DROP TABLE batches",
  "DROP TABLE user_settings",
  "DROP TABLE chats",
  "DROP TABLE bot_settings",
  "DROP TABLE users",
];

/**
 * PostgreSQL has no json_valid, which the CHECKs here and later use: the same predicate, by a jsonb cast. And a
 * foreign key there must name a table that exists, so chats comes before user_settings (SQLite resolves it later).
 */
const PG_JSON_VALID = `CREATE FUNCTION json_valid(value text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
  BEGIN PERFORM value::jsonb; RETURN true; EXCEPTION WHEN others THEN RETURN false; END $$`;

export async function up(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return runStatements(db, UP);
  const chats = UP.findIndex((s) => s.startsWith("CREATE TABLE chats"));
  const settings = UP.findIndex((s) => s.startsWith("CREATE TABLE user_settings"));
  const ordered = [...UP];
  ordered.splice(settings, 0, ...ordered.splice(chats, 1));
  await runStatements(db, [PG_JSON_VALID]);
  await runStatements(db, ordered);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, DOWN);
  if (isPostgres(db)) await runStatements(db, ["DROP FUNCTION json_valid(text)"]);
}
