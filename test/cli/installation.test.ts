import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it, type TestContext } from "node:test";
import { execa } from "execa";
import { sql } from "kysely";
import { addChat, listChats } from "../../src/db/chats.js";
import { type Db, openAndMigrate, openPostgres } from "../../src/db/database.js";
import { recordFile } from "../../src/db/files.js";
import { exportInstallation, type InstallationRecord } from "../../src/db/installation.js";
import { createJob, transitionJob } from "../../src/db/jobs.js";
import { getBotSetting, getUserSettings, setBotSetting, updateUserSettings } from "../../src/db/settings.js";
import { ensureOwner, getUser, listUsers, setRole, touchUser } from "../../src/db/users.js";
import { postgresCluster, postgresMissing } from "../support/postgres.js";
import { tempDir } from "../support/temp-dir.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");

function medusa(args: string[], dataDir: string, env: Record<string, string> = {}) {
  return execa(TSX, [path.join(ROOT, "src/cli.ts"), ...args], {
    cwd: path.dirname(dataDir),
    env: { PATH: process.env.PATH ?? "", DATA_DIR: dataDir, ...env },
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });
}

async function withDb<T>(
  dataDir: string,
  fn: (db: Awaited<ReturnType<typeof openAndMigrate>>["db"]) => Promise<T>,
) {
  const opened = await openAndMigrate(path.join(dataDir, "medusa.db"));
  try {
    return await fn(opened.db);
  } finally {
    await opened.close();
  }
}

async function recordsOf(db: Db): Promise<InstallationRecord[]> {
  const all: InstallationRecord[] = [];
  for await (const r of exportInstallation(db)) all.push(r);
  return all;
}

async function records(dataDir: string): Promise<InstallationRecord[]> {
  return withDb(dataDir, recordsOf);
}

/** What the operator views say, whatever the engine. */
async function views(db: Db) {
  return {
    daily: (await sql<Record<string, unknown>>`SELECT * FROM v_daily`.execute(db)).rows,
    users: (await sql<Record<string, unknown>>`SELECT * FROM v_users`.execute(db)).rows,
  };
}

/** An installation with one of everything, and a hostile name. */
async function populated(t: TestContext): Promise<string> {
  const dataDir = path.join(tempDir(t), "data");
  await withDb(dataDir, async (db) => {
    await db.transaction().execute((trx) => ensureOwner(trx, 1000));
    await touchUser(db, { id: 2000, username: "ann", firstName: "<b>Ann</b>\u202e", lastName: null });
    await setRole(db, 2000, "admin", 1000);
    await setRole(db, 3000, "user", 2000);
    await setRole(db, 4000, "banned", 1000);
    await addChat(db, { id: -1001234567890, kind: "channel", purpose: "log", title: "Log", username: null });
    await addChat(db, {
      id: -1009876543210,
      kind: "channel",
      purpose: "destination",
      title: "Films",
      username: "films",
    });
    await updateUserSettings(db, 3000, {
      quality: "720",
      uploadAs: "document",
      destinationChatId: -1009876543210,
      captionTemplate: "{name} · {size}",
    });
    await setBotSetting(db, "features", { ytdlp: true, batches: false }, 1000);
    await recordFile(db, {
      sha256: "a".repeat(64),
      size: 1234,
      name: "clip.mp4",
      mime_type: "video/mp4",
      kind: "video",
      account: "bot",
      document_id: "5000000000000000001",
      access_hash: "-4000000000000000002",
      file_reference: Buffer.from([0, 1, 2, 250]),
      dc_id: 2,
      duration: 12.5,
      width: 640,
      height: 360,
      source_url: "https://example.com/clip.mp4",
    });
  });
  return dataDir;
}

describe("medusa export / import", () => {
  it("moves users, roles, chats, settings and known files to a new installation, and a second import changes nothing", async (t) => {
    const from = await populated(t);
    const file = path.join(tempDir(t), "medusa.jsonl");
    const exported = await medusa(["export", "--out", file], from);
    assert.equal(exported.exitCode, 0, exported.stderr);
    assert.match(exported.stderr, /Exported 4 user, 2 chat, 1 user_settings, 1 bot_setting, 1 file/);
    assert.equal(
      fs.statSync(file).mode & 0o777,
      0o600,
      "the export holds ids and file references: owner only",
    );

    const to = path.join(tempDir(t), "data");
    const first = await medusa(["import", file], to);
    assert.equal(first.exitCode, 0, first.stderr);
    assert.match(first.stdout, /user: 4 added, 0 updated, 0 unchanged/);
    assert.match(first.stdout, /file: 1 added/);

    const moved = await records(to);
    const expected = (await records(from)).map((r) =>
      // The owner comes from OWNER_ID on the new machine, never from a file.
      r.type === "user" && r.role === "owner" ? { ...r, role: "admin" } : r,
    );
    assert.deepEqual(moved, expected);
    await withDb(to, async (db) => {
      assert.equal((await getUserSettings(db, 3000)).destinationChatId, -1009876543210);
      assert.deepEqual(await getBotSetting(db, "features", null), { ytdlp: true, batches: false });
      assert.equal((await getUser(db, 2000))?.first_name, "<b>Ann</b>\u202e");
    });

    const again = await medusa(["import", file], to);
    assert.equal(again.exitCode, 0, again.stderr);
    assert.match(again.stdout, /user: 0 added, 0 updated, 4 unchanged/);
    assert.match(again.stdout, /file: 0 added, 0 updated, 1 unchanged/);
    assert.deepEqual(await records(to), moved);
  });

  it("moves an installation with its history from SQLite to PostgreSQL: same records, same v_daily and v_users", {
    skip: postgresMissing() ?? false,
  }, async (t) => {
    const from = await populated(t);
    await withDb(from, async (db) => {
      const job = (user: number, day: string) =>
        createJob(db, {
          user_id: user,
          request_chat_id: user,
          destination_chat_id: user,
          source_url: "u",
        }).then(async (j) => {
          await db
            .updateTable("jobs")
            .set({ created_at: `${day}T10:00:00.000Z` })
            .where("id", "=", j.id)
            .execute();
          return j;
        });
      await transitionJob(db, (await job(2000, "2026-05-01")).id, "done", {
        bytes_total: 3 * 1048576,
        upload_ms: 1500,
      });
      await transitionJob(db, (await job(3000, "2026-05-01")).id, "failed", { error_code: "HTTP_404" });
      await transitionJob(db, (await job(2000, "2026-05-02")).id, "done", {
        bytes_total: 1048576,
        upload_ms: 500,
      });
      // A day whose job rows were pruned already (HISTORY_DAYS): its numbers live in the totals.
      await db
        .insertInto("daily_totals")
        .values({
          day: "2026-01-01",
          jobs: 5,
          done: 4,
          failed: 1,
          cancelled: 0,
          users: 2,
          bytes_sent: 4096,
          upload_ms: 10,
        })
        .execute();
      await db
        .insertInto("user_totals")
        .values({
          user_id: 3000,
          jobs: 5,
          done: 4,
          failed: 1,
          bytes_sent: 4096,
          last_job_at: "2026-01-01T09:00:00.000Z",
        })
        .execute();
    });
    const file = path.join(tempDir(t), "medusa.jsonl");
    const exported = await medusa(["export", "--out", file], from);
    assert.equal(exported.exitCode, 0, exported.stderr);
    assert.match(exported.stderr, /3 history_day, 2 history_user/);

    const url = await (await postgresCluster()).createDatabase();
    const to = path.join(tempDir(t), "data");
    const first = await medusa(["import", file], to, { DATABASE_URL: url });
    assert.equal(first.exitCode, 0, first.stderr);
    assert.match(first.stdout, /user: 4 added/);
    assert.match(first.stdout, /history_day: 3 added/);
    assert.ok(!fs.existsSync(path.join(to, "medusa.db")), "no SQLite file on the PostgreSQL installation");

    const target = openPostgres(url);
    t.after(() => target.close());
    const expected = (await records(from)).map((r) =>
      r.type === "user" && r.role === "owner" ? { ...r, role: "admin" } : r,
    );
    assert.deepEqual(await recordsOf(target.db), expected);
    const source = await withDb(from, views);
    // The same numbers; only the owner is OWNER_ID's on the new installation.
    const expectedViews = {
      daily: source.daily,
      users: source.users.map((u) => (u.role === "owner" ? { ...u, role: "admin" } : u)),
    };
    assert.deepEqual(await views(target.db), expectedViews);

    const again = await medusa(["import", file], to, { DATABASE_URL: url });
    assert.equal(again.exitCode, 0, again.stderr);
    assert.match(again.stdout, /history_day: 0 added, 0 updated, 3 unchanged/);
    assert.match(again.stdout, /history_user: 0 added, 0 updated, 2 unchanged/);
    assert.deepEqual(await views(target.db), expectedViews);
  });

  it("refuses a file with a bad line, naming the line and the field, and writes nothing", async (t) => {
    const from = await populated(t);
    const file = path.join(tempDir(t), "medusa.jsonl");
    assert.equal((await medusa(["export", "--out", file], from)).exitCode, 0);
    const lines = fs.readFileSync(file, "utf8").split("\n");
    lines[2] = lines[2]?.replace(/"role":"\w+"/, '"role":"god"') ?? "";
    lines.splice(4, 0, "{not json");
    fs.writeFileSync(file, lines.join("\n"));

    const to = path.join(tempDir(t), "data");
    const result = await medusa(["import", file], to);
    assert.equal(result.exitCode, 1);
    assert.match(result.stderr, /nothing changed/);
    assert.match(result.stderr, /line 3: role: /);
    assert.match(result.stderr, /line 5: not JSON/);
    await withDb(to, async (db) => assert.deepEqual(await listUsers(db), []));
  });

  it("never demotes the configured owner and turns a file's owner into an admin", async (t) => {
    const to = path.join(tempDir(t), "data");
    await withDb(to, (db) => db.transaction().execute((trx) => ensureOwner(trx, 42)));
    const file = path.join(tempDir(t), "hand.jsonl");
    const at = "2026-01-01T00:00:00.000Z";
    const user = (id: number, role: string) =>
      JSON.stringify({
        type: "user",
        id,
        username: null,
        first_name: null,
        last_name: null,
        role,
        created_at: at,
        last_seen_at: null,
      });
    fs.writeFileSync(
      file,
      [
        JSON.stringify({ format: "medusa-installation", version: 1, exported_at: at }),
        user(42, "user"),
        user(7, "owner"),
      ].join("\n"),
    );
    const result = await medusa(["import", file], to);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stderr, /user 7 was an owner in the file and is imported as an admin/);
    await withDb(to, async (db) => {
      assert.equal((await getUser(db, 42))?.role, "owner");
      assert.equal((await getUser(db, 7))?.role, "admin");
    });
  });

  it("takes the id lists another bot keeps in its .env, reporting what it cannot use", async (t) => {
    const dir = tempDir(t);
    const legacy = path.join(dir, "old.env");
    fs.writeFileSync(
      legacy,
      [
        "BOT_TOKEN=not-read-here",
        'AUTH_USERS="111 222,333"',
        "SUDO_USERS=222",
        "LOG_CHANNEL=-1001111111111",
        "CHANNELS=-1002222222222 @somechannel",
      ].join("\n"),
    );
    const to = path.join(dir, "data");
    const result = await medusa(["import", "--legacy-env", legacy], to);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stderr, /AUTH_USERS, SUDO_USERS, LOG_CHANNEL, CHANNELS/);
    assert.match(result.stderr, /skipped CHANNELS: @somechannel/);
    assert.doesNotMatch(result.stdout + result.stderr, /not-read-here/);
    await withDb(to, async (db) => {
      assert.deepEqual(
        (await listUsers(db)).map((u) => [u.id, u.role]),
        [
          [111, "user"],
          [222, "admin"],
          [333, "user"],
        ],
      );
      assert.deepEqual(
        (await listChats(db)).map((c) => [c.id, c.purpose, c.kind]),
        [
          [-1002222222222, "destination", "channel"],
          [-1001111111111, "log", "channel"],
        ],
      );
    });
    const dry = await medusa(["import", "--legacy-env", legacy, "--dry-run"], to);
    assert.equal(dry.exitCode, 0, dry.stderr);
    assert.match(dry.stdout, /user: 0 added, 0 updated, 3 unchanged/);
    assert.match(dry.stdout, /Dry run: nothing was written/);
  });

  it("refuses to overwrite an existing export", async (t) => {
    const from = await populated(t);
    const file = path.join(tempDir(t), "taken.jsonl");
    fs.writeFileSync(file, "keep me");
    const result = await medusa(["export", "--out", file], from);
    assert.equal(result.exitCode, 1);
    assert.match(result.stderr, /already exists/);
    assert.equal(fs.readFileSync(file, "utf8"), "keep me");
  });
});
