/**
 * Medusa killed with SIGKILL at the points where a crash could lose or double a delivery, then started again: the
 * three links of a batch (a clip, a plain file, an HLS stream through yt-dlp) reach the user and the log channel
 * exactly once, byte for byte, the batch's summary goes to both exactly once, and neither work files nor tool
 * processes (yt-dlp, ffmpeg) are left. The real `medusa start` runs as a child process; the test plays the local
 * Telegram server and a web site.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import path from "node:path";
import { describe, it, type TestContext } from "node:test";
import { openAndMigrate } from "../../src/db/database.js";
import { enqueueJobs } from "../../src/db/job-queue.js";
import { getBatch, getJob } from "../../src/db/jobs.js";
import { savePeers } from "../../src/db/peers.js";
import { touchUser } from "../../src/db/users.js";
import { makeClip, makeHls, makeRandomFile, serveDirectory } from "../support/media-fixtures.js";
import { medusaLauncher } from "../support/medusa-process.js";
import { startTelegramServer } from "../support/telegram-server/index.js";
import { tempDir } from "../support/temp-dir.js";
import { API_HASH, API_ID } from "../telegram-server/helpers.js";

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
  /**
   * Its name. A .bin goes up while it comes down (the fetch step's overlap); a .mkv is left to the deliver step
   * (it might be a video to prepare), which uploads it after the download. @default "data.bin"
   */
  binName?: string;
  /** A third link: a page with an HLS stream, fetched by yt-dlp (a tool a kill leaves running). @default false */
  stream?: boolean;
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
    await makeRandomFile(path.join(site, options.binName ?? "data.bin"), options.binBytes ?? 1_200_000),
  ];
  const names = ["clip.mp4", options.binName ?? "data.bin"];
  if (options.stream) {
    // A page with an HLS stream: yt-dlp fetches it (a tool group the job records, to be ended after a kill).
    // Its segments come slowly (about 4 s in all) from a second site, so a kill lands while yt-dlp runs.
    const source = await makeClip(path.join(dir, "stream-source.mp4"), { seconds: 3 });
    const slow = path.join(dir, "slow");
    await mkdir(path.join(slow, "hls"), { recursive: true });
    await makeHls(source, path.join(slow, "hls"));
    const slowSite = await serveDirectory(slow, { bytesPerSecond: 10_000 });
    t.after(() => slowSite.close());
    await writeFile(
      path.join(site, "stream.html"),
      `<html><head><title>Stream</title></head><body><video src="${slowSite.origin}/hls/index.m3u8"></video></body></html>`,
    );
    names.push("stream.html");
  }
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
    ALLOW_PRIVATE_NETWORKS: "true",
    LOG_CHANNELS: channel.peerId,
    LOG_LEVEL: "warn",
  };
  const launch = medusaLauncher(t, EXIT_TIMEOUT_MS);
  const medusa = async (extra: Record<string, string> = {}) => {
    const port = await freePort();
    const { child, exit, stderr } = launch({ ...env, HTTP_PORT: String(port), ...extra });
    /** Resolves once it is up (/readyz answers 200): its SIGTERM handler is in place (bounded). */
    const ready = async () => {
      const deadline = Date.now() + DONE_TIMEOUT_MS;
      for (;;) {
        const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.ok,
          () => false, // not listening yet
        );
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`medusa never became ready\n${stderr()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    return { child, exit, ready, stderr };
  };
  // One batch (line 2 of the list is not a link), as the bot queues a .txt.
  const jobs = await database.db.transaction().execute((trx) =>
    enqueueJobs(
      trx,
      names.map((name, i) => ({
        user_id: alice.id,
        request_chat_id: alice.id,
        destination_chat_id: alice.id,
        source_url: `${web.origin}/${name}`,
        batch_line: i === 0 ? 1 : i + 2,
      })),
      { perUserQueued: 10, totalQueued: 10 },
      {
        batch: { chatId: alice.id, sourceName: "links.txt", skipped: [{ line: 2, reason: "no link found" }] },
      },
    ),
  );
  const batchId = jobs[0]?.batch_id ?? 0;
  /** Every job ended and the batch's summary out (bounded). */
  const allDone = async () => {
    const deadline = Date.now() + DONE_TIMEOUT_MS;
    for (;;) {
      const rows = await Promise.all(jobs.map((j) => getJob(database.db, j.id)));
      const batch = await getBatch(database.db, batchId);
      if (rows.every((r) => r?.status === "done" || r?.status === "failed") && batch?.summary_sent_at) {
        return rows;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `unfinished: ${rows.map((r) => r?.status).join(",")}, summary ${batch?.summary_sent_at}`,
        );
      }
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
  /** Resolves with the tool groups the job of `source` runs, once its yt-dlp download moves bytes (bounded). */
  const toolRunning = async (source: string) => {
    const deadline = Date.now() + DONE_TIMEOUT_MS;
    for (;;) {
      const rows = await Promise.all(jobs.map((j) => getJob(database.db, j.id)));
      // Bytes moved: the download run itself (not yt-dlp's short probe before it).
      const busy = rows.find((r) => r?.source_url.endsWith(source) && r.pids !== "[]" && r.bytes_done > 0);
      if (busy) return busy.pids;
      if (Date.now() > deadline) throw new Error(`no tool ran: ${rows.map((r) => r?.status)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const jobRows = () => Promise.all(jobs.map((j) => getJob(database.db, j.id)));
  return {
    srv,
    alice,
    bot,
    channel,
    dir,
    dataDir,
    medusa,
    allDone,
    hashes,
    jobCount: jobs.length,
    jobRowsDone: jobs.map(() => "done"),
    jobIn,
    toolRunning,
    jobRows,
  };
}

/** A port free now, for one start of Medusa's health server (the test polls its /readyz). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Processes whose command line names a path under `dir`: the tools a job runs name its work folder. */
async function processesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => ""); // gone meanwhile
    if (cmdline.includes(dir)) found.push(`${pid}: ${cmdline.replaceAll("\0", " ")}`);
  }
  return found;
}

async function assertDeliveredOnce(w: Awaited<ReturnType<typeof crashWorld>>): Promise<void> {
  const chat = w.srv.server.messages({ user: w.alice.id, peer: w.bot.id });
  const log = w.srv.server.messages({ chat: w.channel.id });
  const toAlice = chat.filter((m) => m.media);
  const toLog = log.filter((m) => m.media);
  const files = toAlice.map((m) => m.media?.sha256);
  assert.equal(toAlice.length, w.jobCount, "each file once");
  for (const hash of w.hashes)
    assert.equal(files.filter((h) => h === hash).length, 1, "once, byte-identical");
  if (w.jobCount > w.hashes.length) {
    const stream = toAlice.find((m) => !w.hashes.includes(m.media?.sha256 ?? ""));
    assert.equal(
      stream?.media?.attributes.find((a) => a.type === "video")?.type,
      "video",
      "the stream, a video",
    );
  }
  assert.deepEqual(toLog.map((m) => m.media?.sha256).sort(), [...files].sort(), "one log copy each");
  const summaries = (messages: typeof chat) => messages.filter((m) => m.text.includes("Batch finished"));
  assert.equal(summaries(chat).length, 1, "the summary once to the user");
  assert.match(summaries(chat)[0]?.text ?? "", new RegExp(`Done: ${w.jobCount} · Failed: 0 · Skipped: 1`));
  assert.equal(summaries(log).length, 1, "the summary once to the log channel");
  assert.deepEqual(await readdir(path.join(w.dataDir, "work")), [], "no work files left");
  assert.deepEqual(await processesUnder(w.dir), [], "no tool process left");
}

describe("crash recovery: SIGKILL, then start again", () => {
  for (const [when, options, status] of [
    // Downloading a .bin also uploads it (overlap): this kill lands in both at once.
    ["mid-download", { siteBytesPerSecond: 2_000_000, binBytes: 6_000_000 }, "downloading"],
    ["mid-upload", { telegramBandwidth: 1_000_000, binBytes: 6_000_000, binName: "data.mkv" }, "uploading"],
  ] as const) {
    it(`delivers every file exactly once after a kill ${when}`, async (t) => {
      const w = await crashWorld(t, options);
      const first = await w.medusa();
      await w.jobIn(status);
      first.child.kill("SIGKILL");
      assert.equal(await first.exit, "SIGKILL");
      const healthy = await w.medusa();
      const rows = await w.allDone();
      await healthy.ready();
      healthy.child.kill("SIGTERM");
      assert.equal(await healthy.exit, "0", healthy.stderr());
      assert.deepEqual(
        rows.map((r) => r?.status),
        w.jobRowsDone,
      );
      await assertDeliveredOnce(w);
    });
  }

  it("stops within 10 s on SIGTERM mid-download, gives the lease back, and finishes after a start", async (t) => {
    const w = await crashWorld(t, { siteBytesPerSecond: 1_000_000, binBytes: 6_000_000 });
    const first = await w.medusa();
    await w.jobIn("downloading");
    const asked = Date.now();
    first.child.kill("SIGTERM");
    assert.equal(await first.exit, "0", first.stderr());
    const tookMs = Date.now() - asked;
    assert.ok(tookMs < 10_000, `exited in ${tookMs} ms`);
    const stopped = await w.jobRows();
    assert.deepEqual(
      stopped.map((r) => r?.locked_by ?? null),
      stopped.map(() => null),
      "no lease left behind",
    );
    const healthy = await w.medusa();
    await w.allDone();
    await healthy.ready();
    healthy.child.kill("SIGTERM");
    assert.equal(await healthy.exit, "0", healthy.stderr());
    await assertDeliveredOnce(w);
  });

  it("ends the tools a killed Medusa left running (yt-dlp, ffmpeg) and delivers every file exactly once", async (t) => {
    const w = await crashWorld(t, { stream: true });
    const first = await w.medusa();
    const groups = await w.toolRunning("stream.html");
    first.child.kill("SIGKILL");
    assert.equal(await first.exit, "SIGKILL");
    assert.notDeepEqual(await processesUnder(w.dir), [], `yt-dlp (groups ${groups}) outlived the kill`);
    const healthy = await w.medusa();
    const rows = await w.allDone();
    await healthy.ready();
    healthy.child.kill("SIGTERM");
    assert.equal(await healthy.exit, "0", healthy.stderr());
    assert.deepEqual(
      rows.map((r) => r?.status),
      w.jobRowsDone,
      rows.map((r) => r?.error_message).join("; "),
    );
    await assertDeliveredOnce(w);
  });

  for (const point of [
    "fetch.downloaded",
    "deliver.uploaded",
    "deliver.sent",
    "deliver.sent:2",
    "deliver.recorded",
    // The batch's summary: the batch just finished, between a send and its record (user, then log channel), and
    // after the last record.
    "summary.finished",
    "summary.sent",
    "summary.sent:2",
    "summary.recorded",
  ]) {
    it(`delivers every file exactly once after a kill at ${point}`, async (t) => {
      const w = await crashWorld(t);
      const crashing = await w.medusa({ MEDUSA_CRASH_AT: point });
      assert.equal(await crashing.exit, "SIGKILL", `the crash point was reached\n${crashing.stderr()}`);
      const healthy = await w.medusa();
      const rows = await w.allDone();
      await healthy.ready();
      healthy.child.kill("SIGTERM");
      assert.equal(await healthy.exit, "0", healthy.stderr());
      assert.deepEqual(
        rows.map((r) => r?.status),
        w.jobRowsDone,
        rows.map((r) => r?.error_message).join("; "),
      );
      await assertDeliveredOnce(w);
    });
  }
});
