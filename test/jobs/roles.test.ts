/**
 * `medusa start --role gateway` and three `--role worker`s on one database, as an operator scales out: a user sends
 * a list of links, one worker is killed with SIGKILL mid-upload and another mid-download, and still every file
 * reaches the user and the log channel exactly once, byte for byte, the batch's summary once, and the one live
 * status message ends on the final state. The gateway runs no job: what it shows comes from the job rows.
 *
 * The store is a parameter: SQLite (one file, WAL, shared by the processes on this host) always; PostgreSQL joins
 * through STORES below (SQLite, and PostgreSQL on its throwaway cluster).
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import path from "node:path";
import { describe, it, type TestContext } from "node:test";
import { type Db, openAndMigrate, openStoreAndMigrate } from "../../src/db/database.js";
import { savePeers } from "../../src/db/peers.js";
import type { Job } from "../../src/db/schema.js";
import { bufferBody, serveBody, startHttpServer } from "../support/http-server.js";
import { serveDirectory } from "../support/media-fixtures.js";
import { type MedusaChild, medusaLauncher } from "../support/medusa-process.js";
import { postgresCluster, postgresMissing } from "../support/postgres.js";
import { startTelegramServer } from "../support/telegram-server/index.js";
import type { MessageView } from "../support/telegram-server/server.js";
import { tempDir } from "../support/temp-dir.js";
import { API_HASH, API_ID } from "../telegram-server/helpers.js";

/** Bounds on other processes' work; only a wedged run reaches them. A child's exit bound runs from its spawn. */
const EXIT_TIMEOUT_MS = 300_000;
const DONE_TIMEOUT_MS = 120_000;
/** Short, so that a killed worker's jobs move on within the test; the beat reads Cancel and Pause too. */
const LEASE_MS = 3000;
const HEARTBEAT_MS = 500;
/** Each Telegram connection's cap: a worker's 8 upload connections then move ~2 MiB/s, so an upload can be caught. */
const TELEGRAM_CAP = 256 * 1024;
/** The slow site's rate per response, so a download can be caught. */
const SLOW_SITE_RATE = 100_000;
const SLOW_FILE_BYTES = 2_000_000;
/** At the capped ~2 MiB/s, its upload lasts seconds: long enough to be caught after its first parts. */
const BIG_FILE_BYTES = 8_000_000;

/** Where the processes keep their rows; `jobCount` links go through it. */
interface TestStore {
  name: string;
  jobCount: number;
  /** The environment that points Medusa at the store, and a handle for the test's own reads. */
  open(t: TestContext, dataDir: string): Promise<{ env: Record<string, string>; db: Db }>;
}

const sqliteStore: TestStore = {
  name: "SQLite",
  // ~30 links run in well under a minute here (two cores shared with the servers and four Medusas).
  jobCount: 30,
  async open(t, dataDir) {
    const database = await openAndMigrate(path.join(dataDir, "medusa.db"));
    t.after(() => database.close());
    return { env: {}, db: database.db };
  },
};

const postgresStore: TestStore = {
  name: "PostgreSQL",
  // What the scale-out issue asks of the shared store: 100 links over three worker processes.
  jobCount: 100,
  async open(t) {
    const url = await (await postgresCluster()).createDatabase();
    const database = await openStoreAndMigrate({ url, file: "" });
    t.after(() => database.close());
    return { env: { DATABASE_URL: url }, db: database.db };
  },
};

/** SQLite always; PostgreSQL whenever it is installed (always in CI, where postgresMissing() throws without it). */
const pgMissing = postgresMissing();
if (pgMissing) console.error(`# the PostgreSQL variant is skipped: ${pgMissing}`);
const STORES: TestStore[] = pgMissing ? [sqliteStore] : [sqliteStore, postgresStore];

async function rolesWorld(t: TestContext, store: TestStore) {
  const dir = tempDir(t, "medusa-roles-");
  const srv = await startTelegramServer({
    control: false,
    conditions: { bandwidth: TELEGRAM_CAP, latencyMs: 0 },
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

  // Small files and a big one (the upload to catch) from a plain site; one (the download to catch) from a site that
  // is slow until the test lets it go. All .mkv: the fetch step leaves them whole to the deliver step, so a
  // download and an upload are apart.
  const site = path.join(dir, "site");
  await mkdir(site);
  const web = await serveDirectory(site);
  t.after(() => web.close());
  const slowBytes = randomBytes(SLOW_FILE_BYTES);
  let slowRate: number | undefined = SLOW_SITE_RATE;
  const slowSite = await startHttpServer();
  t.after(() => slowSite.close());
  slowSite.route("/slow.mkv", (req, res) =>
    serveBody(req, res, bufferBody(slowBytes), {
      etag: '"slow"',
      ...(slowRate === undefined ? {} : { rate: slowRate }),
    }),
  );
  const sources: Array<{ url: string; bytes: Buffer }> = [];
  // Random bytes: every file differs, so a file delivered twice or swapped for another shows.
  const put = async (name: string, size: number) => {
    const bytes = randomBytes(size);
    await writeFile(path.join(site, name), bytes);
    sources.push({ url: `${web.origin}/${name}`, bytes });
  };
  await put("big.mkv", BIG_FILE_BYTES);
  sources.push({ url: `http://127.0.0.1:${slowSite.port}/slow.mkv`, bytes: slowBytes });
  for (let i = sources.length; i < store.jobCount; i++) await put(`small-${i}.mkv`, 200_000);
  const hashes = sources.map(({ bytes }) => createHash("sha256").update(bytes).digest("hex"));
  /** Lifts the caps that kept a download and an upload slow enough to be caught. */
  const fullSpeed = {
    site: () => {
      slowRate = undefined;
    },
    telegram: () => srv.server.faults.setConditions({ bandwidth: 0 }),
  };

  const dataDir = path.join(dir, "data");
  const { env: storeEnv, db } = await store.open(t, dataDir);
  // The bot was made admin of the log channel before: its access hash is known (Alice's comes with her message).
  await savePeers(db, [
    {
      id: Number(channel.peerId),
      kind: "channel",
      access_hash: channel.accessHash,
      username: null,
      title: "Log",
    },
  ]);
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
    MAX_QUEUED_JOBS_PER_USER: "1000",
    MIN_FREE_DISK: "16MiB",
    JOB_LEASE_MS: String(LEASE_MS),
    JOB_HEARTBEAT_MS: String(HEARTBEAT_MS),
    STATUS_EDIT_INTERVAL_MS: "1000",
    STATUS_POLL_MS: "200",
    ...storeEnv,
  };
  const launch = medusaLauncher(t, EXIT_TIMEOUT_MS);
  const medusa = async (role: "gateway" | "worker") => {
    const port = await freePort();
    const child = launch({ ...env, HTTP_PORT: String(port) }, ["--role", role]);
    await until(
      `${role} ready`,
      () =>
        fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.ok,
          () => false, // not listening yet
        ),
      () => child.stderr(),
    );
    return child;
  };
  const jobRows = (): Promise<Job[]> => db.selectFrom("jobs").selectAll().orderBy("id").execute();
  const chat = { user: alice.id, peer: bot.id };
  return { srv, bot, alice, channel, sources, hashes, fullSpeed, medusa, jobRows, chat };
}

/** Polls `check` until it holds (bounded by DONE_TIMEOUT_MS); no fixed sleeps elsewhere. */
async function until<T>(
  what: string,
  check: () => Promise<T | false | undefined>,
  detail: () => string = () => "",
): Promise<T> {
  const deadline = Date.now() + DONE_TIMEOUT_MS;
  for (;;) {
    const value = await check();
    if (value !== false && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${DONE_TIMEOUT_MS} ms\n${detail()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A worker's lease names its process: `w-<pid>-<random>`. */
function holder(workers: MedusaChild[], job: Job): MedusaChild | undefined {
  return workers.find((w) => job.locked_by?.startsWith(`w-${w.child.pid}-`));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The live status message: its title says what runs, then that all finished. */
const isBoard = (m: MessageView) => /^(Your jobs|All jobs finished)/.test(m.text);

for (const store of STORES) {
  describe(`one gateway and three workers on ${store.name}`, () => {
    it(`delivers ${store.jobCount} links exactly once though one worker is killed mid-upload and another mid-download`, async (t) => {
      const w = await rolesWorld(t, store);
      // Started together (the store is ready): on a busy machine each start takes seconds.
      const [gateway, ...workers] = await Promise.all([
        w.medusa("gateway"),
        w.medusa("worker"),
        w.medusa("worker"),
        w.medusa("worker"),
      ]);
      assert.ok(gateway);
      const everyone = [gateway, ...workers];
      const logs = () => everyone.map((c) => c.stderr()).join("\n");

      const list = Buffer.from(`${w.sources.map((f) => f.url).join("\n")}\n`);
      await w.srv.server.sendDocument(w.alice.id, w.chat, {
        name: "links.txt",
        mimeType: "text/plain",
        content: list,
      });

      // Mid-download: the slow file has bytes on disk (the site holds it back until the kill).
      const downloading = await until(
        "the slow file downloading",
        async () =>
          (await w.jobRows()).find(
            (j) => j.source_url.endsWith("/slow.mkv") && j.status === "downloading" && j.bytes_done > 0,
          ),
        logs,
      );
      const downloader = holder(workers, downloading);
      assert.ok(downloader, `the downloading job is held by a worker (${downloading.locked_by})`);
      downloader.child.kill("SIGKILL");
      assert.equal(await downloader.exit, "SIGKILL");
      w.fullSpeed.site();

      // Mid-upload: the big file's parts are being acknowledged (its checkpoint keeps them) by a worker still
      // alive (the killed one may have held it too: then another took it over and uploads it now).
      const uploading = await until(
        "the big file uploading",
        async () =>
          (await w.jobRows()).find((j) => {
            const by = holder(workers, j);
            return (
              j.source_url.endsWith("/big.mkv") &&
              j.status === "uploading" &&
              j.checkpoint.includes('"uploads"') &&
              by !== undefined &&
              by !== downloader
            );
          }),
        logs,
      );
      const uploader = holder(workers, uploading);
      assert.ok(uploader);
      uploader.child.kill("SIGKILL");
      assert.equal(await uploader.exit, "SIGKILL");
      w.fullSpeed.telegram();

      // The survivor takes both over once their leases run out, and finishes everything.
      const rows = await until(
        "every job done",
        async () => {
          const all = await w.jobRows();
          return all.length === store.jobCount && all.every((j) => j.status === "done") && all;
        },
        logs,
      );
      const survivor = workers.find((c) => c !== uploader && c !== downloader);
      assert.ok(survivor);
      for (const id of [uploading.id, downloading.id]) {
        const row = rows.find((j) => j.id === id);
        assert.ok((row?.attempts ?? 0) >= 2, `job ${id} was resumed by another claim`);
      }

      // Each file once to Alice and once to the log channel, byte for byte.
      const toAlice = w.srv.server.messages(w.chat).filter((m) => m.media && m.fromId === w.bot.id);
      const toLog = w.srv.server.messages({ chat: w.channel.id }).filter((m) => m.media);
      assert.equal(toAlice.length, store.jobCount, "each file once");
      assert.deepEqual(
        toAlice.map((m) => m.media?.sha256 ?? `no media sha256 in message ${m.id}`).sort(),
        [...w.hashes].sort(),
        "byte-identical",
      );
      assert.deepEqual(toLog.map((m) => m.media?.sha256).sort(), [...w.hashes].sort(), "one log copy each");

      // The summary once; the one board ends on the final state (the gateway polls the rows).
      const summaryOnce = async () => {
        const summaries = w.srv.server.messages(w.chat).filter((m) => m.text.includes("Batch finished"));
        return summaries.length > 0 && summaries;
      };
      const summaries = await until("the batch summary", summaryOnce, logs);
      assert.equal(summaries.length, 1, "the summary once");
      assert.match(summaries[0]?.text ?? "", new RegExp(`Done: ${store.jobCount} · Failed: 0`));
      const board = await until(
        "the board's final state",
        async () => {
          const boards = w.srv.server.messages(w.chat).filter(isBoard);
          return boards.at(-1)?.text.startsWith("All jobs finished") ? boards : undefined;
        },
        logs,
      );
      assert.equal(board.length, 1, "one board, edited in place");
      assert.ok(
        board[0]?.edits.some((e) => e.text.startsWith("Your jobs")),
        "it showed the jobs running before",
      );

      // Graceful stops: every lease given back, exit 0.
      for (const child of [survivor, gateway]) {
        child.child.kill("SIGTERM");
        assert.equal(await child.exit, "0", child.stderr());
      }
      const after = await w.jobRows();
      assert.deepEqual(
        after.map((j) => j.locked_by),
        after.map(() => null),
        "no lease left behind",
      );
    });

    it("a Cancel pressed on the gateway's board stops the job a worker is downloading, within the heartbeat", async (t) => {
      const w = await rolesWorld(t, { ...store, jobCount: 2 });
      const [gateway, worker] = await Promise.all([w.medusa("gateway"), w.medusa("worker")]);
      assert.ok(gateway && worker);
      const logs = () => `${gateway.stderr()}\n${worker.stderr()}`;
      const slow = w.sources[1]?.url ?? "";
      w.srv.server.sendText(w.alice.id, w.chat, slow);
      const job = await until(
        "the slow file downloading",
        async () => (await w.jobRows()).find((j) => j.status === "downloading" && j.bytes_done > 0),
        logs,
      );
      const board = await until(
        "a board with the job's Cancel button",
        async () =>
          w.srv.server
            .messages(w.chat)
            .find((m) => (m.buttons ?? []).some((row) => row.some((b) => b.data === `st:c:${job.id}`))),
        logs,
      );
      const pressed = Date.now();
      const answer = await w.srv.server.pressButton(w.alice.id, w.chat, board.id, { data: `st:c:${job.id}` });
      assert.equal(answer.message, "Cancelled.");
      const cancelled = await until(
        "the job cancelled and released",
        async () =>
          (await w.jobRows()).find((j) => j.id === job.id && j.status === "cancelled" && !j.locked_by),
        logs,
      );
      const tookMs = Date.now() - pressed;
      // The worker reads the flag on its next beat; the rest is this busy machine.
      assert.ok(tookMs < HEARTBEAT_MS + 10_000, `cancelled in ${tookMs} ms`);
      assert.equal(cancelled.bytes_done < SLOW_FILE_BYTES, true, "stopped before the download ended");
      await until(
        "the board showing it cancelled",
        async () =>
          w.srv.server
            .messages(w.chat)
            .find((m) => m.id === board.id && m.text.startsWith("All jobs finished")),
        logs,
      );
      assert.equal(w.srv.server.messages(w.chat).filter((m) => m.media && m.fromId === w.bot.id).length, 0);
      for (const child of [worker, gateway]) {
        child.child.kill("SIGTERM");
        assert.equal(await child.exit, "0", child.stderr());
      }
    });
  });
}
