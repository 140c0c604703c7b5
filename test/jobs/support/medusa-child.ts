/**
 * The real `medusa start` as a child process against the local Telegram server and a web site, with jobs already
 * queued: what the crash tests need to SIGKILL it and start it again. Alice asks; the bot answers her and copies to
 * a log channel.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { TestContext } from "node:test";
import { openAndMigrate } from "../../../src/db/database.js";
import { enqueueJobs } from "../../../src/db/job-queue.js";
import { getJob } from "../../../src/db/jobs.js";
import { savePeers } from "../../../src/db/peers.js";
import { touchUser } from "../../../src/db/users.js";
import { serveDirectory } from "../../support/media-fixtures.js";
import { medusaLauncher } from "../../support/medusa-process.js";
import { startTelegramServer } from "../../support/telegram-server/index.js";
import { tempDir } from "../../support/temp-dir.js";
import { API_HASH, API_ID } from "../../telegram-server/helpers.js";

/** Bounds on another process's work; only a wedged run reaches them. */
const EXIT_TIMEOUT_MS = 90_000;
const DONE_TIMEOUT_MS = 180_000;

export interface ChildWorldOptions {
  /** Makes the site's files in `dir`; returns their paths, one job each, in order. */
  files: (dir: string) => Promise<string[]>;
  /** Bytes per second per Telegram connection, so that an upload takes a while. */
  telegramBandwidth?: number;
  /** More environment for every start (FILE_LIMIT_BYTES …). */
  env?: Record<string, string>;
}

export async function medusaChildWorld(t: TestContext, options: ChildWorldOptions) {
  const dir = tempDir(t, "medusa-child-");
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
  const files = await options.files(site);
  const web = await serveDirectory(site);
  t.after(() => web.close());
  const dataDir = path.join(dir, "data");
  const database = await openAndMigrate(path.join(dataDir, "medusa.db"));
  t.after(() => database.close());
  // The bot met Alice and was made admin of the log channel before: their access hashes are known.
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
    ...options.env,
  };
  const launch = medusaLauncher(t, EXIT_TIMEOUT_MS);
  const medusa = (extra: Record<string, string> = {}) => launch({ ...env, ...extra });
  const jobs = await database.db.transaction().execute((trx) =>
    enqueueJobs(
      trx,
      files.map((file) => ({
        user_id: alice.id,
        request_chat_id: alice.id,
        destination_chat_id: alice.id,
        source_url: `${web.origin}/${path.basename(file)}`,
      })),
      { perUserQueued: 10, totalQueued: 10 },
    ),
  );
  const jobRows = () => Promise.all(jobs.map((j) => getJob(database.db, j.id)));
  const allDone = async () => {
    const deadline = Date.now() + DONE_TIMEOUT_MS;
    for (;;) {
      const rows = await jobRows();
      if (rows.every((r) => r?.status === "done" || r?.status === "failed")) return rows;
      if (Date.now() > deadline) throw new Error(`jobs unfinished: ${rows.map((r) => r?.status).join(",")}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  /** Starts Medusa, waits for every job to settle, stops it with SIGTERM; returns the rows. */
  const runToEnd = async () => {
    const healthy = medusa();
    const rows = await allDone();
    healthy.child.kill("SIGTERM");
    const code = await healthy.exit;
    if (code !== "0") throw new Error(`medusa exited ${code}\n${healthy.stderr()}`);
    return rows;
  };
  const hashes = await Promise.all(
    files.map(async (f) =>
      createHash("sha256")
        .update(await readFile(f))
        .digest("hex"),
    ),
  );
  const toAlice = () => srv.server.messages({ user: alice.id, peer: bot.id }).filter((m) => m.media);
  const toLog = () => srv.server.messages({ chat: channel.id }).filter((m) => m.media);
  return {
    srv,
    alice,
    bot,
    channel,
    dataDir,
    database,
    medusa,
    jobs,
    jobRows,
    runToEnd,
    hashes,
    toAlice,
    toLog,
  };
}
