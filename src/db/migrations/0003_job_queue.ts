/**
 * The persistent job queue: the job row carries its own lease, schedule, priority, cancel flag, resume checkpoint
 * and child process groups, so claiming, retrying and recovering need nothing but the jobs table.
 * Frozen in time: never import app code here, never edit after release — add a migration.
 *
 * SQLite cannot change a table's CHECKs or add a column whose default is an expression on a table that has rows,
 * so the columns are added with ALTER TABLE ADD COLUMN and constant defaults. A column's comment sits inside its
 * definition as a one-line block comment: SQLite copies that text into the table's schema (a line comment would
 * swallow the closing parenthesis), so `sqlite3 data/medusa.db .schema jobs` still explains every column.
 * Kysely runs SQLite migrations outside a transaction; this one opens its own so that it applies whole or not at all.
 */
import type { Kysely } from "kysely";
import { runInTransaction } from "./dialect.js";

const UP = [
  `ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0 /* higher is claimed first: admins' jobs */`,
  // run_at cannot default to now here (see above): the epoch means "due at once"; the repository sets it on insert.
  `ALTER TABLE jobs ADD COLUMN run_at TEXT NOT NULL DEFAULT '1970-01-01T00:00:00.000Z' /* not claimed before (ISO UTC); a retry moves it */`,
  `ALTER TABLE jobs ADD COLUMN locked_by TEXT /* the lease: the worker running the job */`,
  `ALTER TABLE jobs ADD COLUMN locked_until TEXT /* the lease's expiry, moved on by heartbeats */ CHECK ((locked_by IS NULL) = (locked_until IS NULL))`,
  `ALTER TABLE jobs ADD COLUMN claimed_at TEXT /* last claim: turns go to the user whose last claim is oldest */`,
  `ALTER TABLE jobs ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 5 /* claims allowed before it fails */ CHECK (max_attempts >= 1)`,
  `ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0 /* cancel of a running job: its worker stops */ CHECK (cancel_requested IN (0, 1))`,
  `ALTER TABLE jobs ADD COLUMN checkpoint TEXT NOT NULL DEFAULT '{}' /* JSON the steps keep to resume */ CHECK (json_valid(checkpoint))`,
  `ALTER TABLE jobs ADD COLUMN pids TEXT NOT NULL DEFAULT '[]' /* JSON list of child process groups to kill after a crash */ CHECK (json_valid(pids))`,
  // Jobs from before the queue are due since they were created.
  `UPDATE jobs SET run_at = created_at`,
  // Claiming scans the runnable jobs by status and due time; the two per-user lookups of the round robin (leases
  // held now, last claim) are index seeks.
  `CREATE INDEX jobs_claim ON jobs (status, run_at) WHERE status NOT IN ('done', 'failed', 'cancelled')`,
  `CREATE INDEX jobs_leased ON jobs (user_id, locked_until) WHERE locked_by IS NOT NULL`,
  `CREATE INDEX jobs_last_claim ON jobs (user_id, claimed_at)`,
  // The start-up cleanup of process groups, and the ETA from recently done jobs.
  `CREATE INDEX jobs_with_pids ON jobs (id) WHERE pids <> '[]'`,
  `CREATE INDEX jobs_done ON jobs (finished_at) WHERE status = 'done'`,
  `DROP VIEW v_queue`,
  `CREATE VIEW v_queue AS
    -- What is waiting or running now: running jobs first, then higher priority, then oldest. The real claim order
    -- also takes turns between users; queueOverview() in src/db/jobs.ts computes it.
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
                WHEN j.run_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now') THEN 'retry later'
                ELSE 'waiting' END                                          AS state,
           j.locked_by,
           j.locked_until,
           j.run_at,
           j.cancel_requested,
           j.error_code                                                     AS last_error
      FROM jobs j LEFT JOIN users u ON u.id = j.user_id
     WHERE j.status NOT IN ('done', 'failed', 'cancelled')
     ORDER BY j.locked_by IS NULL, j.priority DESC, j.id`,
];

const DOWN = [
  `DROP VIEW v_queue`,
  // The view as 0001 created it.
  `CREATE VIEW v_queue AS
    -- What is waiting or running now, oldest first.
    SELECT j.id, j.user_id, u.username, j.status, j.attempts, j.batch_id, j.source_url,
           round(100.0 * j.bytes_done / nullif(j.bytes_total, 0), 1)       AS percent,
           round((julianday('now') - julianday(j.created_at)) * 1440, 1)   AS age_min,
           j.updated_at
      FROM jobs j LEFT JOIN users u ON u.id = j.user_id
     WHERE j.status NOT IN ('done', 'failed', 'cancelled')
     ORDER BY j.id`,
  `DROP INDEX jobs_done`,
  `DROP INDEX jobs_with_pids`,
  `DROP INDEX jobs_last_claim`,
  `DROP INDEX jobs_leased`,
  `DROP INDEX jobs_claim`,
  `ALTER TABLE jobs DROP COLUMN pids`,
  `ALTER TABLE jobs DROP COLUMN checkpoint`,
  `ALTER TABLE jobs DROP COLUMN cancel_requested`,
  `ALTER TABLE jobs DROP COLUMN max_attempts`,
  `ALTER TABLE jobs DROP COLUMN claimed_at`,
  `ALTER TABLE jobs DROP COLUMN locked_until`,
  `ALTER TABLE jobs DROP COLUMN locked_by`,
  `ALTER TABLE jobs DROP COLUMN run_at`,
  `ALTER TABLE jobs DROP COLUMN priority`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  await runInTransaction(db, UP);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runInTransaction(db, DOWN);
}
