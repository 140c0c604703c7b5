/**
 * History retention: job rows older than HISTORY_DAYS are deleted, their day's and their user's numbers kept in two
 * small tables, and the operator views add those numbers back, so `v_daily` and `v_users` read the same before and
 * after a prune. Days are pruned whole, so a day's distinct-user count is never split between the two sources.
 * Frozen in time: never import app code here, never edit after release — add a migration.
 */
import type { Kysely } from "kysely";
import { runInTransaction } from "./dialect.js";

const V_DAILY_0001 = `CREATE VIEW v_daily AS
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
      FROM jobs GROUP BY day ORDER BY day DESC`;

const V_USERS_0001 = `CREATE VIEW v_users AS
    -- Who uses it and how much.
    SELECT u.id, u.username, u.first_name, u.role, u.last_seen_at,
           count(j.id)                                                      AS jobs,
           coalesce(sum(j.status = 'done'), 0)                              AS done,
           coalesce(sum(j.status = 'failed'), 0)                            AS failed,
           round(coalesce(sum(CASE WHEN j.status = 'done' THEN j.bytes_total END), 0) / 1048576.0, 1) AS mib_sent,
           max(j.created_at)                                                AS last_job_at
      FROM users u LEFT JOIN jobs j ON j.user_id = u.id
     GROUP BY u.id ORDER BY jobs DESC, u.id`;

const UP = [
  `CREATE TABLE daily_totals (
    -- The numbers of days whose job rows were pruned (HISTORY_DAYS); v_daily adds them to the live rows.
    day         TEXT PRIMARY KEY,              -- UTC day, YYYY-MM-DD
    jobs        INTEGER NOT NULL CHECK (jobs >= 0),
    done        INTEGER NOT NULL CHECK (done >= 0),
    failed      INTEGER NOT NULL CHECK (failed >= 0),
    cancelled   INTEGER NOT NULL CHECK (cancelled >= 0),
    users       INTEGER NOT NULL CHECK (users >= 0),
    bytes_sent  INTEGER,                       -- bytes of the done jobs; NULL when none was done
    upload_ms   INTEGER,                       -- upload time of the done jobs
    pruned_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  ) STRICT`,
  `CREATE TABLE user_totals (
    -- Each user's numbers from pruned job rows; v_users adds them to the live rows.
    user_id     INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    jobs        INTEGER NOT NULL CHECK (jobs >= 0),
    done        INTEGER NOT NULL CHECK (done >= 0),
    failed      INTEGER NOT NULL CHECK (failed >= 0),
    bytes_sent  INTEGER NOT NULL DEFAULT 0 CHECK (bytes_sent >= 0),
    last_job_at TEXT
  ) STRICT`,
  `DROP VIEW v_daily`,
  `CREATE VIEW v_daily AS
    -- How is it doing: one row per UTC day; days past HISTORY_DAYS come from daily_totals.
    SELECT day,
           sum(jobs)                                                        AS jobs,
           sum(done)                                                        AS done,
           sum(failed)                                                      AS failed,
           sum(cancelled)                                                   AS cancelled,
           sum(users)                                                       AS users,
           round(sum(bytes_sent) / 1048576.0, 1)                            AS mib_sent,
           round(sum(bytes_sent) / 1048576.0 / nullif(sum(upload_ms) / 1000.0, 0), 1) AS upload_mib_s
      FROM (SELECT substr(created_at, 1, 10)                                AS day,
                   count(*)                                                 AS jobs,
                   sum(status = 'done')                                     AS done,
                   sum(status = 'failed')                                   AS failed,
                   sum(status = 'cancelled')                                AS cancelled,
                   count(DISTINCT user_id)                                  AS users,
                   sum(CASE WHEN status = 'done' THEN bytes_total END)      AS bytes_sent,
                   sum(CASE WHEN status = 'done' THEN upload_ms END)        AS upload_ms
              FROM jobs GROUP BY 1
            UNION ALL
            SELECT day, jobs, done, failed, cancelled, users, bytes_sent, upload_ms FROM daily_totals)
     GROUP BY day ORDER BY day DESC`,
  `DROP VIEW v_users`,
  `CREATE VIEW v_users AS
    -- Who uses it and how much, pruned history included.
    SELECT u.id, u.username, u.first_name, u.role, u.last_seen_at,
           count(j.id) + coalesce(max(t.jobs), 0)                           AS jobs,
           coalesce(sum(j.status = 'done'), 0) + coalesce(max(t.done), 0)   AS done,
           coalesce(sum(j.status = 'failed'), 0) + coalesce(max(t.failed), 0) AS failed,
           round((coalesce(sum(CASE WHEN j.status = 'done' THEN j.bytes_total END), 0)
                  + coalesce(max(t.bytes_sent), 0)) / 1048576.0, 1)        AS mib_sent,
           coalesce(max(j.created_at), max(t.last_job_at))                  AS last_job_at
      FROM users u LEFT JOIN jobs j ON j.user_id = u.id LEFT JOIN user_totals t ON t.user_id = u.id
     GROUP BY u.id ORDER BY jobs DESC, u.id`,
];

const DOWN = [
  `DROP VIEW v_users`,
  V_USERS_0001,
  `DROP VIEW v_daily`,
  V_DAILY_0001,
  `DROP TABLE user_totals`,
  `DROP TABLE daily_totals`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  await runInTransaction(db, UP);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runInTransaction(db, DOWN);
}
