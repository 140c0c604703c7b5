import assert from "node:assert/strict";
import path from "node:path";
import { describe, it, type TestContext } from "node:test";
import { type Kysely, Migrator, sql } from "kysely";
import {
  knownMigrations,
  MIGRATIONS,
  migrateToLatest,
  openDatabase,
  openPostgres,
} from "../../src/db/database.js";
import * as m0001 from "../../src/db/migrations/0001_initial.js";
import * as m0002 from "../../src/db/migrations/0002_updates.js";
import * as m0003 from "../../src/db/migrations/0003_job_queue.js";
import * as m0005 from "../../src/db/migrations/0005_batch_summary.js";
import * as m0007 from "../../src/db/migrations/0007_history_totals.js";
import { tempDir } from "../support/temp-dir.js";
import { type EngineName, emptyPostgres, engines } from "./support.js";

const TABLES = [
  "batch_summaries",
  "batches",
  "bot_settings",
  "chats",
  "daily_totals",
  "deliveries",
  "events",
  "files",
  "handled_updates",
  "jobs",
  "link_prompts",
  "peers",
  "update_state",
  "user_settings",
  "user_totals",
  "users",
];
const VIEWS = ["v_daily", "v_queue", "v_users"];

describe("migrations", () => {
  it("create every table and view on an empty file, in WAL mode with foreign keys on", async (t) => {
    const file = path.join(tempDir(t), "sub", "medusa.db");
    const opened = openDatabase(file);
    t.after(() => opened.close());
    const outcome = await migrateToLatest(opened.db);
    assert.equal(outcome.error, undefined);
    assert.deepEqual(outcome.applied, knownMigrations());

    const names = (type: string) =>
      (
        opened.sqlite.prepare("SELECT name FROM sqlite_master WHERE type = ? ORDER BY name").all(type) as {
          name: string;
        }[]
      )
        .map((r) => r.name)
        .filter((n) => !n.startsWith("kysely_") && !n.startsWith("sqlite_"));
    assert.deepEqual(names("table"), TABLES);
    assert.deepEqual(names("view"), VIEWS);
    assert.equal(opened.sqlite.pragma("journal_mode", { simple: true }), "wal");
    assert.equal(opened.sqlite.pragma("foreign_keys", { simple: true }), 1);
    for (const view of VIEWS) opened.sqlite.prepare(`SELECT * FROM ${view}`).all(); // views compile
  });

  it("are a no-op the second time, and keep the data", async (t) => {
    const file = path.join(tempDir(t), "medusa.db");
    const first = openDatabase(file);
    await migrateToLatest(first.db);
    first.sqlite.prepare("INSERT INTO users (id, role) VALUES (1, 'owner')").run();
    await first.close();

    const second = openDatabase(file);
    t.after(() => second.close());
    const outcome = await migrateToLatest(second.db);
    assert.equal(outcome.error, undefined);
    assert.deepEqual(outcome.applied, []);
    assert.deepEqual(second.sqlite.prepare("SELECT id, role FROM users").all(), [{ id: 1, role: "owner" }]);
  });

  it("keep the table comments so the sqlite3 shell shows them", async (t) => {
    const opened = openDatabase(path.join(tempDir(t), "medusa.db"));
    t.after(() => opened.close());
    await migrateToLatest(opened.db);
    const rows = opened.sqlite.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table'").all() as {
      name: string;
      sql: string;
    }[];
    for (const table of TABLES) {
      const sql = rows.find((r) => r.name === table)?.sql ?? "";
      assert.match(sql, /--\s+\S/, `${table} has a comment`);
    }
  });

  it("enforce the enums and JSON columns with CHECK constraints", async (t) => {
    const opened = openDatabase(path.join(tempDir(t), "medusa.db"));
    t.after(() => opened.close());
    await migrateToLatest(opened.db);
    const run = (sql: string) => () => opened.sqlite.prepare(sql).run();
    assert.throws(run("INSERT INTO users (id, role) VALUES (1, 'superuser')"), /CHECK constraint failed/);
    opened.sqlite.prepare("INSERT INTO users (id) VALUES (1)").run();
    assert.throws(
      run(
        "INSERT INTO jobs (user_id, request_chat_id, destination_chat_id, source_url, status) VALUES (1, 1, 1, 'u', 'lost')",
      ),
      /CHECK constraint failed/,
    );
    assert.throws(
      run(
        "INSERT INTO jobs (user_id, request_chat_id, destination_chat_id, source_url, options) VALUES (1, 1, 1, 'u', '{bad')",
      ),
      /CHECK constraint failed/,
    );
    assert.throws(
      run(
        "INSERT INTO jobs (user_id, request_chat_id, destination_chat_id, source_url) VALUES (99, 1, 1, 'u')",
      ),
      /FOREIGN KEY constraint failed/,
    );
  });

  it("add the job queue columns to existing jobs: due since created, 5 attempts, no lease", async (t) => {
    const opened = openDatabase(path.join(tempDir(t), "medusa.db"));
    t.after(() => opened.close());
    const before = new Migrator({
      db: opened.db,
      provider: { getMigrations: async () => ({ "0001_initial": m0001, "0002_updates": m0002 }) },
    });
    assert.equal((await before.migrateToLatest()).error, undefined);
    opened.sqlite.prepare("INSERT INTO users (id) VALUES (1)").run();
    opened.sqlite
      .prepare(
        "INSERT INTO jobs (user_id, request_chat_id, destination_chat_id, source_url, created_at) VALUES (1, 1, 1, 'u', '2024-05-01T10:00:00.000Z')",
      )
      .run();

    const outcome = await migrateToLatest(opened.db);
    assert.equal(outcome.error, undefined);
    assert.deepEqual(outcome.applied, knownMigrations().slice(2), "0003 and every later one");
    const row = opened.sqlite
      .prepare(
        "SELECT priority, run_at, locked_by, locked_until, claimed_at, max_attempts, cancel_requested, checkpoint, pids FROM jobs",
      )
      .get();
    assert.deepEqual(row, {
      priority: 0,
      run_at: "2024-05-01T10:00:00.000Z",
      locked_by: null,
      locked_until: null,
      claimed_at: null,
      max_attempts: 5,
      cancel_requested: 0,
      checkpoint: "{}",
      pids: "[]",
    });
    const jobsSql = (
      opened.sqlite.prepare("SELECT sql FROM sqlite_master WHERE name = 'jobs'").get() as { sql: string }
    ).sql;
    assert.match(
      jobsSql,
      /locked_until TEXT \/\* the lease's expiry/,
      "the column comments are in the schema",
    );
    const queue = opened.sqlite.prepare("SELECT id, state, priority, locked_by, run_at FROM v_queue").all();
    assert.deepEqual(queue, [
      { id: 1, state: "waiting", priority: 0, locked_by: null, run_at: "2024-05-01T10:00:00.000Z" },
    ]);
  });

  it("keep the lease whole and the JSON columns valid", async (t) => {
    const opened = openDatabase(path.join(tempDir(t), "medusa.db"));
    t.after(() => opened.close());
    await migrateToLatest(opened.db);
    opened.sqlite.prepare("INSERT INTO users (id) VALUES (1)").run();
    const insert = (columns: string, values: string) => () =>
      opened.sqlite
        .prepare(
          `INSERT INTO jobs (user_id, request_chat_id, destination_chat_id, source_url, ${columns}) VALUES (1, 1, 1, 'u', ${values})`,
        )
        .run();
    assert.throws(insert("locked_by", "'w1'"), /CHECK constraint failed/, "an owner without an expiry");
    assert.throws(insert("locked_until", "'2030-01-01T00:00:00.000Z'"), /CHECK constraint failed/);
    assert.throws(insert("checkpoint", "'{bad'"), /CHECK constraint failed/);
    assert.throws(insert("pids", "'[1,'"), /CHECK constraint failed/);
    assert.throws(insert("cancel_requested", "2"), /CHECK constraint failed/);
    assert.throws(insert("max_attempts", "0"), /CHECK constraint failed/);
    insert("locked_by, locked_until", "'w1', '2030-01-01T00:00:00.000Z'")();
  });

  it("undo the job queue migration and apply it again", async (t) => {
    const opened = openDatabase(path.join(tempDir(t), "medusa.db"));
    t.after(() => opened.close());
    const migrator = new Migrator({
      db: opened.db,
      provider: {
        getMigrations: async () => ({
          "0001_initial": m0001,
          "0002_updates": m0002,
          "0003_job_queue": m0003,
        }),
      },
    });
    assert.equal((await migrator.migrateToLatest()).error, undefined);
    const columns = () =>
      (opened.sqlite.prepare("SELECT name FROM pragma_table_info('jobs')").all() as { name: string }[]).map(
        (c) => c.name,
      );
    const withQueue = columns();
    const down = await migrator.migrateDown();
    assert.equal(down.error, undefined);
    assert.deepEqual(
      withQueue.filter((c) => !columns().includes(c)),
      [
        "priority",
        "run_at",
        "locked_by",
        "locked_until",
        "claimed_at",
        "max_attempts",
        "cancel_requested",
        "checkpoint",
        "pids",
      ],
    );
    opened.sqlite.prepare("SELECT * FROM v_queue").all();
    assert.equal((await migrator.migrateToLatest()).error, undefined);
    assert.deepEqual(columns(), withQueue);
  });

  it("add the history totals with views that read the same on existing jobs, and undo them", async (t) => {
    const opened = openDatabase(path.join(tempDir(t), "medusa.db"));
    t.after(() => opened.close());
    const upTo = (names: string[]) =>
      new Migrator({
        db: opened.db,
        provider: {
          getMigrations: async () =>
            Object.fromEntries(
              Object.entries({
                "0001_initial": m0001,
                "0002_updates": m0002,
                "0003_job_queue": m0003,
                "0007_history_totals": m0007,
              }).filter(([name]) => names.includes(name)),
            ),
        },
      });
    assert.equal(
      (await upTo(["0001_initial", "0002_updates", "0003_job_queue"]).migrateToLatest()).error,
      undefined,
    );
    opened.sqlite.prepare("INSERT INTO users (id, username) VALUES (1, 'a'), (2, 'b'), (3, 'idle')").run();
    const insert = opened.sqlite.prepare(
      "INSERT INTO jobs (user_id, request_chat_id, destination_chat_id, source_url, status, bytes_total, upload_ms, created_at) VALUES (?, 1, 1, 'u', ?, ?, ?, ?)",
    );
    insert.run(1, "done", 3 * 1048576, 1000, "2026-05-01T10:00:00.000Z");
    insert.run(2, "failed", null, null, "2026-05-01T11:00:00.000Z");
    insert.run(1, "queued", null, null, "2026-05-02T10:00:00.000Z");
    const views = () => ({
      daily: opened.sqlite.prepare("SELECT * FROM v_daily").all(),
      users: opened.sqlite.prepare("SELECT * FROM v_users").all(),
    });
    const before = views();
    const all = upTo(["0001_initial", "0002_updates", "0003_job_queue", "0007_history_totals"]);
    assert.equal((await all.migrateToLatest()).error, undefined);
    assert.deepEqual(views(), before);
    assert.equal((await all.migrateDown()).error, undefined);
    assert.deepEqual(views(), before);
    const tables = opened.sqlite.prepare("SELECT name FROM sqlite_master WHERE name LIKE '%_totals'").all();
    assert.deepEqual(tables, []);
  });

  it("apply the job queue migration whole or not at all", async (t) => {
    const opened = openDatabase(path.join(tempDir(t), "medusa.db"));
    t.after(() => opened.close());
    const before = new Migrator({
      db: opened.db,
      provider: { getMigrations: async () => ({ "0001_initial": m0001, "0002_updates": m0002 }) },
    });
    assert.equal((await before.migrateToLatest()).error, undefined);
    opened.sqlite.prepare("ALTER TABLE jobs ADD COLUMN pids TEXT").run(); // the migration's last column clashes
    const outcome = await migrateToLatest(opened.db);
    assert.match(String(outcome.error), /duplicate column name: pids/);
    const columns = (
      opened.sqlite.prepare("SELECT name FROM pragma_table_info('jobs')").all() as { name: string }[]
    )
      .map((c) => c.name)
      .filter((name) => ["priority", "run_at", "locked_by"].includes(name));
    assert.deepEqual(columns, [], "the columns added before the failure were rolled back");
  });

  it("owe no summary for batches that ended before the batch summary migration, and can be undone", async (t) => {
    const opened = openDatabase(path.join(tempDir(t), "medusa.db"));
    t.after(() => opened.close());
    const upTo = (names: string[]) =>
      new Migrator({
        db: opened.db,
        provider: {
          getMigrations: async () =>
            Object.fromEntries(
              Object.entries({
                "0001_initial": m0001,
                "0002_updates": m0002,
                "0003_job_queue": m0003,
                "0005_batch_summary": m0005,
              }).filter(([name]) => names.includes(name)),
            ),
        },
      });
    const before = upTo(["0001_initial", "0002_updates", "0003_job_queue"]);
    assert.equal((await before.migrateToLatest()).error, undefined);
    opened.sqlite.prepare("INSERT INTO users (id) VALUES (1)").run();
    opened.sqlite
      .prepare(
        "INSERT INTO batches (user_id, chat_id, total, status, finished_at) VALUES (1, 1, 0, 'done', '2024-05-01T10:00:00.000Z'), (1, 1, 3, 'running', NULL)",
      )
      .run();
    const all = upTo(["0001_initial", "0002_updates", "0003_job_queue", "0005_batch_summary"]);
    assert.equal((await all.migrateToLatest()).error, undefined);
    assert.deepEqual(opened.sqlite.prepare("SELECT id, summary_sent_at, skipped FROM batches").all(), [
      { id: 1, summary_sent_at: "2024-05-01T10:00:00.000Z", skipped: "[]" },
      { id: 2, summary_sent_at: null, skipped: "[]" },
    ]);
    assert.throws(
      () => opened.sqlite.prepare("UPDATE batches SET skipped = '[1,' WHERE id = 2").run(),
      /CHECK constraint failed/,
    );
    assert.equal((await all.migrateDown()).error, undefined);
    const batchColumns = (
      opened.sqlite.prepare("SELECT name FROM pragma_table_info('batches')").all() as { name: string }[]
    ).map((c) => c.name);
    assert.ok(!batchColumns.includes("summary_sent_at"), "the columns are gone after down");
    assert.equal((await all.migrateToLatest()).error, undefined);
  });
});

/** Tables or views of the schema, whatever the engine (kysely's own and the engines' catalogs left out). */
async function schemaNames(
  db: Kysely<unknown>,
  engine: EngineName,
  type: "table" | "view",
): Promise<string[]> {
  const rows =
    engine === "sqlite"
      ? await sql<{
          name: string;
        }>`SELECT name FROM sqlite_master WHERE type = ${type} ORDER BY name`.execute(db)
      : await sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables
          WHERE table_schema = 'public' AND table_type = ${type === "table" ? "BASE TABLE" : "VIEW"}
          ORDER BY table_name`.execute(db);
  return rows.rows.map((r) => r.name).filter((n) => !n.startsWith("kysely_") && !n.startsWith("sqlite_"));
}

/** An empty store on `engine`, closed after the test. */
async function emptyStore(t: TestContext, engine: EngineName) {
  const opened =
    engine === "sqlite"
      ? openDatabase(path.join(tempDir(t), "medusa.db"))
      : openPostgres(await emptyPostgres());
  t.after(() => opened.close());
  return opened.db as unknown as Kysely<unknown>;
}

for (const engine of engines()) {
  describe(`migrations on ${engine.name}`, { skip: engine.skip }, () => {
    it("create every table and view, are a no-op the second time, and keep the data", async (t) => {
      const db = await emptyStore(t, engine.name);
      const outcome = await migrateToLatest(db as never);
      assert.equal(outcome.error, undefined);
      assert.deepEqual(outcome.applied, knownMigrations());
      assert.deepEqual(await schemaNames(db, engine.name, "table"), TABLES);
      assert.deepEqual(await schemaNames(db, engine.name, "view"), VIEWS);
      for (const view of VIEWS) await sql`SELECT * FROM ${sql.table(view)}`.execute(db); // views compile
      await sql`INSERT INTO users (id, role) VALUES (1, 'owner')`.execute(db);
      assert.deepEqual((await migrateToLatest(db as never)).applied, []);
      assert.deepEqual((await sql`SELECT id, role FROM users`.execute(db)).rows, [{ id: 1, role: "owner" }]);
    });

    it("enforce the enums, the lease, the JSON columns and the foreign keys", async (t) => {
      const db = await emptyStore(t, engine.name);
      assert.equal((await migrateToLatest(db as never)).error, undefined);
      const rejects = (statement: string, why: RegExp) =>
        assert.rejects(sql.raw(statement).execute(db), why, statement);
      const check = /CHECK constraint failed|violates check constraint/;
      await rejects("INSERT INTO users (id, role) VALUES (1, 'superuser')", check);
      await sql`INSERT INTO users (id) VALUES (1)`.execute(db);
      const job = (columns: string, values: string) =>
        `INSERT INTO jobs (user_id, request_chat_id, destination_chat_id, source_url${columns}) VALUES (1, 1, 1, 'u'${values})`;
      await rejects(job(", status", ", 'lost'"), check);
      await rejects(job(", options", ", '{bad'"), check);
      await rejects(job(", checkpoint", ", '{bad'"), check);
      await rejects(job(", pids", ", '[1,'"), check);
      await rejects(job(", locked_by", ", 'w1'"), check);
      await rejects(job(", cancel_requested", ", 2"), check);
      await rejects(
        "INSERT INTO jobs (user_id, request_chat_id, destination_chat_id, source_url) VALUES (99, 1, 1, 'u')",
        /FOREIGN KEY constraint failed|violates foreign key constraint/,
      );
      await sql.raw(job(", locked_by, locked_until", ", 'w1', '2030-01-01T00:00:00.000Z'")).execute(db);
      // Telegram's ids are 64-bit (channels are -100…): they fit, and come back as numbers.
      await sql`INSERT INTO chats (id, kind, purpose) VALUES (-1001234567890123, 'channel', 'log')`.execute(
        db,
      );
      assert.deepEqual((await sql`SELECT id FROM chats`.execute(db)).rows, [{ id: -1001234567890123 }]);
      const [row] = (await sql<{ created_at: string }>`SELECT created_at FROM users`.execute(db)).rows;
      assert.match(
        row?.created_at ?? "",
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
        "defaults are ISO-8601 UTC text",
      );
    });

    it("add the job queue columns to existing jobs, and every migration undoes and redoes", async (t) => {
      const db = await emptyStore(t, engine.name);
      const upTo = (count: number) =>
        new Migrator({
          db,
          provider: {
            getMigrations: async () =>
              Object.fromEntries(Object.entries(MIGRATIONS).slice(0, count)) as Record<string, never>,
          },
        });
      assert.equal((await upTo(2).migrateToLatest()).error, undefined);
      await sql`INSERT INTO users (id) VALUES (1)`.execute(db);
      await sql`INSERT INTO jobs (user_id, request_chat_id, destination_chat_id, source_url, created_at)
        VALUES (1, 1, 1, 'u', '2024-05-01T10:00:00.000Z')`.execute(db);
      const all = upTo(Object.keys(MIGRATIONS).length);
      assert.equal((await all.migrateToLatest()).error, undefined);
      const row = (
        await sql`SELECT priority, run_at, locked_by, max_attempts, cancel_requested, checkpoint, pids, paused
          FROM jobs`.execute(db)
      ).rows[0];
      assert.deepEqual(row, {
        priority: 0,
        run_at: "2024-05-01T10:00:00.000Z",
        locked_by: null,
        max_attempts: 5,
        cancel_requested: 0,
        checkpoint: "{}",
        pids: "[]",
        paused: 0,
      });
      const queue = (await sql`SELECT id, state, priority, locked_by, run_at FROM v_queue`.execute(db)).rows;
      assert.deepEqual(queue, [
        { id: 1, state: "waiting", priority: 0, locked_by: null, run_at: "2024-05-01T10:00:00.000Z" },
      ]);
      const views = async () => ({
        daily: (await sql`SELECT * FROM v_daily`.execute(db)).rows,
        users: (await sql`SELECT * FROM v_users`.execute(db)).rows,
      });
      const before = await views();
      assert.deepEqual(before.daily, [
        {
          day: "2024-05-01",
          jobs: 1,
          done: 0,
          failed: 0,
          cancelled: 0,
          users: 1,
          mib_sent: null,
          upload_mib_s: null,
        },
      ]);
      // Down to the first migration, one at a time, then up again: each down() runs on this engine.
      for (let i = Object.keys(MIGRATIONS).length; i > 1; i--) {
        const down = await all.migrateDown();
        assert.equal(down.error, undefined, `down from ${i}`);
      }
      assert.deepEqual(await schemaNames(db, engine.name, "view"), VIEWS);
      assert.equal((await all.migrateToLatest()).error, undefined);
      assert.deepEqual(await schemaNames(db, engine.name, "table"), TABLES);
      assert.deepEqual(await views(), before);
    });
  });
}
