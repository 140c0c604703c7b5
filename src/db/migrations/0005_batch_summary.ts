/**
 * Batch summaries delivered exactly once, and links re-sent by reference. A batch keeps the lines of its file that
 * never became jobs and its rendered summary; each chat the summary goes to gets a row whose random_id is stored
 * before the send, as deliveries do for files. Each job of a batch keeps its line in the file, so a failure is
 * reported by the line the user wrote. Frozen in time: never import app code here, never edit after release.
 *
 * Columns are added with ALTER TABLE ADD COLUMN and constant defaults (see 0003); a column's comment is a block
 * comment inside its definition so `.schema` shows it. One transaction: it applies whole or not at all.
 */
import type { Kysely } from "kysely";
import { runInTransaction } from "./dialect.js";

const NOW = `(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;

const UP = [
  `ALTER TABLE jobs ADD COLUMN batch_line INTEGER /* the line of the batch file this job came from */ CHECK (batch_line IS NULL OR batch_line >= 1)`,
  `ALTER TABLE batches ADD COLUMN skipped TEXT NOT NULL DEFAULT '[]' /* JSON [{line, reason}]: lines of the file that never became jobs */ CHECK (json_valid(skipped))`,
  `ALTER TABLE batches ADD COLUMN summary TEXT /* the summary (Telegram HTML) as rendered when the batch ended; every chat gets this text */`,
  `ALTER TABLE batches ADD COLUMN summary_sent_at TEXT /* every chat has the summary (or refused it); NULL while one is owed */`,
  // Batches that ended before this migration had no summary to send: none is owed for them.
  `UPDATE batches SET summary_sent_at = coalesce(finished_at, created_at) WHERE status <> 'running'`,
  `CREATE TABLE batch_summaries (
    -- The summary of a finished batch, one row per chat it goes to: the batch's chat and each log channel. random_id
    -- is stored before the send, so a re-send after a crash is dropped by Telegram (RANDOM_ID_DUPLICATE).
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id    INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL,
    target      TEXT NOT NULL CHECK (target IN ('chat', 'log')),
    random_id   TEXT NOT NULL UNIQUE,       -- signed 64-bit, as text
    message_id  INTEGER,                    -- NULL until sent; 0 when an earlier attempt posted it (duplicate)
    refused     TEXT,                       -- the chat refused it for good (e.g. CHAT_WRITE_FORBIDDEN): skipped
    created_at  TEXT NOT NULL DEFAULT ${NOW},
    sent_at     TEXT,                       -- sent or refused: nothing more to do for this chat
    UNIQUE (batch_id, chat_id)
  ) STRICT`,
  // The start-up sweep looks for batches whose summary is owed; the link lookup for done jobs of a link.
  `CREATE INDEX batches_summary_owed ON batches (id) WHERE summary_sent_at IS NULL`,
  `CREATE INDEX jobs_done_link ON jobs (source_url, id) WHERE status = 'done'`,
];

const DOWN = [
  `DROP INDEX jobs_done_link`,
  `DROP INDEX batches_summary_owed`,
  `DROP TABLE batch_summaries`,
  `ALTER TABLE batches DROP COLUMN summary_sent_at`,
  `ALTER TABLE batches DROP COLUMN summary`,
  `ALTER TABLE batches DROP COLUMN skipped`,
  `ALTER TABLE jobs DROP COLUMN batch_line`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  await runInTransaction(db, UP);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runInTransaction(db, DOWN);
}
