/**
 * Pipeline benchmark: the real `medusa start` (compiled to JavaScript, as it ships) taking links to delivered
 * messages, against each stage measured alone in the same run, over per-connection caps so that the caps and not
 * this machine are the limit. Prints ONE JSON line.
 *
 *   npm run bench:pipeline -- [--size 1GiB] [--count 20] [--batch-size 64MiB]
 *
 * Cases: one big direct file, then a batch of `count` files. For each: download alone (our HTTP engine with
 * Medusa's connections, the batch two at a time as the fetch lane runs it), upload alone (our uploader, one file
 * at a time as the deliver lane runs it, parts only), and ours (enqueued into a running Medusa, timed from the
 * enqueue to the last job done). Ratios are ours against the max and the sum of the two. Medusa's peak RSS is its
 * VmHWM from /proc at the end, with VmRSS sampled every 100 ms as a check. The local Telegram server and the web
 * site run in their own processes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const MIB = 1024 * 1024;
const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), "..");
/** Per-connection caps: the web site's (each response) and Telegram's (each MTProto connection, each way). */
const HTTP_CAP = 4 * MIB;
const TELEGRAM_CAP = 2 * MIB;
const TELEGRAM_LATENCY_MS = 30;
/** Medusa's defaults, which the stages alone use too. */
const DOWNLOAD_CONNECTIONS = 4;
const UPLOAD_CONNECTIONS = 8;
const UPLOAD_IN_FLIGHT = 2;
const FETCH_CONCURRENCY = 2;
const API_ID = 12345;
const API_HASH = "0123456789abcdef".repeat(2);
const RSS_SAMPLE_MS = 100;
/** USER_HZ of /proc/<pid>/stat on Linux. */
const CLOCK_TICKS = 100;
/** Bound on any one stage: 4 GiB at 4 MiB/s. */
const STAGE_TIMEOUT_MS = 20 * 60_000;
const COMPILED_DIR = path.join(ROOT, "node_modules", ".cache", "medusa-bench-pipeline");
const MAX_COMPILED_FILES = 400;

interface TelegramInfo {
  controlUrl: string;
  port: number;
  dcId: number;
  publicKeyPem: string;
}

const { values } = parseArgs({
  options: {
    role: { type: "string" },
    size: { type: "string", default: "1GiB" },
    count: { type: "string", default: "20" },
    "batch-size": { type: "string", default: "64MiB" },
  },
  strict: true,
});

if (values.role === "telegram") await telegramRole();
else if (values.role === "site") await siteRole();
else if (values.role === "download") await downloadRole();
else if (values.role === "upload") await uploadRole();
else await main();

// ---- roles (child processes) ----

async function telegramRole(): Promise<void> {
  const { startTelegramServer } = await import("../test/support/telegram-server/index.js");
  const srv = await startTelegramServer({ control: true, log: () => undefined });
  const info: TelegramInfo = {
    controlUrl: srv.controlUrl ?? "",
    port: srv.mtprotoPort,
    dcId: srv.dcId,
    publicKeyPem: srv.publicKeyPem,
  };
  process.stdout.write(`${JSON.stringify(info)}\n`);
  await untilStdinEnds();
  await srv.close();
}

/** Serves /<seed>/<size>.bin: a pattern of that size, each response capped at HTTP_CAP. */
async function siteRole(): Promise<void> {
  const { patternBody, serveBody, startHttpServer } = await import("../test/support/http-server.js");
  const server = await startHttpServer();
  const bodies = new Map<string, ReturnType<typeof patternBody>>();
  const handler = (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => {
    const match = /^\/(\d+)\/(\d+)\.bin$/.exec(new URL(req.url ?? "/", "http://x").pathname);
    if (!match) return void res.writeHead(404).end();
    const key = `${match[1]}/${match[2]}`;
    let body = bodies.get(key);
    if (!body) {
      body = patternBody(Number(match[2]), Number(match[1]));
      bodies.set(key, body);
    }
    serveBody(req, res, body, { rate: HTTP_CAP, etag: `"${key}"` });
  };
  // Any path: the test server routes by exact path, so one catch-all route per file is registered on demand.
  const routes = new Set<string>();
  const register = (p: string) => {
    if (!routes.has(p)) {
      routes.add(p);
      server.route(p, handler);
    }
  };
  process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
  // The parent names the paths on stdin, one a line, before using them.
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim()) register(line.trim());
    process.stdout.write("ok\n");
  }
  await server.close();
}

async function downloadRole(): Promise<void> {
  const job = JSON.parse(await readStdin()) as { urls: string[]; dir: string; concurrency: number };
  const { downloadHttp } = await import("../src/fetch/http/download.js");
  const started = performance.now();
  const queue = [...job.urls.entries()];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [index, url] = next;
      const dir = path.join(job.dir, String(index));
      await fs.mkdir(dir, { recursive: true });
      await downloadHttp(url, {
        dir,
        maxSize: Number.MAX_SAFE_INTEGER,
        minFreeDisk: 0,
        connectTimeoutMs: 10_000,
        idleTimeoutMs: 60_000,
        guard: { allowPrivateNetworks: true },
        connections: DOWNLOAD_CONNECTIONS,
      });
    }
  };
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  process.stdout.write(
    `${JSON.stringify({ seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSince(cpu) })}\n`,
  );
}

async function uploadRole(): Promise<void> {
  const job = JSON.parse(await readStdin()) as { telegram: TelegramInfo; session: string; files: string[] };
  const { installGramjsPatches } = await import("../src/telegram/gramjs-patches.js");
  installGramjsPatches();
  const { createTelegramClient, disconnectClient } = await import("../src/telegram/connect.js");
  const { uploadFile } = await import("../src/telegram/uploader.js");
  const client = createTelegramClient({
    apiId: API_ID,
    apiHash: API_HASH,
    session: job.session,
    server: {
      host: "127.0.0.1",
      port: job.telegram.port,
      dcId: job.telegram.dcId,
      publicKeyPem: job.telegram.publicKeyPem,
    },
  });
  await client.connect();
  try {
    const started = performance.now();
    const cpu = process.cpuUsage();
    for (const file of job.files) {
      await uploadFile(client, file, { connections: UPLOAD_CONNECTIONS, inFlight: UPLOAD_IN_FLIGHT });
    }
    process.stdout.write(
      `${JSON.stringify({ seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSince(cpu) })}\n`,
    );
  } finally {
    await disconnectClient(client);
  }
}

// ---- parent ----

interface CaseResult {
  ours_s: number;
  download_alone_s: number;
  upload_alone_s: number;
  ratio_to_max: number;
  ratio_to_sum: number;
  sha256_ok: boolean;
  peak_rss_mib: number;
  slowest_fetch_step_s: number;
  ours_cpu_s: number;
  download_alone_cpu_s: number;
  upload_alone_cpu_s: number;
  slowest_deliver_step_s: number;
}

async function main(): Promise<void> {
  const { parseSize } = await import("../src/lib/size.js");
  const size = parseSize(values.size);
  const batchSize = parseSize(values["batch-size"]);
  const count = Number(values.count);
  if (!size || !batchSize || !Number.isInteger(count) || count < 0) {
    throw new TypeError("Expected --size and --batch-size such as 1GiB, and --count a whole number");
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "medusa-bench-pipeline-"));
  const children: ChildProcess[] = [];
  try {
    const cli = await transpile(path.join(ROOT, "src", "cli.ts"));
    const telegram = await startChild<TelegramInfo>(["--role", "telegram"], children);
    const site = await startChild<{ port: number }>(["--role", "site"], children);
    const control = controlApi(telegram.info);
    await control("PUT", "/conditions", { bandwidth: TELEGRAM_CAP, latencyMs: TELEGRAM_LATENCY_MS });
    const bot = await control<{ id: number; botToken: string }>("POST", "/bots", { username: "medusa_bot" });
    const alice = await control<{ id: number; accessHash: string; session: string }>("POST", "/users", {
      username: "alice",
      firstName: "Alice",
      session: true,
    });
    let seed = 100;
    const files = (n: number, bytes: number) =>
      Array.from({ length: n }, () => ({ path: `/${++seed}/${bytes}.bin`, size: bytes, seed }));
    const cases: Array<[string, ReturnType<typeof files>, number]> = [
      ["single", files(1, size), 1],
      ["batch", files(count, batchSize), FETCH_CONCURRENCY],
    ];
    const results: Record<string, CaseResult> = {};
    const medusa = await startMedusa(cli, dir, telegram.info, bot, alice, children);
    try {
      for (const [name, list, concurrency] of cases) {
        if (list.length === 0) continue;
        for (const file of list) await site.send(file.path);
        const urls = list.map((f) => `http://127.0.0.1:${site.info.port}${f.path}`);
        note(`${name}: ${list.length} x ${(list[0]?.size ?? 0) / MIB} MiB`);
        const downloaded = path.join(dir, `alone-${name}`);
        const download = await runChild<{ seconds: number; cpuSeconds: number }>(["--role", "download"], {
          urls,
          dir: downloaded,
          concurrency,
        });
        note(`  download alone ${download.seconds.toFixed(1)} s`);
        const paths = await Promise.all(
          list.map(async (_, index) => {
            const sub = path.join(downloaded, String(index));
            const [entry] = await fs.readdir(sub);
            return path.join(sub, entry ?? "");
          }),
        );
        const upload = await runChild<{ seconds: number; cpuSeconds: number }>(["--role", "upload"], {
          telegram: telegram.info,
          session: alice.session,
          files: paths,
        });
        note(`  upload alone ${upload.seconds.toFixed(1)} s`);
        await fs.rm(downloaded, { recursive: true, force: true });
        const ours = await medusa.run(urls);
        note(
          `  ours ${ours.seconds.toFixed(1)} s (slowest fetch step ${ours.fetchS} s, deliver ${ours.deliverS} s), peak RSS ${ours.peakRssMib} MiB`,
        );
        const expected = list.map((f) => patternDigest(f.size, f.seed));
        const documents = await control<Array<{ sha256: string }>>("GET", "/documents");
        const stored = new Set(documents.map((d) => d.sha256));
        const max = Math.max(download.seconds, upload.seconds);
        const sum = download.seconds + upload.seconds;
        results[name] = {
          ours_s: round(ours.seconds),
          download_alone_s: round(download.seconds),
          upload_alone_s: round(upload.seconds),
          ratio_to_max: round(ours.seconds / max, 3),
          ratio_to_sum: round(ours.seconds / sum, 3),
          sha256_ok: (await Promise.all(expected)).every((sha) => stored.has(sha)),
          peak_rss_mib: ours.peakRssMib,
          slowest_fetch_step_s: ours.fetchS,
          ours_cpu_s: round(ours.cpuSeconds),
          download_alone_cpu_s: round(download.cpuSeconds),
          upload_alone_cpu_s: round(upload.cpuSeconds),
          slowest_deliver_step_s: ours.deliverS,
        };
      }
    } finally {
      await medusa.stop();
    }
    const single = results.single;
    const batch = results.batch;
    process.stdout.write(
      `${JSON.stringify({
        single_mib: round(size / MIB),
        batch: `${count} x ${round(batchSize / MIB)} MiB`,
        http_cap_mib_s: HTTP_CAP / MIB,
        download_connections: DOWNLOAD_CONNECTIONS,
        telegram_cap_mib_s: TELEGRAM_CAP / MIB,
        telegram_latency_ms: TELEGRAM_LATENCY_MS,
        upload_connections: UPLOAD_CONNECTIONS,
        single,
        batch_result: batch,
        single_ok: single ? single.ratio_to_max <= 1.15 : null,
        batch_ok: batch ? batch.ratio_to_max <= 1.15 : null,
        peak_rss_mib: Math.max(single?.peak_rss_mib ?? 0, batch?.peak_rss_mib ?? 0),
        rss_ok: Math.max(single?.peak_rss_mib ?? 0, batch?.peak_rss_mib ?? 0) <= 250,
        loadavg: os.loadavg().map((n) => round(n)),
      })}\n`,
    );
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** A running `medusa start` whose queue the bench fills directly in its database (as `medusa upload` does). */
async function startMedusa(
  cli: string,
  dir: string,
  telegram: TelegramInfo,
  bot: { id: number; botToken: string },
  alice: { id: number; accessHash: string },
  children: ChildProcess[],
) {
  const { openAndMigrate } = await import("../src/db/database.js");
  const { enqueueJobs } = await import("../src/db/job-queue.js");
  const { getJob } = await import("../src/db/jobs.js");
  const { savePeers } = await import("../src/db/peers.js");
  const { touchUser } = await import("../src/db/users.js");
  const dataDir = path.join(dir, "data");
  const keyFile = path.join(dir, "server-key.pem");
  await fs.writeFile(keyFile, telegram.publicKeyPem);
  const database = await openAndMigrate(path.join(dataDir, "medusa.db"));
  await savePeers(database.db, [
    { id: alice.id, kind: "user", access_hash: alice.accessHash, username: "alice", title: "Alice" },
  ]);
  await touchUser(database.db, { id: alice.id, firstName: "Alice" });
  const httpPort = await freePort();
  // BENCH_MEDUSA_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles Medusa during the run.
  const nodeArgs = (process.env.BENCH_MEDUSA_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, cli, "start"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      TELEGRAM_API_ID: String(API_ID),
      TELEGRAM_API_HASH: API_HASH,
      BOT_TOKEN: bot.botToken,
      OWNER_ID: String(alice.id),
      TELEGRAM_SERVER: `127.0.0.1:${telegram.port}`,
      TELEGRAM_SERVER_KEY_FILE: keyFile,
      TELEGRAM_DC_ID: String(telegram.dcId),
      DATA_DIR: dataDir,
      HTTP_PORT: String(httpPort),
      ALLOW_PRIVATE_NETWORKS: "true",
      LOG_LEVEL: process.env.BENCH_MEDUSA_LOG_LEVEL ?? "warn",
      LOG_PRETTY: "false",
      MIN_FREE_DISK: "64MiB",
      MAX_QUEUED_JOBS_PER_USER: "1000",
      DOWNLOAD_CONNECTIONS: String(DOWNLOAD_CONNECTIONS),
      UPLOAD_CONNECTIONS: String(UPLOAD_CONNECTIONS),
      UPLOAD_PARTS_IN_FLIGHT: String(UPLOAD_IN_FLIGHT),
      MAX_CONCURRENT_JOBS: String(FETCH_CONCURRENCY),
    },
    stdio: ["ignore", process.stderr, "inherit"], // its log lines go with the per-stage notes
  });
  children.push(child);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ready) break;
    if (child.exitCode !== null) throw new Error(`medusa exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error("medusa was not ready in 60 s");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    async run(urls: string[]): Promise<{
      seconds: number;
      cpuSeconds: number;
      peakRssMib: number;
      fetchS: number;
      deliverS: number;
    }> {
      const started = performance.now();
      const cpuBefore = procCpuSeconds(child.pid);
      const jobs = await database.db.transaction().execute((trx) =>
        enqueueJobs(
          trx,
          urls.map((source_url) => ({
            user_id: alice.id,
            request_chat_id: alice.id,
            destination_chat_id: alice.id,
            source_url,
          })),
          { perUserQueued: 1000, totalQueued: 1000 },
        ),
      );
      const ids = jobs.map((j) => j.id);
      let sampled = 0;
      const sampler = setInterval(() => {
        sampled = Math.max(sampled, procStatusKib(child.pid, "VmRSS"));
      }, RSS_SAMPLE_MS);
      try {
        const until = Date.now() + STAGE_TIMEOUT_MS;
        for (;;) {
          const rows = await Promise.all(ids.map((id) => getJob(database.db, id)));
          const failed = rows.find((r) => r?.status === "failed" || r?.status === "cancelled");
          if (failed) throw new Error(`job ${failed.id} ${failed.status}: ${failed.error_message}`);
          if (rows.every((r) => r?.status === "done")) break;
          if (Date.now() > until) throw new Error("medusa did not finish in time");
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        clearInterval(sampler);
      }
      const seconds = (performance.now() - started) / 1000;
      const cpuSeconds = procCpuSeconds(child.pid) - cpuBefore;
      const peak = Math.max(sampled, procStatusKib(child.pid, "VmHWM"));
      // Where the time went: the slowest job's fetch step (download, and the upload alongside) and deliver step.
      const rows = await Promise.all(ids.map((id) => getJob(database.db, id)));
      const fetchS = Math.max(...rows.map((r) => (r?.download_ms ?? 0) / 1000));
      const deliverS = Math.max(...rows.map((r) => (r?.upload_ms ?? 0) / 1000));
      return {
        seconds,
        cpuSeconds,
        peakRssMib: round(peak / 1024, 1),
        fetchS: round(fetchS),
        deliverS: round(deliverS),
      };
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      }
      await database.close();
    },
  };
}

/** A field of /proc/<pid>/status in KiB (0 once the process is gone). */
function procStatusKib(pid: number | undefined, field: "VmRSS" | "VmHWM"): number {
  if (pid === undefined) return 0;
  try {
    // Synchronous on purpose: a tiny procfs read, and the sampler must not pile up.
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0; // the process ended between samples
  }
}

function controlApi(info: TelegramInfo) {
  return async <T = unknown>(method: string, route: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${info.controlUrl}${route}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`control ${method} ${route}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  };
}

/** A child of this script that prints one JSON line when ready and runs until its stdin closes. */
async function startChild<T>(
  args: string[],
  children: ChildProcess[],
): Promise<{ info: T; send(line: string): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", SELF, ...args], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout });
  const waiting: Array<(line: string) => void> = [];
  lines.on("line", (line) => waiting.shift()?.(line));
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${args.join(" ")}: no answer in 60 s`)), 60_000);
      waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  const info = JSON.parse(await next()) as T;
  return {
    info,
    async send(line) {
      const answered = next();
      child.stdin.write(`${line}\n`);
      await answered;
    },
  };
}

/** Runs this script with `args` in a child, `input` as JSON on stdin; returns its last stdout line as JSON. */
function runChild<T>(args: string[], input: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", SELF, ...args], {
      cwd: ROOT,
      stdio: ["pipe", "pipe", "inherit"],
    });
    let last = "";
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (line.trim()) last = line;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), STAGE_TIMEOUT_MS);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`${args.join(" ")} exited with ${code ?? signal}`));
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${args.join(" ")} printed no JSON (last line: ${last})`));
      }
    });
    child.stdin.end(JSON.stringify(input));
  });
}

async function patternDigest(size: number, seed: number): Promise<string> {
  const { patternBody } = await import("../test/support/http-server.js");
  const body = patternBody(size, seed);
  const hash = createHash("sha256");
  for (let pos = 0; pos < size; ) {
    const chunk = body.read(pos, size);
    hash.update(chunk);
    pos += chunk.length;
  }
  return hash.digest("hex");
}

/**
 * Transpiles `entry` and every file it imports (relative imports only) to plain JavaScript under COMPILED_DIR,
 * as `npm run build` would ship it (the tsx loader alone adds ~35 MiB of RSS); returns the compiled entry.
 */
async function transpile(entry: string): Promise<string> {
  const ts = (await import("typescript")).default;
  const queue = [entry];
  const done = new Set<string>();
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (done.has(file)) continue;
    if (done.size >= MAX_COMPILED_FILES)
      throw new Error(`more than ${MAX_COMPILED_FILES} files to transpile`);
    done.add(file);
    const source = await fs.readFile(file, "utf8");
    for (const match of source.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)\.js["']/g)) {
      queue.push(path.resolve(path.dirname(file), `${match[1]}.ts`));
    }
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: file,
    });
    const target = path.join(COMPILED_DIR, path.relative(ROOT, file)).replace(/\.ts$/, ".js");
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, outputText);
  }
  const pkg = JSON.parse(await fs.readFile(path.join(ROOT, "package.json"), "utf8")) as { version: string };
  await fs.writeFile(
    path.join(COMPILED_DIR, "package.json"),
    `${JSON.stringify({ type: "module", version: pkg.version })}\n`,
  );
  return path.join(COMPILED_DIR, path.relative(ROOT, entry)).replace(/\.ts$/, ".js");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function untilStdinEnds(): Promise<void> {
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.on("end", resolve));
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat (0 once it is gone). */
function procCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0; // the process ended
  }
}

function round(n: number, digits = 2): number {
  return Number(n.toFixed(digits));
}

/** Per-stage detail on stderr; stdout carries only the JSON line. */
function note(text: string): void {
  process.stderr.write(`${text}\n`);
}
