/**
 * Medusa killed with SIGKILL at the points where a crash could lose or double a delivery, then started again:
 * every file reaches the user and the log channel exactly once, byte for byte, and no work files are left.
 * The real `medusa start` runs as a child process; the test plays the local Telegram server and a web site.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it, type TestContext } from "node:test";
import { openAndMigrate } from "../../src/db/database.js";
import { enqueueJobs } from "../../src/db/job-queue.js";
import { getJob } from "../../src/db/jobs.js";
import { savePeers } from "../../src/db/peers.js";
import { touchUser } from "../../src/db/users.js";
import { makeClip, makeRandomFile, serveDirectory } from "../support/media-fixtures.js";
import { startTelegramServer } from "../support/telegram-server/index.js";
import { tempDir } from "../support/temp-dir.js";
import { API_HASH, API_ID } from "../telegram-server/helpers.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
/** Bounds on another process's work; only a wedged run reaches them. */
const EXIT_TIMEOUT_MS = 60_000;
const DONE_TIMEOUT_MS = 120_000;

interface WorldOptions {
  /** Serve the site this slowly (bytes per second), so a kill can land mid-download. */
  siteBytesPerSecond?: number;
  /** Cap each Telegram connection (bytes per second), so a kill can land mid-upload. */
  telegramBandwidth?: number;
  /** Size of the plain file. @default 1_200_000 */
  binBytes?: number;
}

async function crashWorld(t: TestContext, options: WorldOptions = {}) {
  const dir = tempDir(t, "medusa-crash-");
  const srv = await startTelegramServer({
    control: false,
    ...(options.telegramBandwidth
      ? { conditions: { bandwidth: options.telegramBandwidth, latencyMs: 0 } }
      : {}),
  });
  t.after(() => srv.close());
  const keyFile = path.join(dir, "server-key.pem");
  await writeFile(keyFile, srv.publicKeyPem);
  const bot = srv.server.createBot({ username: "medusa_bot" });
  const alice = srv.server.createUser({ username: "alice", firstName: "Alice" });
  const channel = srv.server.createChat({
    kind: "channel",
    title: "Log",
    creatorId: alice.id,
    admins: [bot.id],
  });
  const site = path.join(dir, "site");
  await mkdir(site);
  const files = [
    await makeClip(path.join(site, "clip.mp4"), { seconds: 2, faststart: true }),
    await makeRandomFile(path.join(site, "data.bin"), options.binBytes ?? 1_200_000),
  ];
  const web = await serveDirectory(
    site,
    options.siteBytesPerSecond ? { bytesPerSecond: options.siteBytesPerSecond } : {},
  );
  t.after(() => web.close());
  const dataDir = path.join(dir, "data");
  // The bot met Alice and was made admin of the log channel before: their access hashes are known.
  const database = await openAndMigrate(path.join(dataDir, "medusa.db"));
  t.after(() => database.close());
  await savePeers(database.db, [
    { id: alice.id, kind: "user", access_hash: alice.accessHash, username: "alice", title: "Alice" },
    {
      id: Number(channel.peerId),
      kind: "channel",
      access_hash: channel.accessHash,
      username: null,
      title: "Log",
    },
  ]);
  await touchUser(database.db, { id: alice.id, firstName: "Alice" });
  const env = {
    PATH: process.env.PATH ?? "",
    TELEGRAM_API_ID: String(API_ID),
    TELEGRAM_API_HASH: API_HASH,
    BOT_TOKEN: bot.botToken ?? "",
    OWNER_ID: String(alice.id),
    TELEGRAM_SERVER: `127.0.0.1:${srv.mtprotoPort}`,
    TELEGRAM_SERVER_KEY_FILE: keyFile,
    TELEGRAM_DC_ID: String(srv.dcId),
    DATA_DIR: dataDir,
    HTTP_PORT: "0",
    ALLOW_PRIVATE_NETWORKS: "true",
    LOG_CHANNELS: channel.peerId,
    LOG_LEVEL: "warn",
  };
  const children: ChildProcess[] = [];
  t.after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  });
  const medusa = (extra: Record<string, string> = {}) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "src/cli.ts"), "start"], {
      cwd: ROOT, // where --import finds tsx; every path Medusa uses is absolute
      env: { ...env, ...extra },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    children.push(child);
    const exit = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`medusa did not exit in time\n${stderr}`)),
        EXIT_TIMEOUT_MS,
      );
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        resolve(signal ?? String(code));
      });
    });
    return { child, exit, stderr: () => stderr };
  };
  const jobs = await database.db.transaction().execute((trx) =>
    enqueueJobs(
      trx,
      ["clip.mp4", "data.bin"].map((name) => ({
        user_id: alice.id,
        request_chat_id: alice.id,
        destination_chat_id: alice.id,
        source_url: `${web.origin}/${name}`,
      })),
      { perUserQueued: 10, totalQueued: 10 },
    ),
  );
  const allDone = async () => {
    const deadline = Date.now() + DONE_TIMEOUT_MS;
    for (;;) {
      const rows = await Promise.all(jobs.map((j) => getJob(database.db, j.id)));
      if (rows.every((r) => r?.status === "done" || r?.status === "failed")) return rows;
      if (Date.now() > deadline) throw new Error(`jobs unfinished: ${rows.map((r) => r?.status).join(",")}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const hashes = await Promise.all(
    files.map(async (f) =>
      createHash("sha256")
        .update(await readFile(f))
        .digest("hex"),
    ),
  );
  /** Resolves once a job is in `status` with some bytes moved (bounded). */
  const jobIn = async (status: string) => {
    const deadline = Date.now() + DONE_TIMEOUT_MS;
    for (;;) {
      const rows = await Promise.all(jobs.map((j) => getJob(database.db, j.id)));
      if (rows.some((r) => r?.status === status && r.bytes_done > 0)) return;
      if (Date.now() > deadline) throw new Error(`no job reached ${status}: ${rows.map((r) => r?.status)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const jobRows = () => Promise.all(jobs.map((j) => getJob(database.db, j.id)));
  return { srv, alice, bot, channel, dataDir, medusa, allDone, hashes, jobIn, jobRows };
}

async function assertDeliveredOnce(w: Awaited<ReturnType<typeof crashWorld>>): Promise<void> {
  const toAlice = w.srv.server.messages({ user: w.alice.id, peer: w.bot.id }).filter((m) => m.media);
  const toLog = w.srv.server.messages({ chat: w.channel.id }).filter((m) => m.media);
  assert.deepEqual(
    toAlice.map((m) => m.media?.sha256).sort(),
    [...w.hashes].sort(),
    "once each, byte-identical",
  );
  assert.deepEqual(toLog.map((m) => m.media?.sha256).sort(), [...w.hashes].sort(), "one log copy each");
  assert.deepEqual(await readdir(path.join(w.dataDir, "work")), [], "no work files left");
}

describe("crash recovery: SIGKILL, then start again", () => {
  for (const [when, options, status] of [
    ["mid-download", { siteBytesPerSecond: 2_000_000, binBytes: 6_000_000 }, "downloading"],
    ["mid-upload", { telegramBandwidth: 1_000_000, binBytes: 6_000_000 }, "uploading"],
  ] as const) {
    it(`delivers every file exactly once after a kill ${when}`, async (t) => {
      const w = await crashWorld(t, options);
      const first = w.medusa();
      await w.jobIn(status);
      first.child.kill("SIGKILL");
      assert.equal(await first.exit, "SIGKILL");
      const healthy = w.medusa();
      const rows = await w.allDone();
      healthy.child.kill("SIGTERM");
      assert.equal(await healthy.exit, "0", healthy.stderr());
      assert.deepEqual(
        rows.map((r) => r?.status),
        ["done", "done"],
      );
      await assertDeliveredOnce(w);
    });
  }

  it("stops within 10 s on SIGTERM mid-download, gives the lease back, and finishes after a start", async (t) => {
    const w = await crashWorld(t, { siteBytesPerSecond: 1_000_000, binBytes: 6_000_000 });
    const first = w.medusa();
    await w.jobIn("downloading");
    const asked = Date.now();
    first.child.kill("SIGTERM");
    assert.equal(await first.exit, "0", first.stderr());
    const tookMs = Date.now() - asked;
    assert.ok(tookMs < 10_000, `exited in ${tookMs} ms`);
    const stopped = await w.jobRows();
    assert.deepEqual(
      stopped.map((r) => r?.locked_by ?? null),
      [null, null],
      "no lease left behind",
    );
    const healthy = w.medusa();
    await w.allDone();
    healthy.child.kill("SIGTERM");
    assert.equal(await healthy.exit, "0", healthy.stderr());
    await assertDeliveredOnce(w);
  });

  for (const point of [
    "fetch.downloaded",
    "deliver.uploaded",
    "deliver.sent",
    "deliver.sent:2",
    "deliver.recorded",
  ]) {
    it(`delivers every file exactly once after a kill at ${point}`, async (t) => {
      const w = await crashWorld(t);
      const crashing = w.medusa({ MEDUSA_CRASH_AT: point });
      assert.equal(await crashing.exit, "SIGKILL", `the crash point was reached\n${crashing.stderr()}`);
      const healthy = w.medusa();
      const rows = await w.allDone();
      healthy.child.kill("SIGTERM");
      assert.equal(await healthy.exit, "0", healthy.stderr());
      assert.deepEqual(
        rows.map((r) => r?.status),
        ["done", "done"],
        rows.map((r) => r?.error_message).join("; "),
      );
      await assertDeliveredOnce(w);
    });
  }
});
