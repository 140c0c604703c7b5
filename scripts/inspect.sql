-- Queries an operator runs against the live database (safe while the bot runs: WAL mode).
--   sqlite3 -header -column data/medusa.db < scripts/inspect.sql
-- or one at a time:
--   sqlite3 -header -column data/medusa.db 'SELECT * FROM v_daily LIMIT 7'

-- How is it doing: jobs, failures and volume per day.
SELECT * FROM v_daily LIMIT 14;

-- What is waiting or running now.
SELECT * FROM v_queue;

-- Who uses it most.
SELECT * FROM v_users LIMIT 20;

-- The last failures and why.
SELECT id, user_id, error_code, substr(error_message, 1, 80) AS error, source_url, finished_at
  FROM jobs WHERE status = 'failed' ORDER BY id DESC LIMIT 20;

-- Failure causes this week.
SELECT error_code, count(*) AS n FROM jobs
 WHERE status = 'failed' AND created_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days')
 GROUP BY error_code ORDER BY n DESC;

-- Admin actions (audit log).
SELECT at, action, actor_id, subject, data FROM events WHERE category = 'admin' ORDER BY id DESC LIMIT 20;

-- Channels: destinations and log channels.
SELECT id, kind, purpose, title, owner_id FROM chats ORDER BY purpose, id;
