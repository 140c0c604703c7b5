/**
 * LISTEN/NOTIFY on PostgreSQL: a worker whose lanes sleep for a minute between polls and whose heartbeat is a minute
 * away still claims a job queued by another connection, and stops a job cancelled or paused there, within seconds.
 * And the listening connection comes back after the server kills it.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it, type TestContext } from "node:test";
import { sql } from "kysely";
import { type Db, openPostgres } from "../../src/db/database.js";
import { enqueueJobs, requestCancel, setPaused } from "../../src/db/job-queue.js";
import {
  type JobSignal,
  LISTEN_APPLICATION_NAME,
  listenJobs,
  notifyJobs,
  parseJobSignal,
} from "../../src/db/job-signals.js";
import { getJob } from "../../src/db/jobs.js";
import type { Job } from "../../src/db/schema.js";
import { touchUser } from "../../src/db/users.js";
import { followJobSignals } from "../../src/jobs/job-signals.js";
import { createRunner, type JobSteps, type RunnerEvent } from "../../src/jobs/runner.js";
import { createLogger } from "../../src/logger.js";
import { engineDatabase } from "../db/support.js";
import { postgresMissing } from "../support/postgres.js";
import { claimWatch } from "./support/claim-watch.js";

const pgMissing = postgresMissing();
if (pgMissing) console.error(`# the PostgreSQL tests are skipped: ${pgMissing}`);

const silent = createLogger({ level: "silent" });
const LIMITS = { perUserQueued: 1000, totalQueued: 1000 };
/** Far longer than any test here waits: a runner that reacts in time did not wait for its timer. */
const POLL_MS = 60_000;
const HEARTBEAT_MS = 60_000;
/** What "at once" is allowed to take on a loaded machine, still far below POLL_MS and HEARTBEAT_MS. */
const PROMPT_MS = 5_000;
/** Bounds a wedged wait. */
const WAIT_MS = 20_000;

/** Resolves when `check()` holds, checked whenever `onChange` fires; rejects after `ms`. */
function until(subscribe: Set<() => void>, check: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const test = () => {
      if (!check()) return;
      clearTimeout(timer);
      subscribe.delete(test);
      resolve();
    };
    const timer = setTimeout(() => {
      subscribe.delete(test);
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    subscribe.add(test);
    test();
  });
}

async function world(t: TestContext) {
  // Undone in reverse, before the store closes (after hooks run in the order they were added): a runner stopping
  // gives its jobs back through the store.
  const stops: Array<() => Promise<void>> = [];
  t.after(async () => {
    for (const stop of stops.reverse()) await stop();
  });
  const store = await engineDatabase(t, "postgres");
  const url = store.url as string;
  // The gateway's side: its own pool, as another process would have.
  const other = openPostgres(url);
  stops.push(() => other.close());
  await touchUser(other.db, { id: 1 });
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const wake of [...waiters]) wake();
  };
  const events: RunnerEvent[] = [];
  const claims = claimWatch({ onDone: changed });
  const db: Db = store.db.withPlugin(claims.plugin);
  let listening = 0;
  let woken = 0;

  const start = async (steps: JobSteps) => {
    const runner = createRunner({
      db,
      steps,
      log: silent,
      pollMs: POLL_MS,
      fetchConcurrency: 1,
      deliverConcurrency: 1,
      leaseMs: 4 * HEARTBEAT_MS,
      heartbeatMs: HEARTBEAT_MS,
      singleProcess: false,
      onEvent: (event) => {
        events.push(event);
        changed();
      },
    });
    await runner.start();
    stops.push(() => runner.stop());
    const signals = followJobSignals(
      {
        wake: () => {
          listening++;
          woken = claims.done();
          runner.wake();
          changed();
        },
        check: (id) => runner.check(id),
      },
      url,
      silent,
    );
    stops.push(() => signals.stop());
    // Woken once LISTEN holds; then its lanes look once more and sleep.
    await until(waiters, () => signals.listening() && listening > 0, "LISTEN");
    await lanesAsleep(woken);
    return runner;
  };
  /** Both lanes claimed (and found nothing) since `mark` claims were done, and none claims now. */
  const lanesAsleep = async (mark: number) => {
    for (;;) {
      await until(waiters, () => claims.inFlight() === 0 && claims.done() >= mark + 2, "idle lanes");
      // One turn of the event loop: a lane woken during its claim has asked again by now.
      await new Promise((resolve) => setImmediate(resolve));
      if (claims.inFlight() === 0) return;
    }
  };
  const enqueue = async () => {
    const [job] = await other.db.transaction().execute((trx) =>
      enqueueJobs(
        trx,
        [
          {
            user_id: 1,
            request_chat_id: 1,
            destination_chat_id: 1,
            source_url: "https://example.com/a.mp4",
          },
        ],
        LIMITS,
      ),
    );
    return job as Job;
  };
  /** How long from `action` (what another process does) until the runner's next event of `type`, and its job. */
  const timeTo = async (type: RunnerEvent["type"], action: () => Promise<unknown>, ms = WAIT_MS) => {
    const from = Date.now();
    const seen = events.length;
    await action();
    const next = () => events.slice(seen).find((e) => e.type === type);
    await until(waiters, () => next() !== undefined, type, ms);
    return { ms: Date.now() - from, job: (next() as RunnerEvent).job };
  };
  return { other: other.db, events, start, enqueue, timeTo, lanesAsleep, claimsDone: claims.done, url };
}

/** A fetch step held until its signal aborts (a cancel, a pause), as a download is. */
const heldFetch: JobSteps = {
  fetch: (_job, ctx) =>
    new Promise((_resolve, reject) => {
      if (ctx.signal.aborted) reject(ctx.signal.reason);
      ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
    }),
  deliver: async () => ({}),
};

describe("job signals (PostgreSQL)", { skip: pgMissing ?? false }, () => {
  it("an idle worker claims a job queued by another process at once, not on its next poll", async (t) => {
    const w = await world(t);
    await w.start(heldFetch);
    let queued: Job | undefined;
    const claimed = await w.timeTo(
      "claimed",
      async () => {
        queued = await w.enqueue();
      },
      PROMPT_MS * 2,
    );
    assert.equal(claimed.job.id, queued?.id);
    assert.ok(claimed.ms < PROMPT_MS, `claimed after ${claimed.ms} ms; the lanes poll every ${POLL_MS} ms`);
  });

  it("a worker stops a running job at once when another process cancels it, not on its next heartbeat", async (t) => {
    const w = await world(t);
    await w.start(heldFetch);
    const { job } = await w.timeTo("claimed", w.enqueue);
    let flagged: number[] = [];
    const cancelled = await w.timeTo(
      "cancelled",
      async () => {
        flagged = (await requestCancel(w.other, job.id)).flagged.map((j) => j.id);
      },
      PROMPT_MS * 2,
    );
    assert.deepEqual(flagged, [job.id], "the job is running: its worker is asked to stop");
    assert.equal(cancelled.job.id, job.id);
    assert.ok(
      cancelled.ms < PROMPT_MS,
      `cancelled after ${cancelled.ms} ms; the heartbeat runs every ${HEARTBEAT_MS} ms`,
    );
    assert.equal((await getJob(w.other, job.id))?.status, "cancelled");
  });

  it("a pause stops the running job at once, and a resume has it claimed again at once", async (t) => {
    const w = await world(t);
    await w.start(heldFetch);
    const { job } = await w.timeTo("claimed", w.enqueue);
    const mark = w.claimsDone();
    const paused = await w.timeTo("paused", () => setPaused(w.other, job.id, true), PROMPT_MS * 2);
    assert.equal(paused.job.id, job.id);
    assert.ok(
      paused.ms < PROMPT_MS,
      `paused after ${paused.ms} ms; the heartbeat runs every ${HEARTBEAT_MS} ms`,
    );
    assert.equal((await getJob(w.other, job.id))?.locked_by, null, "released while paused");
    await w.lanesAsleep(mark);
    const resumed = await w.timeTo("claimed", () => setPaused(w.other, job.id, false), PROMPT_MS * 2);
    assert.equal(resumed.job.id, job.id);
    assert.ok(
      resumed.ms < PROMPT_MS,
      `claimed again after ${resumed.ms} ms; the lanes poll every ${POLL_MS} ms`,
    );
  });

  it("the listening connection comes back after the server ends it, and delivers again; junk is ignored", async (t) => {
    const w = await world(t);
    const lines: string[] = [];
    const log = createLogger({
      level: "info",
      destination: new Writable({
        write(chunk, _encoding, done) {
          lines.push(...chunk.toString().split("\n").filter(Boolean));
          done();
        },
      }),
    });
    const waiters = new Set<() => void>();
    const got: JobSignal[] = [];
    let listened = 0;
    const listener = listenJobs(
      w.url,
      (signal) => {
        got.push(signal);
        for (const wake of [...waiters]) wake();
      },
      {
        log,
        onListening: () => {
          listened++;
          for (const wake of [...waiters]) wake();
        },
      },
    );
    t.after(() => listener.stop());
    await until(waiters, () => listened === 1, "LISTEN");
    await notifyJobs(w.other, { kind: "cancel", job: 7 });
    await until(waiters, () => got.length === 1, "the first signal");

    const { rows } = await sql<{
      ended: boolean;
    }>`SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity
      WHERE application_name = ${LISTEN_APPLICATION_NAME} AND datname = current_database()`.execute(w.other);
    assert.deepEqual(
      rows.map((r) => r.ended),
      [true],
      "one listening connection, ended by the server",
    );
    await until(waiters, () => listened === 2, "LISTEN again");
    assert.ok(
      lines.some((l) => l.includes("the job signal connection dropped")),
      "the drop is logged",
    );
    assert.ok(
      lines.some((l) => l.includes("the job signal connection is back")),
      "the return is logged",
    );

    for (const junk of ["not json", '{"kind":"cancel","job":-1}', '{"kind":"explode"}', "[]"]) {
      await sql`SELECT pg_notify('medusa_jobs', ${junk})`.execute(w.other);
    }
    await w.other
      .transaction()
      .execute((trx) => notifyJobs(trx, [{ kind: "queued" }, { kind: "pause", job: 9 }]));
    await until(waiters, () => got.length === 3, "the signals after the reconnect");
    assert.deepEqual(got, [{ kind: "cancel", job: 7 }, { kind: "queued" }, { kind: "pause", job: 9 }]);
  });
});

describe("job signal payloads", () => {
  it("are read only when they are ours", () => {
    assert.deepEqual(parseJobSignal('{"kind":"resume"}'), { kind: "resume" });
    assert.deepEqual(parseJobSignal('{"kind":"cancel","job":12}'), { kind: "cancel", job: 12 });
    for (const junk of [
      undefined,
      "",
      "{",
      "null",
      '{"kind":"cancel"}',
      '{"kind":"pause","job":1.5}',
      "x".repeat(9000),
    ]) {
      assert.equal(parseJobSignal(junk), undefined, String(junk).slice(0, 40));
    }
  });
});
