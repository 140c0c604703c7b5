/**
 * Pausing a job: a flag on the row. A paused job keeps its place (its id, priority and columns) and whatever its
 * steps finished, and no worker claims it until it is resumed; v_queue shows it as paused.
 * Frozen in time: never import app code here, never edit after release — add a migration.
 * Kysely runs SQLite migrations outside a transaction; this one opens its own so that it applies whole or not at all.
 */
import type { Kysely } from "kysely";
import { runInTransaction } from "./dialect.js";

/** v_queue as 0003 made it, with `paused` in `state` (before every other state but a live lease). */
const QUEUE_VIEW = (paused: boolean) => `CREATE VIEW v_queue AS
    -- What is waiting or running now: running jobs first, then higher priority, then oldest. The real claim order
    -- also takes turns between users; queueOverview() in src/db/queue-overview.ts computes it.
    SELECT j.id, j.user_id, u.username, j.status, j.attempts, j.batch_id, j.source_url,
           round(100.0 * j.bytes_done / nullif(j.bytes_total, 0), 1)       AS percent,
           round((julianday('now') - julianday(j.created_at)) * 1440, 1)   AS age_min,
           j.updated_at,
           j.priority,
           j.max_attempts,
           CASE WHEN j.locked_by IS NOT NULL AND j.locked_until >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                THEN 'running'
                WHEN j.locked_by IS NOT NULL THEN 'lease expired'
                WHEN j.cancel_requested = 1 THEN 'cancelling'
                ${paused ? "WHEN j.paused = 1 THEN 'paused'" : ""}
                WHEN j.run_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now') THEN 'retry later'
                ELSE 'waiting' END                                          AS state,
           j.locked_by,
           j.locked_until,
           j.run_at,
           j.cancel_requested,
           j.error_code                                                     AS last_error
      FROM jobs j LEFT JOIN users u ON u.id = j.user_id
     WHERE j.status NOT IN ('done', 'failed', 'cancelled')
     ORDER BY j.locked_by IS NULL, j.priority DESC, j.id`;

const UP = [
  `ALTER TABLE jobs ADD COLUMN paused INTEGER NOT NULL DEFAULT 0 /* paused by its user: kept in place, not claimed until resumed */ CHECK (paused IN (0, 1))`,
  `DROP VIEW v_queue`,
  QUEUE_VIEW(true),
];

const DOWN = [`DROP VIEW v_queue`, QUEUE_VIEW(false), `ALTER TABLE jobs DROP COLUMN paused`];

export async function up(db: Kysely<unknown>): Promise<void> {
  await runInTransaction(db, UP);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runInTransaction(db, DOWN);
}
