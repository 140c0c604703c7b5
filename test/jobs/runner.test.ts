/**
 * The worker loop on a real SQLite file. Steps are the test's own (the lifecycle is what is under test here):
 * each records what it was asked to do and can be held, failed or cancelled on cue.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it, type TestContext } from "node:test";
import { type OpenedDatabase, openAndMigrate, openDatabase } from "../../src/db/database.js";
import { enqueueJobs, requestCancel } from "../../src/db/job-queue.js";
import { getJob } from "../../src/db/jobs.js";
import type { Job, JobStatus } from "../../src/db/schema.js";
import { touchUser } from "../../src/db/users.js";
import { DownloadError } from "../../src/errors.js";
import { createRunner, type JobSteps, type Runner, type RunnerEvent } from "../../src/jobs/runner.js";
import { createLogger } from "../../src/logger.js";
import { tempDir } from "../support/temp-dir.js";
import { claimWatch } from "./support/claim-watch.js";

const log = createLogger({ level: "silent" });
const LIMITS = { perUserQueued: 1000, totalQueued: 1000 };
/** Every wait here is on an event; this only bounds a wedged run. */
const WAIT_MS = 20_000;

async function setup(t: TestContext) {
  const file = path.join(tempDir(t), "medusa.db");
  const database: OpenedDatabase = await openAndMigrate(file);
  t.after(() => database.close());
  await touchUser(database.db, { id: 1 });
  await touchUser(database.db, { id: 2 });
  const events: RunnerEvent[] = [];
  const runners: Runner[] = [];
  t.after(async () => {
    for (const r of runners) await r.stop();
  });
  const waiters = new Set<() => void>();
  const start = async (steps: JobSteps, extra: Partial<Parameters<typeof createRunner>[0]> = {}) => {
    const runner = createRunner({
      db: database.db,
      steps,
      log,
      pollMs: 50,
      leaseMs: 2000,
      retry: { maxAttempts: 3, baseMs: 20, maxMs: 100 },
      onEvent: (event) => {
        events.push(event);
        for (const wake of waiters) wake();
      },
      ...extra,
    });
    runners.push(runner);
    await runner.start();
    return runner;
  };
  const enqueue = async (userId: number, count = 1) =>
    database.db.transaction().execute((trx) =>
      enqueueJobs(
        trx,
        Array.from({ length: count }, (_, i) => ({
          user_id: userId,
          request_chat_id: userId,
          destination_chat_id: userId,
          source_url: `https://example.com/${userId}/${i}.mp4`,
        })),
        LIMITS,
      ),
    );
  const waitFor = (check: (events: RunnerEvent[]) => boolean, what: string) =>
    new Promise<void>((resolve, reject) => {
      const test = () => {
        if (!check(events)) return;
        clearTimeout(timer);
        waiters.delete(test);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(test);
        reject(new Error(`timed out waiting for ${what}; events: ${events.map((e) => e.type).join(",")}`));
      }, WAIT_MS);
      waiters.add(test);
      test();
    });
  const status = async (id: number): Promise<JobStatus | undefined> =>
    (await getJob(database.db, id))?.status;
  return { db: database.db, file, events, start, enqueue, waitFor, status };
}

/** A gate a step waits on until the test opens it, or until the step's signal aborts. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    open,
    wait: (signal: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        void opened.then(resolve);
      }),
  };
}

const count = (events: RunnerEvent[], type: RunnerEvent["type"]) =>
  events.filter((e) => e.type === type).length;

describe("job runner", () => {
  it("fetches, then delivers, and completes the job with what each step returned", async (t) => {
    const w = await setup(t);
    const calls: string[] = [];
    await w.start({
      fetch: async (job) => {
        calls.push(`fetch ${job.id} ${job.status}`);
        return { download_path: "/work/a.mp4", bytes_total: 10 };
      },
      deliver: async (job) => {
        calls.push(`deliver ${job.id} ${job.status} ${job.download_path}`);
        return { bytes_done: 10, upload_ms: 5 };
      },
    });
    const [job] = await w.enqueue(1);
    await w.waitFor((e) => count(e, "done") === 1, "done");
    assert.deepEqual(calls, [`fetch ${job?.id} queued`, `deliver ${job?.id} processing /work/a.mp4`]);
    const done = await getJob(w.db, job?.id ?? 0);
    assert.equal(done?.status, "done");
    assert.equal(done?.locked_by, null, "no lease left");
    assert.equal(done?.attempts, 1, "one attempt for one pass through both lanes");
  });

  it("schedules a retry for a transient failure and resumes at the step it reached", async (t) => {
    const w = await setup(t);
    let fetches = 0;
    let delivers = 0;
    await w.start({
      fetch: async () => {
        fetches++;
        return { download_path: "/work/a.mp4" };
      },
      deliver: async () => {
        if (++delivers === 1) throw new DownloadError("HTTP_503", "busy");
        return {};
      },
    });
    const [job] = await w.enqueue(1);
    await w.waitFor((e) => count(e, "done") === 1, "done after a retry");
    assert.equal(count(w.events, "retry"), 1);
    assert.equal(fetches, 1, "the file was not fetched again");
    assert.equal(delivers, 2);
    assert.equal(await w.status(job?.id ?? 0), "done");
  });

  it("fails for good on what another try cannot fix, keeping the reason for the user", async (t) => {
    const w = await setup(t);
    await w.start({
      fetch: async () => {
        throw new DownloadError("URL_PRIVATE_ADDRESS", "refused", { userMessage: "Private address." });
      },
      deliver: async () => ({}),
    });
    const [job] = await w.enqueue(1);
    await w.waitFor((e) => count(e, "failed") === 1, "failed");
    const failed = await getJob(w.db, job?.id ?? 0);
    assert.equal(failed?.status, "failed");
    assert.equal(failed?.error_code, "URL_PRIVATE_ADDRESS");
    assert.equal(failed?.error_message, "Private address.");
    assert.equal(count(w.events, "retry"), 0);
  });

  it("stops a running step when the user cancels, and records the job as cancelled", async (t) => {
    const w = await setup(t);
    const hold = gate();
    let aborted: unknown;
    await w.start(
      {
        fetch: async (_job, ctx) => {
          await hold.wait(ctx.signal).catch((error: unknown) => {
            aborted = error;
            throw error;
          });
          return {};
        },
        deliver: async () => ({}),
      },
      { heartbeatMs: 50 },
    );
    const [job] = await w.enqueue(1);
    await w.waitFor((e) => count(e, "claimed") === 1, "claimed");
    await requestCancel(w.db, job?.id ?? 0);
    await w.waitFor((e) => count(e, "cancelled") === 1, "cancelled");
    assert.equal((aborted as Error).name, "CancelledError");
    assert.equal(await w.status(job?.id ?? 0), "cancelled");
  });

  it("downloads the next job while the current one uploads (separate lanes)", async (t) => {
    const w = await setup(t);
    const upload = gate();
    const order: string[] = [];
    await w.start(
      {
        fetch: async (job) => {
          order.push(`fetch ${job.source_url.split("/").at(-1)}`);
          return {};
        },
        deliver: async (job, ctx) => {
          order.push(`deliver ${job.source_url.split("/").at(-1)}`);
          await upload.wait(ctx.signal);
          return {};
        },
      },
      { fetchConcurrency: 1, deliverConcurrency: 1 },
    );
    await w.enqueue(1, 2);
    await w.waitFor((e) => count(e, "fetched") === 2, "both fetched while the first delivers");
    assert.deepEqual(order, ["fetch 0.mp4", "deliver 0.mp4", "fetch 1.mp4"]);
    upload.open();
    await w.waitFor((e) => count(e, "done") === 2, "both done");
  });

  it("gives a user's single link a turn before another user's long batch", async (t) => {
    const w = await setup(t);
    const finished: number[] = [];
    await w.start(
      {
        fetch: async () => ({}),
        deliver: async (job) => {
          finished.push(job.user_id);
          return {};
        },
      },
      { fetchConcurrency: 1, deliverConcurrency: 1 },
    );
    await w.enqueue(1, 30);
    await w.enqueue(2, 1);
    await w.waitFor((e) => count(e, "done") === 31, "all done");
    const single = finished.indexOf(2);
    assert.ok(single >= 0 && single <= 3, `user 2's job finished at position ${single + 1} of 31`);
  });

  it("on stop gives leases back without spending an attempt, and a new runner carries on", async (t) => {
    const w = await setup(t);
    const hold = gate();
    const first = await w.start({
      fetch: async () => ({ download_path: "/work/x" }),
      deliver: async (_job, ctx) => {
        await hold.wait(ctx.signal);
        return {};
      },
    });
    const [job] = await w.enqueue(1);
    await w.waitFor((e) => e.filter((x) => x.type === "claimed").length === 2, "claimed by the deliver lane");
    await first.stop();
    const released = (await getJob(w.db, job?.id ?? 0)) as Job;
    assert.equal(released.status, "processing", "the fetched file is kept");
    assert.equal(released.locked_by, null);
    assert.equal(released.attempts, 0, "a shutdown costs no attempt");
    let fetchedAgain = false;
    await w.start({
      fetch: async () => {
        fetchedAgain = true;
        return {};
      },
      deliver: async () => ({}),
    });
    await w.waitFor((e) => count(e, "done") === 1, "done by the second runner");
    assert.equal(fetchedAgain, false);
  });
  it("stops within its grace period even when a step ignores its signal, leaving no heartbeat or timer behind", async (t) => {
    const w = await setup(t);
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    const stuck = gate();
    t.after(() => stuck.open());
    const runner = await w.start(
      {
        fetch: async () => ({ download_path: "/work/x" }),
        deliver: async () => {
          await new Promise<void>((resolve) => stuck.wait(new AbortController().signal).then(resolve));
          return {};
        },
      },
      { heartbeatMs: 50, stopGraceMs: 300 },
    );
    const [job] = await w.enqueue(1);
    await w.waitFor((e) => e.filter((x) => x.type === "claimed").length === 2, "claimed by the deliver lane");
    const started = performance.now();
    await runner.stop();
    const took = performance.now() - started;
    assert.ok(took >= 250 && took < 2000, `stop took ${Math.round(took)} ms`);
    const lease = (await getJob(w.db, job?.id ?? 0))?.locked_until;
    assert.ok(lease, "the stuck job keeps its lease until it expires");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await getJob(w.db, job?.id ?? 0))?.locked_until, lease, "no heartbeat after stop");
    assert.equal(timers(), before, "no timer of the runner left (the process can exit)");
  });

  it("a wake that comes while a lane is claiming is not lost: the lane looks again, not on its next poll", async (t) => {
    const w = await setup(t);
    // Another process's connection: the job appears, and the wake comes, after the claim looked and before it ended.
    const other = openDatabase(w.file);
    t.after(() => other.close());
    let started: Promise<Runner> | undefined;
    const claims = claimWatch({
      // The first claim is the fetch lane's (it starts first), the only lane that takes a queued job.
      async onEnding(n) {
        if (n !== 1) return;
        await other.db.transaction().execute((trx) =>
          enqueueJobs(
            trx,
            [
              {
                user_id: 1,
                request_chat_id: 1,
                destination_chat_id: 1,
                source_url: "https://example.com/a",
              },
            ],
            LIMITS,
          ),
        );
        (await started)?.wake();
      },
    });
    started = w.start(
      { fetch: async () => ({}), deliver: async () => ({}) },
      { db: w.db.withPlugin(claims.plugin), pollMs: 60_000 },
    );
    await started;
    await w.waitFor((e) => count(e, "claimed") === 1, "the job claimed long before the next poll");
  });

  it("stops at once right after start, without waiting for a poll", async (t) => {
    const w = await setup(t);
    const runner = await w.start({ fetch: async () => ({}), deliver: async () => ({}) }, { pollMs: 5000 });
    const started = performance.now();
    await runner.stop();
    assert.ok(performance.now() - started < 1000, `stop took ${Math.round(performance.now() - started)} ms`);
  });
});
