import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { Migrator } from "kysely";
import { openDatabase } from "../../src/db/database.js";
import {
  claimJob,
  enqueueJobs,
  heartbeat,
  releaseJob,
  requestCancel,
  setPaused,
} from "../../src/db/job-queue.js";
import { getJob } from "../../src/db/jobs.js";
import * as m0001 from "../../src/db/migrations/0001_initial.js";
import * as m0002 from "../../src/db/migrations/0002_updates.js";
import * as m0003 from "../../src/db/migrations/0003_job_queue.js";
import * as m0006 from "../../src/db/migrations/0006_pause.js";
import { queueOverview } from "../../src/db/queue-overview.js";
import { touchUser } from "../../src/db/users.js";
import { tempDir } from "../support/temp-dir.js";
import { testDatabase } from "./support.js";

const NO_CAPS = { perUserQueued: Number.POSITIVE_INFINITY, totalQueued: Number.POSITIVE_INFINITY };
const LEASE_MS = 30_000;

async function queue(t: Parameters<typeof testDatabase>[0], count: number) {
  const { db } = await testDatabase(t);
  await touchUser(db, { id: 1 });
  const jobs = await db.transaction().execute((trx) =>
    enqueueJobs(
      trx,
      Array.from({ length: count }, (_, n) => ({
        user_id: 1,
        request_chat_id: 1,
        destination_chat_id: 1,
        source_url: `https://example.com/${n}`,
      })),
      NO_CAPS,
    ),
  );
  return { db, jobs };
}

describe("pausing a job", () => {
  it("is not claimed while paused, and goes first again once resumed (it kept its place)", async (t) => {
    const { db, jobs } = await queue(t, 3);
    const [first, second, third] = jobs;
    assert.equal((await setPaused(db, first!.id, true))?.paused, 1);
    const claimed = await claimJob(db, { workerId: "w", leaseMs: LEASE_MS });
    assert.equal(claimed?.id, second!.id, "the paused job is skipped");
    await releaseJob(db, second!.id, "w");
    assert.equal((await setPaused(db, first!.id, false))?.paused, 0);
    assert.equal(
      (await claimJob(db, { workerId: "w", leaseMs: LEASE_MS }))?.id,
      first!.id,
      "back in its place",
    );
    assert.equal((await claimJob(db, { workerId: "w", leaseMs: LEASE_MS }))?.id, second!.id);
    assert.equal((await claimJob(db, { workerId: "w", leaseMs: LEASE_MS }))?.id, third!.id);
  });

  it("tells the running worker on its heartbeat, and keeps the job's columns when it releases it", async (t) => {
    const { db, jobs } = await queue(t, 1);
    const job = await claimJob(db, { workerId: "w", leaseMs: LEASE_MS });
    assert.equal(job?.id, jobs[0]!.id);
    await db
      .updateTable("jobs")
      .set({ status: "processing", download_path: "/work/job-1/file.mp4", checkpoint: '{"parts":[]}' })
      .where("id", "=", job!.id)
      .execute();
    await setPaused(db, job!.id, true);
    assert.deepEqual(await heartbeat(db, job!.id, "w", LEASE_MS), {
      alive: true,
      cancelRequested: false,
      pauseRequested: true,
    });
    await releaseJob(db, job!.id, "w");
    const paused = await getJob(db, job!.id);
    assert.equal(paused?.status, "processing");
    assert.equal(paused?.download_path, "/work/job-1/file.mp4");
    assert.equal(paused?.checkpoint, '{"parts":[]}');
    assert.equal(paused?.attempts, 0, "the attempt was given back");
    assert.equal(await claimJob(db, { workerId: "w", leaseMs: LEASE_MS }), undefined);
  });

  it("has no place in the queue while paused; the others move up", async (t) => {
    const { db, jobs } = await queue(t, 3);
    await setPaused(db, jobs[0]!.id, true);
    const overview = await queueOverview(db, { chatId: 1 });
    const byId = new Map(overview.jobs.map((e) => [e.id, e]));
    assert.equal(byId.get(jobs[0]!.id)?.position, null);
    assert.equal(byId.get(jobs[0]!.id)?.paused, true);
    assert.equal(byId.get(jobs[1]!.id)?.position, 1);
    assert.equal(byId.get(jobs[2]!.id)?.position, 2);
    assert.equal(overview.waiting, 2);
  });

  it("changes nothing for a finished job, a job with a cancel pending, or twice", async (t) => {
    const { db, jobs } = await queue(t, 3);
    const [done, cancelling, plain] = jobs;
    await requestCancel(db, done!.id);
    assert.equal(await setPaused(db, done!.id, true), undefined, "finished");
    await claimJob(db, { workerId: "w", leaseMs: LEASE_MS, ids: [cancelling!.id] });
    await requestCancel(db, cancelling!.id);
    assert.equal(await setPaused(db, cancelling!.id, true), undefined, "being cancelled");
    assert.ok(await setPaused(db, plain!.id, true));
    assert.equal(await setPaused(db, plain!.id, true), undefined, "already paused");
    assert.equal((await requestCancel(db, plain!.id)).cancelled.length, 1, "a paused job can be cancelled");
    assert.equal(await setPaused(db, plain!.id, false), undefined, "nor resumed once finished");
  });

  it("migration 0006 adds the flag (0 for existing jobs), shows paused jobs in v_queue, and undoes cleanly", async (t) => {
    const opened = openDatabase(path.join(tempDir(t), "medusa.db"));
    t.after(() => opened.close());
    const migrations = { "0001_initial": m0001, "0002_updates": m0002, "0003_job_queue": m0003 };
    const before = new Migrator({ db: opened.db, provider: { getMigrations: async () => migrations } });
    assert.equal((await before.migrateToLatest()).error, undefined);
    opened.sqlite.prepare("INSERT INTO users (id) VALUES (1)").run();
    opened.sqlite
      .prepare(
        "INSERT INTO jobs (user_id, request_chat_id, destination_chat_id, source_url) VALUES (1, 1, 1, 'u')",
      )
      .run();
    const after = new Migrator({
      db: opened.db,
      provider: { getMigrations: async () => ({ ...migrations, "0006_pause": m0006 }) },
    });
    assert.equal((await after.migrateToLatest()).error, undefined);
    assert.deepEqual(opened.sqlite.prepare("SELECT paused FROM jobs").get(), { paused: 0 });
    assert.throws(() => opened.sqlite.prepare("UPDATE jobs SET paused = 2").run(), /CHECK constraint failed/);
    opened.sqlite.prepare("UPDATE jobs SET paused = 1").run();
    assert.deepEqual(opened.sqlite.prepare("SELECT state FROM v_queue").get(), { state: "paused" });
    assert.equal((await after.migrateDown()).error, undefined);
    const columns = opened.sqlite.prepare("SELECT name FROM pragma_table_info('jobs')").all() as {
      name: string;
    }[];
    assert.ok(!columns.some((c) => c.name === "paused"));
    assert.deepEqual(opened.sqlite.prepare("SELECT state FROM v_queue").get(), { state: "waiting" });
  });
});
