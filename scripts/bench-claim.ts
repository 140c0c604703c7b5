/**
 * Claim-rate benchmark: how many jobs per second the queue hands out on an empty pipeline (no transfer: each
 * claimer claims a job and completes it at once, as a worker whose steps cost nothing), on PostgreSQL with three
 * claimer processes and on SQLite with one. Prints ONE JSON line.
 *
 *   npx tsx scripts/bench-claim.ts [--jobs 3000] [--users 20] [--claimers 3] [--url postgres://…]
 *
 * Without --url, PostgreSQL is a throwaway cluster in a temp dir (test/support/postgres.ts), removed at exit;
 * without PostgreSQL installed, only the SQLite number is printed (postgres: null).
 * Each claimer is its own node process with its own pool, as worker hosts would be; they start together on a
 * signal after connecting, and the clock runs from that signal until the last one finds the queue empty.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type Db, type OpenedStore, openStore, openStoreAndMigrate } from "../src/db/database.js";
import { claimJob, completeJob, enqueueJobs } from "../src/db/job-queue.js";
import { touchUser } from "../src/db/users.js";
import { postgresCluster, postgresMissing } from "../test/support/postgres.js";

const SELF = fileURLToPath(import.meta.url);
const LEASE_MS = 60_000;
const NO_CAPS = { perUserQueued: Number.POSITIVE_INFINITY, totalQueued: Number.POSITIVE_INFINITY };

/** Claims and completes until the queue is empty; returns how many. */
async function drain(db: Db, workerId: string): Promise<number> {
  let n = 0;
  for (let job = await claimJob(db, { workerId, leaseMs: LEASE_MS }); job; ) {
    await completeJob(db, job.id, workerId);
    n++;
    job = await claimJob(db, { workerId, leaseMs: LEASE_MS });
  }
  return n;
}

async function fill(db: Db, jobs: number, users: number): Promise<void> {
  for (let u = 1; u <= users; u++) await touchUser(db, { id: u });
  const requests = Array.from({ length: jobs }, (_, i) => {
    const user = (i % users) + 1;
    return {
      user_id: user,
      request_chat_id: user,
      destination_chat_id: user,
      source_url: `https://e.x/${i}`,
    };
  });
  for (let i = 0; i < requests.length; i += 500) {
    await db.transaction().execute((trx) => enqueueJobs(trx, requests.slice(i, i + 500), NO_CAPS));
  }
}

/** Child mode: connect, say "ready", wait for "go", drain, print the count. */
async function claimer(url: string, workerId: string): Promise<void> {
  const opened = openStore({ url, file: "" });
  await opened.db.selectFrom("jobs").select("id").limit(1).execute(); // connected before the clock starts
  process.stdout.write("ready\n");
  await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
  const n = await drain(opened.db, workerId);
  await opened.close();
  process.stdout.write(`${JSON.stringify({ claimed: n })}\n`);
}

function startClaimer(url: string, workerId: string) {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", SELF, "--claimer", workerId, "--url", url],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const lines = createInterface({ input: child.stdout! });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      lines.once("line", resolve);
      child.once("exit", (code) => reject(new Error(`claimer ${workerId} exited (${code})`)));
    });
  return { child, next };
}

async function postgresRate(url: string, jobs: number, users: number, claimers: number) {
  const opened = await openStoreAndMigrate({ url, file: "" });
  await fill(opened.db, jobs, users);
  const children = Array.from({ length: claimers }, (_, i) => startClaimer(url, `bench-${i + 1}`));
  await Promise.all(children.map((c) => c.next())); // ready
  const started = performance.now();
  const done = children.map((c) => c.next());
  for (const c of children) c.child.stdin!.write("go\n");
  const counts = (await Promise.all(done)).map((line) => (JSON.parse(line) as { claimed: number }).claimed);
  const seconds = (performance.now() - started) / 1000;
  const unclaimed = await opened.db.selectFrom("jobs").select("id").where("status", "<>", "done").execute();
  await opened.close();
  if (unclaimed.length > 0) throw new Error(`${unclaimed.length} jobs were never claimed`);
  if (counts.reduce((a, b) => a + b, 0) !== jobs) throw new Error(`claimed ${counts} of ${jobs}`);
  return {
    claimers,
    jobs,
    per_claimer: counts,
    seconds: round(seconds),
    jobs_per_s: Math.round(jobs / seconds),
  };
}

async function sqliteRate(jobs: number, users: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "medusa-bench-claim-"));
  let opened: OpenedStore | undefined;
  try {
    opened = await openStoreAndMigrate({ file: path.join(dir, "medusa.db") });
    await fill(opened.db, jobs, users);
    const started = performance.now();
    const n = await drain(opened.db, "bench-1");
    const seconds = (performance.now() - started) / 1000;
    if (n !== jobs) throw new Error(`claimed ${n} of ${jobs}`);
    return { claimers: 1, jobs, seconds: round(seconds), jobs_per_s: Math.round(jobs / seconds) };
  } finally {
    await opened?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "3000" },
    users: { type: "string", default: "20" },
    claimers: { type: "string", default: "3" },
    url: { type: "string" },
    claimer: { type: "string" },
  },
  strict: true,
});

if (values.claimer) {
  await claimer(values.url ?? "", values.claimer);
} else {
  const jobs = Number(values.jobs);
  const users = Number(values.users);
  const claimers = Number(values.claimers);
  const sqlite = await sqliteRate(jobs, users);
  let postgres: Awaited<ReturnType<typeof postgresRate>> | null = null;
  if (values.url) postgres = await postgresRate(values.url, jobs, users, claimers);
  else if (!postgresMissing()) {
    const cluster = await postgresCluster();
    postgres = await postgresRate(await cluster.createDatabase(), jobs, users, claimers);
  }
  console.log(JSON.stringify({ bench: "claim", pipeline: "empty (claim + complete)", postgres, sqlite }));
  process.exit(0); // the throwaway cluster is stopped and removed by its exit hook
}
