/**
 * Scale-out benchmark: delivered MiB/s with 1, 2 and 3 `medusa start --role worker` processes sharing one database
 * (PostgreSQL, a throwaway cluster, when installed; else one SQLite file), against the local Telegram server with a
 * per-connection cap low enough that the cap, not this machine's two cores, is the limit (each worker uploads on
 * its own connections, so each adds its share). Then the claim rate of scripts/bench-claim.ts: jobs claimed per
 * second by 3 processes on an empty pipeline on PostgreSQL, and by one on SQLite. Prints ONE JSON line.
 *
 *   npm run bench:scale -- [--files 12] [--size 4MiB] [--cap 128KiB] [--workers 1,2,3] [--sqlite] [--no-claim]
 *
 * For each worker count: a fresh database, the workers started and ready, then `files` independent links queued
 * at once (not a batch: a batch's files are posted in order, one at a time). Throughput is the bytes delivered over
 * the time from the first claim to the last job done, both from the job rows, so process start-up is not counted.
 * The goal: 3 workers at least 2.5 x one.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { openStoreAndMigrate } from "../src/db/database.js";
import { enqueueJobs } from "../src/db/job-queue.js";
import { savePeers } from "../src/db/peers.js";
import { touchUser } from "../src/db/users.js";
import { parseSize } from "../src/lib/size.js";
import { bufferBody, serveBody, startHttpServer } from "../test/support/http-server.js";
import { medusaLauncher } from "../test/support/medusa-process.js";
import { postgresCluster, postgresMissing } from "../test/support/postgres.js";
import { startTelegramServer } from "../test/support/telegram-server/index.js";

const MIB = 1024 * 1024;
const API_ID = 12345;
const API_HASH = "0123456789abcdef".repeat(2);
/** Medusa's default: 8 connections per upload, so one upload's share is 8 x the cap (a worker runs one at a time). */
const UPLOAD_CONNECTIONS = 8;
/** Bounds on one run; only a wedged worker reaches them. */
const READY_TIMEOUT_MS = 180_000;
const RUN_TIMEOUT_MS = 20 * 60_000;
const CLAIM_TIMEOUT_MS = 10 * 60_000;
const CLAIM_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "bench-claim.ts");

const { values } = parseArgs({
  options: {
    files: { type: "string", default: "12" },
    size: { type: "string", default: "4MiB" },
    cap: { type: "string", default: "128KiB" },
    workers: { type: "string", default: "1,2,3" },
    sqlite: { type: "boolean", default: false },
    "no-claim": { type: "boolean", default: false },
  },
  strict: true,
});
const files = Number(values.files);
const size = parseSize(values.size);
const cap = parseSize(values.cap);
const workerCounts = values.workers.split(",").map(Number);
if (!Number.isInteger(files) || files < 1 || !size || !cap || !workerCounts.every((n) => n >= 1 && n <= 8)) {
  throw new TypeError(
    "Expected --files a whole number, --size and --cap sizes such as 4MiB and 128KiB, --workers counts such as 1,2,3",
  );
}
const usePostgres = !values.sqlite && postgresMissing() === undefined;

const dir = await fs.mkdtemp(path.join(os.tmpdir(), "medusa-bench-scale-"));
const cleanups: Array<() => unknown> = [];
try {
  const srv = await startTelegramServer({
    control: false,
    log: () => undefined,
    conditions: { bandwidth: cap, latencyMs: 0 },
  });
  cleanups.push(() => srv.close());
  const keyFile = path.join(dir, "server-key.pem");
  await fs.writeFile(keyFile, srv.publicKeyPem);
  const bot = srv.server.createBot({ username: "medusa_bot" });
  const alice = srv.server.createUser({ username: "alice", firstName: "Alice" });
  // The site is not capped: downloads are not what is measured.
  const site = await startHttpServer();
  cleanups.push(() => site.close());
  const bodies = Array.from({ length: files }, () => bufferBody(randomBytes(size)));
  bodies.forEach((body, i) => {
    site.route(`/f${i}.bin`, (req, res) => serveBody(req, res, body, { etag: `"f${i}"` }));
  });

  const results: Record<string, number> = {};
  for (const count of workerCounts) {
    results[count] = await run(count);
    process.stderr.write(`${count} worker(s): ${results[count]} MiB/s\n`);
  }
  const one = results[1] ?? 0;
  const three = results[3] ?? 0;
  const ratio = one > 0 ? round(three / one) : 0;
  const claim = values["no-claim"] ? null : await claimRate();
  process.stdout.write(
    `${JSON.stringify({
      store: usePostgres ? "postgres" : "sqlite",
      files,
      file_mib: round(size / MIB),
      cap_kib_s_per_connection: round(cap / 1024),
      upload_connections: UPLOAD_CONNECTIONS,
      cap_mib_s_per_upload: round((cap * UPLOAD_CONNECTIONS) / MIB),
      mib_s: results,
      ratio_3_to_1: ratio,
      ok: ratio >= 2.5,
      claim_jobs_per_s: claim,
      loadavg: os.loadavg().map((n) => round(n)),
    })}\n`,
  );

  async function run(count: number): Promise<number> {
    const dataDir = path.join(dir, `data-${count}`);
    const url = usePostgres ? await (await postgresCluster()).createDatabase() : null;
    const database = await openStoreAndMigrate({ url, file: path.join(dataDir, "medusa.db") });
    try {
      await savePeers(database.db, [
        { id: alice.id, kind: "user", access_hash: alice.accessHash, username: "alice", title: "Alice" },
      ]);
      await touchUser(database.db, { id: alice.id, firstName: "Alice" });
      // The launcher kills what is still running when "the test" ends: here, when the bench does.
      const launch = medusaLauncher(
        {
          after: (fn: () => unknown) => {
            cleanups.push(fn);
          },
        } as Parameters<typeof medusaLauncher>[0],
        RUN_TIMEOUT_MS,
      );
      const ports = await Promise.all(Array.from({ length: count }, freePort));
      const workers = ports.map((port) =>
        launch(
          {
            PATH: process.env.PATH ?? "",
            TELEGRAM_API_ID: String(API_ID),
            TELEGRAM_API_HASH: API_HASH,
            BOT_TOKEN: bot.botToken ?? "",
            OWNER_ID: String(alice.id),
            TELEGRAM_SERVER: `127.0.0.1:${srv.mtprotoPort}`,
            TELEGRAM_SERVER_KEY_FILE: keyFile,
            TELEGRAM_DC_ID: String(srv.dcId),
            DATA_DIR: dataDir,
            ...(url ? { DATABASE_URL: url } : {}),
            HTTP_PORT: String(port),
            ALLOW_PRIVATE_NETWORKS: "true",
            LOG_LEVEL: "warn",
            MIN_FREE_DISK: "16MiB",
            UPLOAD_CONNECTIONS: String(UPLOAD_CONNECTIONS),
          },
          ["--role", "worker"],
        ),
      );
      await Promise.all(ports.map((port, i) => ready(port, () => workers[i]?.stderr() ?? "")));
      const jobs = await database.db.transaction().execute((trx) =>
        enqueueJobs(
          trx,
          bodies.map((_, i) => ({
            user_id: alice.id,
            request_chat_id: alice.id,
            destination_chat_id: alice.id,
            source_url: `http://127.0.0.1:${site.port}/f${i}.bin`,
          })),
          { perUserQueued: 1000, totalQueued: 1000 },
        ),
      );
      const ids = jobs.map((j) => j.id);
      const deadline = Date.now() + RUN_TIMEOUT_MS;
      for (;;) {
        const rows = await database.db.selectFrom("jobs").selectAll().where("id", "in", ids).execute();
        const bad = rows.find((r) => r.status === "failed" || r.status === "cancelled");
        if (bad) throw new Error(`job ${bad.id} ${bad.status}: ${bad.error_message}`);
        if (rows.every((r) => r.status === "done")) {
          const first = Math.min(...rows.map((r) => Date.parse(r.started_at ?? "")));
          const last = Math.max(...rows.map((r) => Date.parse(r.finished_at ?? "")));
          const bytes = rows.reduce((sum, r) => sum + (r.bytes_total ?? 0), 0);
          for (const r of [...rows].sort((a, b) => a.id - b.id)) {
            const at = (t: string | null) => ((Date.parse(t ?? "") - first) / 1000).toFixed(1);
            process.stderr.write(`  job ${r.id}: ${at(r.started_at)} → ${at(r.finished_at)} s\n`);
          }
          for (const w of workers) {
            w.child.kill("SIGTERM");
            await w.exit;
          }
          return round(bytes / MIB / ((last - first) / 1000));
        }
        if (Date.now() > deadline) throw new Error(`${count} worker(s) did not finish in time`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      await database.close();
    }
  }
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await fs.rm(dir, { recursive: true, force: true });
}

/** scripts/bench-claim.ts in its own process (it starts claimer processes of its own): its jobs per second. */
async function claimRate(): Promise<{ postgres_3_processes: number | null; sqlite_1_process: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", CLAIM_SCRIPT], {
    timeout: CLAIM_TIMEOUT_MS,
  });
  const line = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as {
    postgres: { jobs_per_s: number } | null;
    sqlite: { jobs_per_s: number };
  };
  return {
    postgres_3_processes: line.postgres?.jobs_per_s ?? null,
    sqlite_1_process: line.sqlite.jobs_per_s,
  };
}

async function ready(port: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false, // not listening yet
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`a worker was not ready in time\n${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
