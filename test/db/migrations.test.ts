import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { knownMigrations, migrateToLatest, openDatabase } from "../../src/db/database.js";
import { tempDir } from "../support/temp-dir.js";

const TABLES = [
  "batches",
  "bot_settings",
  "chats",
  "deliveries",
  "events",
  "files",
  "handled_updates",
  "jobs",
  "peers",
  "update_state",
  "user_settings",
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
});
