/**
 * Upload benchmark: our uploader against gramjs's own `uploadFile`, side by side in one run, over the local
 * Telegram server running in its own process. Prints one JSON line per profile:
 *   capped   — 8 MiB/s per connection (64 KiB burst) and 30 ms latency each way, like a real DC link;
 *   loopback — no cap, no latency: CPU-bound, shows the cost of crypto and copies.
 * Each upload runs in its own child process, so `ours_peak_rss_mib` is our uploader's alone; ours runs once before
 * each gramjs run (same load on the shared cores) and both are reported at their best (all runs listed).
 *
 *   npm run bench:upload -- --size 256MiB [--premium] [--profiles capped,loopback]
 *                           [--connections 8] [--in-flight 2] [--gramjs-workers 1,4,16] [--no-gramjs] [--with-tsx]
 *                           [--child-node-args="--cpu-prof --cpu-prof-dir=/tmp/prof"]   (BENCH_MEMORY_SAMPLES=1: RSS log)
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const MIB = 1024 * 1024;
/** The capped profile: a per-connection cap as on Telegram's DCs, with a burst small enough to pace parts. */
const CAP_BYTES_PER_S = 8 * MIB;
const CAP_LATENCY_MS = 30;
/** gramjs's worker counts to try: it is reported at its best. */
const DEFAULT_GRAMJS_WORKERS = [1, 4, 16];
const API_ID = 12345;
const API_HASH = "0123456789abcdef".repeat(2); // any 32 hex digits: the local server does not check it
/** Generous bound for one child: 4000 MiB at 2 MiB/s. */
const CHILD_TIMEOUT_MS = 40 * 60_000;

const SCRIPT = fileURLToPath(import.meta.url);
const REPO = join(dirname(SCRIPT), "..");

/**
 * How upload children start. Production runs compiled JavaScript (`dist/`), not the tsx loader, whose ~33 MiB
 * (measured: 72 MiB RSS for an empty script under tsx, 39 without) is no part of the uploader. So the upload
 * children run a bundle of this script built with esbuild (already installed as tsx's compiler), with every
 * package left external; the server child keeps tsx (its worker files are loaded from source).
 */
let childEntry: string[] = ["--import", "tsx", SCRIPT];

async function bundleChildEntry(): Promise<void> {
  if (!SCRIPT.endsWith(".ts")) {
    childEntry = [SCRIPT]; // already the bundle
    return;
  }
  const esbuild = (await import("esbuild")) as {
    build(options: Record<string, unknown>): Promise<unknown>;
  };
  // Under node_modules so that the bundle resolves packages exactly as the sources do.
  const outfile = join(REPO, "node_modules", ".cache", "medusa-bench", "bench-upload.mjs");
  await esbuild.build({
    entryPoints: [SCRIPT],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    // The server runs in its own process from source: keep it out of the upload children.
    external: ["../test/support/telegram-server/index.js"],
    outfile,
    logLevel: "warning",
  });
  childEntry = [outfile];
}

interface ServerInfo {
  controlUrl: string;
  port: number;
  dcId: number;
  publicKeyPem: string;
}

interface ChildJob {
  server: ServerInfo;
  session: string;
  file: string;
  size: number;
  premium: boolean;
  connections?: number;
  inFlight?: number;
  workers?: number;
  /** Send the uploaded file to this user so that the server assembles and hashes it. */
  sendTo?: { id: number; accessHash: string };
}

interface ChildResult {
  seconds: number;
  /** CPU time (user + system) of the upload itself: less sensitive to other load than wall time. */
  cpuSeconds: number;
  peakRssMib: number;
  connections?: number;
  inFlight?: number;
  reopens?: number;
}

function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|KB|MB|GB)?$/i.exec(text.trim());
  if (!match) throw new TypeError(`Expected a size such as 256MiB or 3GiB, got ${JSON.stringify(text)}`);
  const units: Record<string, number> = {
    b: 1,
    kib: 1024,
    mib: MIB,
    gib: 1024 * MIB,
    kb: 1000,
    mb: 1_000_000,
    gb: 1_000_000_000,
  };
  return Math.round(Number(match[1]) * (units[(match[2] ?? "b").toLowerCase()] ?? 1));
}

async function control<T>(server: ServerInfo, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${server.controlUrl}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`control ${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Runs this script in a child process with `args` and returns the JSON object of its last stdout line. */
function runChild<T>(args: string[], input?: unknown, nodeArgs: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, ...childEntry, ...args], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    let last = "";
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (line.trim()) last = line;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT_MS);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`child ${args.join(" ")} exited with ${code ?? signal}`));
        return;
      }
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`child ${args.join(" ")} printed no JSON result (last line: ${last})`));
      }
    });
    child.stdin.end(input === undefined ? "" : JSON.stringify(input));
  });
}

async function readStdinJson<T>(): Promise<T> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8")) as T;
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

function peakRssMib(): number {
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}

// ---- roles ----

/** The server in its own process: prints its coordinates, runs until stdin closes (the parent is gone). */
async function serveRole(): Promise<void> {
  const { startTelegramServer } = await import("../test/support/telegram-server/index.js");
  const srv = await startTelegramServer({ control: true });
  const info: ServerInfo = {
    controlUrl: srv.controlUrl ?? "",
    port: srv.mtprotoPort,
    dcId: srv.dcId,
    publicKeyPem: srv.publicKeyPem,
  };
  process.stdout.write(`${JSON.stringify(info)}\n`);
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.on("end", resolve));
  await srv.close();
}

async function connectChild(job: ChildJob) {
  const { createTelegramClient } = await import("../src/telegram/connect.js");
  const client = createTelegramClient({
    apiId: API_ID,
    apiHash: API_HASH,
    session: job.session,
    server: {
      host: "127.0.0.1",
      port: job.server.port,
      dcId: job.server.dcId,
      publicKeyPem: job.server.publicKeyPem,
    },
  });
  await client.connect();
  return client;
}

async function oursRole(): Promise<void> {
  const job = await readStdinJson<ChildJob>();
  // As medusa start does, before the client exists; the gramjs role leaves gramjs stock.
  const { installGramjsPatches } = await import("../src/telegram/gramjs-patches.js");
  installGramjsPatches();
  const { uploadFile } = await import("../src/telegram/uploader.js");
  const { sendFile } = await import("../src/telegram/send.js");
  const { disconnectClient } = await import("../src/telegram/connect.js");
  const { Api } = await import("telegram");
  const client = await connectChild(job);
  try {
    const stats = { connections: 0, inFlight: 0, reopens: 0, floodWaits: 0, rpcRetries: 0 };
    const started = performance.now();
    const sampler = process.env.BENCH_MEMORY_SAMPLES
      ? setInterval(() => {
          const m = process.memoryUsage();
          const mib = (n: number) => Math.round(n / MIB);
          process.stderr.write(
            `mem rss=${mib(m.rss)} heap=${mib(m.heapUsed)}/${mib(m.heapTotal)} external=${mib(m.external)} arrayBuffers=${mib(m.arrayBuffers)}\n`,
          );
        }, 250)
      : undefined;
    const cpuStarted = process.cpuUsage();
    const file = await uploadFile(
      client,
      job.file,
      { connections: job.connections, inFlight: job.inFlight, premium: job.premium },
      stats,
    );
    const seconds = (performance.now() - started) / 1000;
    const cpuSeconds = cpuSince(cpuStarted);
    clearInterval(sampler);
    if (job.sendTo) {
      await sendFile(client, {
        peer: new Api.InputPeerUser({
          userId: BigInt(job.sendTo.id) as never,
          accessHash: BigInt(job.sendTo.accessHash) as never,
        }),
        file,
        randomId: BigInt(Date.now()),
      });
    }
    const result: ChildResult = {
      seconds,
      cpuSeconds,
      peakRssMib: peakRssMib(),
      connections: stats.connections,
      inFlight: stats.inFlight,
      reopens: stats.reopens,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await disconnectClient(client);
  }
}

async function gramjsRole(): Promise<void> {
  const job = await readStdinJson<ChildJob>();
  const { CustomFile } = await import("telegram/client/uploads.js");
  const { disconnectClient } = await import("../src/telegram/connect.js");
  const client = await connectChild(job);
  try {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    await client.uploadFile({
      file: new CustomFile("bench.bin", job.size, job.file),
      workers: job.workers ?? 1,
    });
    const seconds = (performance.now() - started) / 1000;
    const result: ChildResult = { seconds, cpuSeconds: cpuSince(cpuStarted), peakRssMib: peakRssMib() };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await disconnectClient(client);
  }
}

// ---- parent ----

async function startServerProcess(): Promise<{ info: ServerInfo; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", SCRIPT, "--role", "server"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const info = await new Promise<ServerInfo>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the server process did not start in 60 s")), 60_000);
    createInterface({ input: child.stdout }).once("line", (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as ServerInfo);
    });
    child.once("exit", (code) => reject(new Error(`the server process exited with ${code}`)));
  });
  return {
    info,
    stop: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        child.stdin.end();
      }),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: "string" },
      size: { type: "string", default: "256MiB" },
      premium: { type: "boolean", default: false },
      profiles: { type: "string", default: "capped,loopback" },
      connections: { type: "string" },
      "in-flight": { type: "string" },
      "gramjs-workers": { type: "string", default: DEFAULT_GRAMJS_WORKERS.join(",") },
      "no-gramjs": { type: "boolean", default: false },
      /** Run the upload children under the tsx loader too (adds ~33 MiB to every RSS). */
      "with-tsx": { type: "boolean", default: false },
      /** Extra node flags for our upload child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" or "--trace-gc". */
      "child-node-args": { type: "string" },
    },
  });
  if (values.role === "server") return serveRole();
  if (values.role === "ours") return oursRole();
  if (values.role === "gramjs") return gramjsRole();

  const size = parseSize(values.size);
  const profiles = values.profiles.split(",").map((p) => p.trim());
  for (const profile of profiles) {
    if (profile !== "capped" && profile !== "loopback") {
      throw new TypeError(`Expected profiles among capped,loopback, got ${JSON.stringify(profile)}`);
    }
  }
  const workersList = values["no-gramjs"] ? [] : values["gramjs-workers"].split(",").map(Number);
  const connections = values.connections === undefined ? undefined : Number(values.connections);
  const inFlight = values["in-flight"] === undefined ? undefined : Number(values["in-flight"]);

  if (!values["with-tsx"]) await bundleChildEntry();
  const { writePatternFile } = await import("../test/telegram/support/files.js");
  const dir = await mkdtemp(join(tmpdir(), "medusa-bench-upload-"));
  const server = await startServerProcess();
  try {
    const file = join(dir, "bench.bin");
    const sha256 = await writePatternFile(file, size);
    const alice = await control<{ id: number; session: string }>(server.info, "POST", "/users", {
      premium: values.premium,
      session: true,
    });
    const bob = await control<{ id: number; accessHash: string }>(server.info, "POST", "/users", {});
    const base = { server: server.info, session: alice.session, file, size, premium: values.premium };
    for (const profile of profiles) {
      const capped = profile === "capped";
      await control(server.info, "PUT", "/conditions", {
        bandwidth: capped ? CAP_BYTES_PER_S : 0,
        latencyMs: capped ? CAP_LATENCY_MS : 0,
      });
      // Side by side: one run of ours before each gramjs run, so both see the same machine load (the cores are
      // shared); each side is reported at its best, gramjs over its worker counts, ours over as many runs.
      const oursRuns: ChildResult[] = [];
      const gramjsRuns: { workers: number; seconds: number; cpuSeconds: number }[] = [];
      let sha256Ok = true;
      for (let attempt = 0; attempt < Math.max(1, workersList.length); attempt++) {
        const run = await runChild<ChildResult>(
          ["--role", "ours"],
          {
            ...base,
            connections,
            inFlight,
            sendTo: { id: bob.id, accessHash: bob.accessHash },
          },
          values["child-node-args"]?.split(" ").filter(Boolean) ?? [],
        );
        oursRuns.push(run);
        const messages = await control<{ media: { sha256: string } | null }[]>(
          server.info,
          "GET",
          `/messages?user=${alice.id}&peer=${bob.id}`,
        );
        sha256Ok &&= messages.at(-1)?.media?.sha256 === sha256;
        const workers = workersList[attempt];
        if (workers !== undefined) {
          const result = await runChild<ChildResult>(["--role", "gramjs"], { ...base, workers });
          gramjsRuns.push({ workers, seconds: result.seconds, cpuSeconds: result.cpuSeconds });
        }
      }
      const ours = oursRuns.reduce((best, run) => (run.seconds < best.seconds ? run : best));
      const oursPeakRss = Math.max(...oursRuns.map((run) => run.peakRssMib));
      const gramjsBest = gramjsRuns.length
        ? gramjsRuns.reduce((best, run) => (run.seconds < best.seconds ? run : best))
        : undefined;
      const oursMibS = size / MIB / ours.seconds;
      const gramjsMibS = gramjsBest ? size / MIB / gramjsBest.seconds : null;
      const round = (n: number) => Math.round(n * 100) / 100;
      process.stdout.write(
        `${JSON.stringify({
          size_mib: round(size / MIB),
          profile,
          ours_mib_s: round(oursMibS),
          gramjs_mib_s: gramjsMibS === null ? null : round(gramjsMibS),
          gramjs_workers: gramjsBest?.workers ?? null,
          ratio: gramjsMibS === null ? null : round(oursMibS / gramjsMibS),
          ours_peak_rss_mib: oursPeakRss,
          connections: ours.connections,
          in_flight: ours.inFlight,
          sha256_ok: sha256Ok,
          ours_cpu_s: round(ours.cpuSeconds),
          gramjs_cpu_s: gramjsBest ? round(gramjsBest.cpuSeconds) : null,
          ours_runs_mib_s: oursRuns.map((run) => round(size / MIB / run.seconds)),
          gramjs_runs_mib_s: Object.fromEntries(
            gramjsRuns.map((run) => [run.workers, round(size / MIB / run.seconds)]),
          ),
          ...(capped ? { cap_mib_s: CAP_BYTES_PER_S / MIB, latency_ms: CAP_LATENCY_MS } : {}),
          ...(capped
            ? { ours_share_of_cap: round(oursMibS / ((ours.connections ?? 1) * (CAP_BYTES_PER_S / MIB))) }
            : {}),
        })}\n`,
      );
    }
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
