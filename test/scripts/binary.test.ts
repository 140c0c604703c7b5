/**
 * `npm run build:binary`'s dist/medusa as an operator runs it: copied alone into an empty folder, with nothing but
 * ffmpeg, ffprobe and yt-dlp on PATH (no node, no node_modules) and HOME and XDG_CACHE_HOME in that folder, so the
 * SQLite addon is unpacked there on first start. Talks to the local Telegram server like test/cli/upload.test.ts.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { before, describe, it, type TestContext } from "node:test";
import { execa } from "execa";
import { makeRandomFile } from "../support/media-fixtures.js";
import { startTelegramServer } from "../support/telegram-server/index.js";
import { tempDir } from "../support/temp-dir.js";
import { API_HASH, API_ID } from "../telegram-server/helpers.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const BINARY = path.join(ROOT, "dist", "medusa");
/** A cold build compiles SQLite (minutes on a loaded machine); a warm one takes seconds. */
const BUILD_TIMEOUT_MS = 900_000;
const RUN_TIMEOUT_MS = 90_000;
/** The only programs the binary may find. */
const TOOLS = ["ffmpeg", "ffprobe", "yt-dlp"];

function onPath(name: string): string {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return file;
  }
  throw new Error(`${name} is not on PATH (scripts/setup.sh installs it)`);
}

/** An empty folder holding the binary alone, a tools folder for PATH, and HOME and the cache inside it. */
function operatorFolder(t: TestContext) {
  const dir = tempDir(t, "medusa-binary-");
  const tools = path.join(dir, "tools");
  fs.mkdirSync(tools);
  for (const tool of TOOLS) fs.symlinkSync(onPath(tool), path.join(tools, tool));
  const medusa = path.join(dir, "medusa");
  fs.copyFileSync(BINARY, medusa);
  const home = path.join(dir, "home");
  fs.mkdirSync(home);
  const base = {
    PATH: tools,
    HOME: home,
    XDG_CACHE_HOME: path.join(dir, "cache"),
    DATA_DIR: path.join(dir, "data"),
  };
  const run = (args: string[], env: Record<string, string> = {}) =>
    execa(medusa, args, {
      cwd: dir,
      env: { ...base, ...env },
      extendEnv: false,
      reject: false,
      timeout: RUN_TIMEOUT_MS,
    });
  return { dir, run, cache: base.XDG_CACHE_HOME };
}

describe("the single binary", () => {
  before(async () => {
    // Reused when its inputs have not changed (the build script compares them).
    const build = await execa(process.execPath, ["--import", "tsx", "scripts/build-binary.ts"], {
      cwd: ROOT,
      reject: false,
      timeout: BUILD_TIMEOUT_MS,
    });
    assert.equal(build.exitCode, 0, `${build.stdout}\n${build.stderr}`);
  });

  it("prints its version, and creates the database from an empty folder on its own Node", async (t) => {
    const folder = operatorFolder(t);
    const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      version: string;
    };
    const shown = await folder.run(["--version"]);
    assert.equal(shown.exitCode, 0, shown.stderr);
    assert.equal(shown.stdout, version);
    assert.equal(shown.stderr, "");

    const migrated = await folder.run(["migrate"]);
    assert.equal(migrated.exitCode, 0, migrated.stderr);
    assert.match(migrated.stdout, /^Applied 0001_initial, .* to .*medusa\.db$/);
    assert.equal(migrated.stderr, "", "no warnings");
    const again = await folder.run(["migrate"]);
    assert.match(again.stdout, /is up to date$/);
    const unpacked = fs.readdirSync(path.join(folder.cache, "medusa"), { recursive: true });
    assert.equal(unpacked.length, 2, `one folder and the addon in it: ${unpacked.join(", ")}`);
    assert.ok(unpacked.some((f) => String(f).endsWith("better_sqlite3.node")));
  });

  it("unpacks its addon safely when two start at once on an empty cache", async (t) => {
    const folder = operatorFolder(t);
    const runs = await Promise.all(
      ["a", "b", "c"].map((name) => folder.run(["migrate"], { DATA_DIR: path.join(folder.dir, name) })),
    );
    for (const run of runs) assert.equal(run.exitCode, 0, run.stderr);
    const unpacked = fs.readdirSync(path.join(folder.cache, "medusa"), { recursive: true }).map(String);
    assert.equal(unpacked.length, 2, `no temporary files left: ${unpacked.join(", ")}`);
  });

  it("passes doctor against the local Telegram server and uploads a file that arrives byte for byte", async (t) => {
    const folder = operatorFolder(t);
    const srv = await startTelegramServer({ control: false });
    t.after(() => srv.close());
    const keyFile = path.join(folder.dir, "server-key.pem");
    fs.writeFileSync(keyFile, srv.publicKeyPem);
    const bot = srv.server.createBot({ username: "medusa_bot" });
    const alice = srv.server.createUser({ username: "alice", firstName: "Alice" });
    const uploads = srv.server.createChat({
      kind: "channel",
      title: "Uploads",
      username: "medusa_uploads",
      creatorId: alice.id,
      admins: [bot.id],
    });
    const env = {
      TELEGRAM_API_ID: String(API_ID),
      TELEGRAM_API_HASH: API_HASH,
      BOT_TOKEN: bot.botToken ?? "",
      OWNER_ID: String(alice.id),
      TELEGRAM_SERVER: `127.0.0.1:${srv.mtprotoPort}`,
      TELEGRAM_SERVER_KEY_FILE: keyFile,
      TELEGRAM_DC_ID: String(srv.dcId),
    };

    const doctor = await folder.run(["doctor"], env);
    assert.match(doctor.stdout, /^ok {4}node +v\d+\.\d+\.\d+ /m);
    assert.match(doctor.stdout, /^ok {4}ffprobe /m);
    assert.match(doctor.stdout, /^ok {4}database +\S+medusa\.db writable, journal_mode=wal$/m);
    assert.match(doctor.stdout, new RegExp(`^ok {4}bot +logged in as @medusa_bot \\(id ${bot.id}\\)$`, "m"));
    assert.equal(doctor.exitCode, 0, doctor.stdout + doctor.stderr);

    const file = await makeRandomFile(path.join(folder.dir, "report.bin"), 1_200_000);
    const upload = await folder.run(["upload", file, "--to", "@medusa_uploads"], env);
    assert.equal(upload.exitCode, 0, upload.stderr);
    const posted = srv.server.messages({ chat: uploads.id }).filter((m) => m.media);
    assert.equal(posted.length, 1);
    assert.equal(upload.stdout, `https://t.me/medusa_uploads/${posted[0]?.id}`);
    const sha256 = createHash("sha256").update(fs.readFileSync(file)).digest("hex");
    assert.equal(posted[0]?.media?.sha256, sha256, "byte-identical");
    assert.equal(posted[0]?.media?.name, "report.bin");
  });
});
