import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { execa } from "execa";
import { postgresCluster, postgresMissing } from "../support/postgres.js";
import { tempDir } from "../support/temp-dir.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");

/** Runs the real CLI in a child with exactly `env` (plus PATH), from an empty folder so no .env is read. */
function medusa(args: string[], env: Record<string, string>, cwd: string) {
  return execa(TSX, [path.join(ROOT, "src/cli.ts"), ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "", ...env },
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });
}

describe("medusa CLI", () => {
  it("start with an empty environment exits 1 and names every missing variable, no stack trace", async (t) => {
    const cwd = tempDir(t);
    const result = await medusa(["start"], {}, cwd);
    assert.equal(result.exitCode, 1);
    for (const key of ["TELEGRAM_API_ID", "TELEGRAM_API_HASH", "BOT_TOKEN", "OWNER_ID"]) {
      assert.match(result.stderr, new RegExp(`- ${key}: missing`));
    }
    assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
    assert.match(result.stderr, /\.env\.example/);
  });

  it("start never echoes a bad secret back", async (t) => {
    const cwd = tempDir(t);
    const result = await medusa(
      ["start"],
      { BOT_TOKEN: "leaky-secret-value", TELEGRAM_API_HASH: "another-secret-value" },
      cwd,
    );
    assert.equal(result.exitCode, 1);
    assert.doesNotMatch(result.stderr + result.stdout, /leaky-secret-value|another-secret-value/);
    assert.match(result.stderr, /BOT_TOKEN: expected a token from @BotFather/);
  });

  it("migrate creates the database on an empty data dir, and a second run changes nothing", async (t) => {
    const cwd = tempDir(t);
    const env = { DATA_DIR: path.join(cwd, "data") };
    const first = await medusa(["migrate"], env, cwd);
    assert.equal(first.exitCode, 0, first.stderr);
    assert.match(first.stdout, /Applied 0001_initial/);
    const second = await medusa(["migrate"], env, cwd);
    assert.equal(second.exitCode, 0, second.stderr);
    assert.match(second.stdout, /is up to date/);
    const tables = await execa("sqlite3", [path.join(cwd, "data/medusa.db"), ".tables"], { timeout: 10_000 });
    for (const name of ["users", "jobs", "files", "deliveries", "events", "v_daily", "v_users", "v_queue"]) {
      assert.match(tables.stdout, new RegExp(`\\b${name}\\b`));
    }
    const mode = await execa("sqlite3", [path.join(cwd, "data/medusa.db"), "PRAGMA journal_mode"], {
      timeout: 10_000,
    });
    assert.equal(mode.stdout.trim(), "wal");
  });

  it("doctor prints one row per check and fails when a tool is missing", async (t) => {
    const cwd = tempDir(t);
    const result = await medusa(
      ["doctor"],
      { DATA_DIR: path.join(cwd, "data"), YTDLP_PATH: "no-such-ytdlp" },
      cwd,
    );
    assert.equal(result.exitCode, 1);
    assert.match(result.stdout, /^ok\s+node/m);
    assert.match(result.stdout, /^ok\s+ffmpeg/m);
    assert.match(result.stdout, /^ok\s+database\s+.*journal_mode=wal/m);
    assert.match(result.stdout, /^FAIL\s+yt-dlp\s+not found: no-such-ytdlp/m);
  });

  it("answers --version, --help and an unknown command", async (t) => {
    const cwd = tempDir(t);
    const version = await medusa(["--version"], {}, cwd);
    assert.match(version.stdout, /^\d+\.\d+\.\d+$/);
    const help = await medusa(["--help"], {}, cwd);
    assert.match(help.stdout, /Commands:[\s\S]*migrate[\s\S]*doctor/);
    const unknown = await medusa(["frobnicate"], {}, cwd);
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });
});

describe("medusa backup", () => {
  it("copies the database to a file that opens on its own, and refuses to overwrite", async (t) => {
    const cwd = tempDir(t);
    const env = { DATA_DIR: path.join(cwd, "data") };
    assert.equal((await medusa(["migrate"], env, cwd)).exitCode, 0);
    await execa(
      "sqlite3",
      [path.join(cwd, "data/medusa.db"), "INSERT INTO users (id, role) VALUES (5, 'admin')"],
      {
        timeout: 10_000,
      },
    );
    const out = path.join(cwd, "copy.db");
    const result = await medusa(["backup", "--out", out], env, cwd);
    assert.equal(result.exitCode, 0, result.stderr);
    const rows = await execa("sqlite3", [out, "SELECT id, role FROM users"], { timeout: 10_000 });
    assert.equal(rows.stdout.trim(), "5|admin");
    const again = await medusa(["backup", "--out", out], env, cwd);
    assert.equal(again.exitCode, 1);
    assert.match(again.stderr, /already exists/);
  });
});

describe("medusa on PostgreSQL (DATABASE_URL)", { skip: postgresMissing() ?? false }, () => {
  it("migrates there, names the URL without its password, and sends backups to pg_dump", async (t) => {
    const cwd = tempDir(t);
    const url = new URL(await (await postgresCluster()).createDatabase());
    url.password = "s3cret-pass"; // the throwaway cluster trusts 127.0.0.1; the password is only to be hidden
    const env = { DATA_DIR: path.join(cwd, "data"), DATABASE_URL: url.toString() };
    const migrated = await medusa(["migrate"], env, cwd);
    assert.equal(migrated.exitCode, 0, migrated.stderr);
    assert.match(migrated.stdout, /Applied 0001_initial.*to postgres:\/\/postgres@127\.0\.0\.1:\d+\/t_/);
    const again = await medusa(["migrate"], env, cwd);
    assert.match(again.stdout, /is up to date/);
    const backup = await medusa(["backup"], env, cwd);
    assert.equal(backup.exitCode, 1);
    assert.match(backup.stderr, /pg_dump/);
    for (const output of [migrated, again, backup]) {
      assert.doesNotMatch(output.stdout + output.stderr, /s3cret-pass/);
    }
  });
});
