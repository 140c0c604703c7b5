/**
 * The real `medusa start` killed with SIGKILL mid-download (and with it mid-upload, since a plain file goes up
 * while it comes down), then started again: the download continues with Range from what the first process wrote,
 * the site serves well under twice the file, and the user and the log channel get it exactly once, byte-identical.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it, type TestContext } from "node:test";
import { openAndMigrate } from "../../src/db/database.js";
import { enqueueJobs } from "../../src/db/job-queue.js";
import { getJob } from "../../src/db/jobs.js";
import { savePeers } from "../../src/db/peers.js";
import { touchUser } from "../../src/db/users.js";
import { PARTIAL_STATE } from "../../src/fetch/http/partial.js";
import { type Body, patternBody, serveBody, startHttpServer } from "../support/http-server.js";
import { medusaLauncher } from "../support/medusa-process.js";
import { startTelegramServer } from "../support/telegram-server/index.js";
import { tempDir } from "../support/temp-dir.js";
import { API_HASH, API_ID } from "../telegram-server/helpers.js";

const EXIT_TIMEOUT_MS = 60_000;
const DONE_TIMEOUT_MS = 120_000;
const MIB = 1024 * 1024;
const SIZE = 8 * MIB;
/** The first process downloads this slowly, so that the kill lands mid-file; the second at full speed. */
const SLOW_RATE = 1 * MIB;

function digest(body: Body): string {
  const hash = createHash("sha256");
  for (let pos = 0; pos < body.size; ) {
    const chunk = body.read(pos, body.size);
    hash.update(chunk);
    pos += chunk.length;
  }
  return hash.digest("hex");
}

async function world(t: TestContext, name: string, contentType: string) {
  const dir = tempDir(t, "medusa-resume-");
  const srv = await startTelegramServer({ control: false });
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
  const body = patternBody(SIZE, 31);
  const site = await startHttpServer();
  t.after(() => site.close());
  let slow = true;
  site.route(`/${name}`, (req, res) =>
    serveBody(req, res, body, { etag: '"v1"', contentType, ...(slow ? { rate: SLOW_RATE } : {}) }),
  );
  const dataDir = path.join(dir, "data");
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
    MIN_FREE_DISK: "0",
  };
  const launch = medusaLauncher(t, EXIT_TIMEOUT_MS);
  const medusa = () => launch(env);
  const [job] = await database.db.transaction().execute((trx) =>
    enqueueJobs(
      trx,
      [
        {
          user_id: alice.id,
          request_chat_id: alice.id,
          destination_chat_id: alice.id,
          source_url: `${site.origin}/${name}`,
        },
      ],
      { perUserQueued: 10, totalQueued: 10 },
    ),
  );
  const until = async (what: string, ready: () => Promise<boolean> | boolean) => {
    const deadline = Date.now() + DONE_TIMEOUT_MS;
    while (!(await ready())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const row = () => getJob(database.db, job?.id ?? 0);
  const recorded = async () => {
    const file = path.join(dataDir, "work", `job-${job?.id}`, PARTIAL_STATE);
    const text = await readFile(file, "utf8").catch(() => "");
    if (!text) return 0;
    const record = JSON.parse(text) as { done: Array<[number, number]> };
    return record.done.reduce((sum, [s, e]) => sum + (e - s), 0);
  };
  const assertDeliveredOnce = async () => {
    const toAlice = srv.server.messages({ user: alice.id, peer: bot.id }).filter((m) => m.media);
    const toLog = srv.server.messages({ chat: channel.id }).filter((m) => m.media);
    assert.deepEqual(
      toAlice.map((m) => m.media?.sha256),
      [digest(body)],
      "once, byte-identical",
    );
    assert.deepEqual(
      toLog.map((m) => m.media?.sha256),
      [digest(body)],
      "one log copy",
    );
    assert.deepEqual(await readdir(path.join(dataDir, "work")), [], "no work files left");
  };
  return {
    site,
    path: `/${name}`,
    medusa,
    until,
    row,
    recorded,
    assertDeliveredOnce,
    fast: () => {
      slow = false;
    },
  };
}

describe("a download killed mid-way continues after a start", () => {
  for (const [label, name, type] of [
    ["a plain file (uploaded while it downloads)", "data.zip", "application/zip"],
    ["a file sent after its download", "movie.mkv", "video/x-matroska"],
  ] as const) {
    it(`resumes ${label} with Range and delivers it exactly once`, async (t) => {
      const w = await world(t, name, type);
      const first = w.medusa();
      // Killed once the record of what is on disk (rewritten every second) vouches for a third of the file.
      await w.until("a record of a third of the file", async () => (await w.recorded()) >= SIZE / 3);
      first.child.kill("SIGKILL");
      assert.equal(await first.exit, "SIGKILL");
      const servedBefore = w.site.bytesServed.get(w.path) ?? 0;
      w.fast();
      const second = w.medusa();
      await w.until("the job", async () => ["done", "failed"].includes((await w.row())?.status ?? ""));
      second.child.kill("SIGTERM");
      assert.equal(await second.exit, "0", second.stderr());
      const done = await w.row();
      assert.equal(done?.status, "done", done?.error_message ?? "");
      const ranges = w.site.requests.filter((r) => r.path === w.path).map((r) => r.range);
      assert.equal(ranges[0], "bytes=0-");
      assert.match(ranges.at(-1) ?? "", /^bytes=[1-9]\d*-$/, "the second process asked for the rest");
      const served = w.site.bytesServed.get(w.path) ?? 0;
      assert.ok(served < 1.5 * SIZE, `served ${served} bytes for ${SIZE} (${servedBefore} before the kill)`);
      await w.assertDeliveredOnce();
    });
  }
});
