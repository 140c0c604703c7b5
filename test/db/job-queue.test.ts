import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import { Worker } from "node:worker_threads";
import { type Db, openStore } from "../../src/db/database.js";
import {
  advanceJob,
  claimJob,
  completeJob,
  enqueueJobs,
  failJob,
  heartbeat,
  listJobPids,
  releaseJob,
  releaseStaleLeases,
  requestCancel,
  setJobPids,
} from "../../src/db/job-queue.js";
import { getJob, type JobRequest, transitionJob } from "../../src/db/jobs.js";
import { queueOverview } from "../../src/db/queue-overview.js";
import type { Job, JobStatus } from "../../src/db/schema.js";
import { touchUser } from "../../src/db/users.js";
import { type EngineName, engineDatabase, engines } from "./support.js";

const T0 = Date.parse("2030-01-01T00:00:00.000Z");
/** The test clock: `s` seconds after T0. */
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const LEASE_MS = 30_000;
const NO_CAPS = { perUserQueued: Number.POSITIVE_INFINITY, totalQueued: Number.POSITIVE_INFINITY };
const DOWNLOADS: readonly JobStatus[] = ["queued", "downloading"];
const UPLOADS: readonly JobStatus[] = ["processing", "uploading", "sending"];

const request = (userId: number, n: number, extra: Partial<JobRequest> = {}): JobRequest => ({
  user_id: userId,
  request_chat_id: userId,
  destination_chat_id: userId,
  source_url: `https://example.com/${userId}/${n}.mp4`,
  ...extra,
});

async function queueDatabase(t: TestContext, engine: EngineName, users = [1, 2, 3]) {
  const opened = await engineDatabase(t, engine);
  for (const id of users) await touchUser(opened.db, { id });
  return opened;
}

async function enqueue(db: Db, userId: number, count: number, extra: Partial<JobRequest> = {}, now = at(0)) {
  const requests = Array.from({ length: count }, (_, n) => request(userId, n, extra));
  return db.transaction().execute((trx) => enqueueJobs(trx, requests, NO_CAPS, { now }));
}

const claim = (db: Db, workerId: string, now: string, statuses?: readonly JobStatus[]) =>
  claimJob(db, { workerId, leaseMs: LEASE_MS, now, ...(statuses ? { statuses } : {}) });

for (const engine of engines()) {
  describe(engine.name, { skip: engine.skip }, () => {
    describe("claiming", () => {
      it("in batch order, holds a batch's job back until every earlier one has ended; other jobs go ahead", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        const [first, second, third] = await db.transaction().execute((trx) =>
          enqueueJobs(trx, [request(1, 0), request(1, 1), request(1, 2)], NO_CAPS, {
            batch: { chatId: 1, sourceName: "links.txt" },
            now: at(0),
          }),
        );
        const [single] = await enqueue(db, 2, 1);
        for (const job of [second, third, single]) await transitionJob(db, job!.id, "processing");
        const ordered = (now: string) =>
          claimJob(db, { workerId: "d", leaseMs: LEASE_MS, now, statuses: UPLOADS, inBatchOrder: true });
        assert.equal((await ordered(at(1)))?.id, single!.id, "the single link is not held up by the batch");
        assert.equal(await ordered(at(1)), undefined, "line 2 waits for line 1, still downloading");
        assert.equal(
          (await claim(db, "d2", at(1), UPLOADS))?.id,
          second!.id,
          "without the option it would go first",
        );
        await releaseJob(db, second!.id, "d2", { now: at(1) });
        await transitionJob(db, first!.id, "failed");
        assert.equal((await ordered(at(2)))?.id, second!.id, "line 1 ended (failed): line 2 goes");
        assert.equal(await ordered(at(2)), undefined, "line 3 waits for line 2");
      });

      it("takes higher priority first, then the oldest job", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        const [first, second] = await enqueue(db, 1, 2);
        const [urgent] = await enqueue(db, 2, 1, { priority: 10 });
        assert.equal((await claim(db, "w", at(1)))?.id, urgent!.id);
        assert.equal((await claim(db, "w", at(1)))?.id, first!.id);
        assert.equal((await claim(db, "w", at(1)))?.id, second!.id);
        assert.equal(await claim(db, "w", at(1)), undefined, "nothing left to claim");
      });

      it("serves a single link of one user within two claims even behind a 50-line batch of another", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        await db.transaction().execute((trx) =>
          enqueueJobs(
            trx,
            Array.from({ length: 50 }, (_, n) => request(1, n)),
            NO_CAPS,
            { batch: { chatId: 1, sourceName: "links.txt" }, now: at(0) },
          ),
        );
        const [single] = await enqueue(db, 2, 1, {}, at(1));
        // Workers that keep their leases: B has fewer leased jobs than A after the first claim.
        const held = [await claim(db, "w1", at(2)), await claim(db, "w2", at(2))];
        assert.ok(
          held.some((j) => j?.id === single!.id),
          "B's link is among the first two claims",
        );
      });

      it("serves a single link within two claims when one worker runs the jobs one after the other", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        await enqueue(db, 1, 50);
        const [single] = await enqueue(db, 2, 1, {}, at(1));
        const first = await claim(db, "w", at(2));
        await completeJob(db, first!.id, "w", {}, at(3));
        // No leases now: A's last claim is newer than B's (never), so B goes next.
        assert.equal((await claim(db, "w", at(4)))?.id, single!.id);
      });

      it("alternates between two users, by leases held and by last claim", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        await enqueue(db, 1, 4);
        await enqueue(db, 2, 4);
        const held: Job[] = [];
        for (let i = 0; i < 4; i++) held.push((await claim(db, `w${i}`, at(1)))!);
        assert.deepEqual(
          held.map((j) => j.user_id),
          [1, 2, 1, 2],
          "concurrent leases alternate",
        );
        for (const [i, job] of held.entries()) await completeJob(db, job.id, `w${i}`, {}, at(2));
        const users: number[] = [];
        for (let i = 0; i < 4; i++) {
          const job = (await claim(db, "w", at(3 + i)))!;
          users.push(job.user_id);
          await completeJob(db, job.id, "w", {}, at(3 + i));
        }
        assert.deepEqual(users, [1, 2, 1, 2], "one job at a time alternates by last claim");
      });

      it("sets the lease and counts an attempt", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        const [queued] = await enqueue(db, 1, 1);
        assert.equal(queued!.attempts, 0);
        assert.equal(queued!.run_at, at(0));
        const claimed = await claim(db, "w1", at(5));
        assert.equal(claimed?.locked_by, "w1");
        assert.equal(claimed?.locked_until, at(35));
        assert.equal(claimed?.claimed_at, at(5));
        assert.equal(claimed?.started_at, at(5));
        assert.equal(claimed?.attempts, 1);
        assert.equal(claimed?.status, "queued", "the claim does not move the status: the worker does");
        const saved = await advanceJob(db, queued!.id, "w1", "queued", { checkpoint: '{"probe":1}' }, at(6));
        assert.equal(saved.attempts, 1, "saving a patch in the same step resets nothing");
        assert.equal(saved.run_at, at(0));
      });

      it("lets another worker take a job whose lease expired, and the first one loses it", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        const [job] = await enqueue(db, 1, 1);
        await claim(db, "w1", at(0));
        await advanceJob(db, job!.id, "w1", "downloading", {}, at(1));
        assert.equal(await claim(db, "w2", at(29)), undefined, "the lease is live");
        const taken = await claim(db, "w2", at(31));
        assert.equal(taken?.id, job!.id);
        assert.equal(taken?.locked_by, "w2");
        assert.equal(taken?.status, "downloading", "it resumes at the step it reached");
        assert.equal(taken?.attempts, 2, "the abandoned attempt counts");
        assert.deepEqual(await heartbeat(db, job!.id, "w1", LEASE_MS, at(32)), {
          alive: false,
          cancelRequested: false,
          pauseRequested: false,
        });
        await assert.rejects(advanceJob(db, job!.id, "w1", "processing"), {
          name: "StoreError",
          code: "LEASE_LOST",
        });
        await assert.rejects(completeJob(db, job!.id, "w1"), { code: "LEASE_LOST" });
        await assert.rejects(
          failJob(db, job!.id, "w1", { code: "NETWORK", message: "reset", retryAt: at(60) }),
          {
            code: "LEASE_LOST",
          },
        );
        assert.equal((await getJob(db, job!.id))?.locked_by, "w2");
      });

      it("claims only the statuses asked for, so downloads and uploads have their own workers", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        const [job] = await enqueue(db, 1, 1);
        assert.equal(await claim(db, "uploader", at(1), UPLOADS), undefined, "nothing downloaded yet");
        await claim(db, "downloader", at(1), DOWNLOADS);
        await advanceJob(db, job!.id, "downloader", "downloading", {}, at(1));
        await advanceJob(db, job!.id, "downloader", "processing", { download_path: "/w/a.mp4" }, at(2));
        await releaseJob(db, job!.id, "downloader", { now: at(2) }); // hand-over to the upload workers
        assert.equal(await claim(db, "downloader", at(3), DOWNLOADS), undefined);
        const upload = await claim(db, "uploader", at(3), UPLOADS);
        assert.equal(upload?.id, job!.id);
        assert.equal(upload?.attempts, 1, "the hand-over costs no attempt");
        assert.equal(upload?.download_path, "/w/a.mp4");
        await assert.rejects(
          claimJob(db, { workerId: "w", leaseMs: LEASE_MS, statuses: ["done"] }),
          /Expected `statuses` to list unfinished statuses/,
        );
        await assert.rejects(claimJob(db, { workerId: "w", leaseMs: 0 }), /Expected `leaseMs`/);
      });
    });

    describe("leases", () => {
      it("are extended by their owner's heartbeat and by nobody else's", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        const [job] = await enqueue(db, 1, 1);
        await claim(db, "w1", at(0));
        assert.deepEqual(await heartbeat(db, job!.id, "w2", LEASE_MS, at(20)), {
          alive: false,
          cancelRequested: false,
          pauseRequested: false,
        });
        assert.equal(
          (await getJob(db, job!.id))?.locked_until,
          at(30),
          "a stranger's heartbeat changes nothing",
        );
        assert.deepEqual(await heartbeat(db, job!.id, "w1", LEASE_MS, at(20)), {
          alive: true,
          cancelRequested: false,
          pauseRequested: false,
        });
        assert.equal((await getJob(db, job!.id))?.locked_until, at(50));
        assert.equal(await claim(db, "w2", at(40)), undefined, "the extended lease holds");
      });

      it("let only the owner advance, complete or fail a job", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        const [job] = await enqueue(db, 1, 1);
        await claim(db, "w1", at(0));
        await assert.rejects(advanceJob(db, job!.id, "w2", "downloading"), { code: "LEASE_LOST" });
        await assert.rejects(completeJob(db, job!.id, "w2"), { code: "LEASE_LOST" });
        await assert.rejects(releaseJob(db, job!.id, "w2"), { code: "LEASE_LOST" });
        await assert.rejects(advanceJob(db, 999, "w1", "downloading"), { code: "JOB_NOT_FOUND" });

        const downloading = await advanceJob(db, job!.id, "w1", "downloading", { work_dir: "/w" }, at(1));
        assert.equal(downloading.locked_by, "w1", "a step keeps the lease");
        const saved = await advanceJob(
          db,
          job!.id,
          "w1",
          "downloading",
          { checkpoint: '{"parts":3}' },
          at(2),
        );
        assert.equal(saved.checkpoint, '{"parts":3}', "staying in a step saves the checkpoint");
        await assert.rejects(advanceJob(db, job!.id, "w1", "queued"), { code: "JOB_STATE" });
        const done = await completeJob(db, job!.id, "w1", { upload_ms: 900 }, at(3));
        assert.equal(done.status, "done");
        assert.equal(done.finished_at, at(3));
        assert.equal(done.locked_by, null);
        assert.equal(done.locked_until, null);
        assert.equal(done.work_dir, "/w");
        await assert.rejects(
          completeJob(db, job!.id, "w1"),
          { code: "LEASE_LOST" },
          "finishing drops the lease",
        );
      });

      it("are given back on shutdown without counting an attempt", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        const [job] = await enqueue(db, 1, 1);
        await claim(db, "w1", at(0));
        await advanceJob(db, job!.id, "w1", "downloading", {}, at(1));
        const released = await releaseJob(db, job!.id, "w1", { now: at(2) });
        assert.equal(released.attempts, 0);
        assert.equal(released.locked_by, null);
        assert.equal(released.status, "downloading");
        const again = await claim(db, "w2", at(3));
        assert.equal(again?.attempts, 1);
        await releaseJob(db, job!.id, "w2", { runAt: at(100), now: at(4) });
        assert.equal(await claim(db, "w3", at(99)), undefined, "a release may delay the job");
        assert.equal((await claim(db, "w3", at(100)))?.id, job!.id);
      });

      it("left by dead or hung workers are released: expired ones, a given worker's, or all at start", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        const [a, b, c] = await enqueue(db, 1, 3);
        await claim(db, "w1", at(0));
        await claim(db, "w2", at(0));
        await claim(db, "w3", at(20));
        assert.deepEqual(await releaseStaleLeases(db, { now: at(10) }), { released: 0, finished: [] });
        assert.equal((await releaseStaleLeases(db, { workerId: "w1", now: at(10) })).released, 1);
        assert.equal((await getJob(db, a!.id))?.locked_by, null);
        assert.equal((await getJob(db, b!.id))?.locked_by, "w2");
        assert.equal((await releaseStaleLeases(db, { now: at(31) })).released, 1, "w2's lease expired");
        assert.equal((await getJob(db, b!.id))?.locked_by, null);
        assert.equal((await getJob(db, b!.id))?.attempts, 1, "the abandoned attempt counts");
        assert.equal((await getJob(db, c!.id))?.locked_by, "w3");
        assert.equal(
          (await releaseStaleLeases(db, { all: true, now: at(31) })).released,
          1,
          "a restart frees all",
        );
        assert.equal((await getJob(db, c!.id))?.locked_by, null);
      });

      it("left on the last attempt fail the job; left with a cancel pending cancel it", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        const [last] = await enqueue(db, 1, 1, { max_attempts: 1 });
        const [cancelling] = await enqueue(db, 2, 1);
        await claim(db, "w1", at(0));
        await claim(db, "w1", at(0));
        await requestCancel(db, cancelling!.id, at(1));
        const { released, finished } = await releaseStaleLeases(db, { workerId: "w1", now: at(2) });
        assert.equal(released, 2);
        assert.deepEqual(
          finished.map((j) => [j.id, j.status, j.error_code, j.finished_at]),
          [
            [last!.id, "failed", "ABANDONED", at(2)],
            [cancelling!.id, "cancelled", null, at(2)],
          ],
        );
      });
    });

    describe("failures and retries", () => {
      it("schedule a retry at the step reached, not claimable before run_at", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        const [job] = await enqueue(db, 1, 1);
        await claim(db, "w1", at(0));
        await advanceJob(db, job!.id, "w1", "uploading", {}, at(1));
        const failed = await failJob(db, job!.id, "w1", {
          code: "FLOOD_WAIT",
          message: "wait 60 s",
          retryAt: at(61),
          now: at(1),
        });
        assert.equal(failed.status, "uploading");
        assert.equal(failed.run_at, at(61));
        assert.equal(failed.locked_by, null);
        assert.equal(failed.finished_at, null);
        assert.equal(failed.error_code, "FLOOD_WAIT");
        assert.equal(await claim(db, "w2", at(60)), undefined);
        const retried = await claim(db, "w2", at(61));
        assert.equal(retried?.attempts, 2);
        assert.equal(retried?.status, "uploading");
      });

      it("give up when the attempts are used up or no retry is wanted", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        const [job] = await enqueue(db, 1, 1, { max_attempts: 2 });
        await claim(db, "w", at(0));
        await failJob(db, job!.id, "w", { code: "NETWORK", message: "reset", retryAt: at(10), now: at(1) });
        await claim(db, "w", at(10));
        const failed = await failJob(db, job!.id, "w", {
          code: "NETWORK",
          message: "reset",
          retryAt: at(20),
          now: at(11),
        });
        assert.equal(failed.status, "failed");
        assert.equal(failed.finished_at, at(11));
        assert.equal(failed.run_at, at(10), "a job that gave up is not rescheduled");
        assert.equal(await claim(db, "w", at(30)), undefined);

        const [userError] = await enqueue(db, 1, 1);
        await claim(db, "w", at(31));
        const refused = await failJob(db, userError!.id, "w", {
          code: "HTTP_404",
          message: "Not found",
          retryAt: null,
          now: at(32),
        });
        assert.equal(refused.status, "failed");
        assert.equal(refused.attempts, 1);
      });

      it("may be retried by hand with a full set of attempts", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        const [job] = await enqueue(db, 1, 1, { max_attempts: 1 });
        await claim(db, "w", at(0));
        await failJob(db, job!.id, "w", { code: "NETWORK", message: "reset", retryAt: at(5), now: at(1) });
        const requeued = await transitionJob(db, job!.id, "queued");
        assert.equal(requeued.attempts, 0);
        assert.equal(requeued.error_code, null);
        assert.equal((await claimJob(db, { workerId: "w", leaseMs: LEASE_MS }))?.id, job!.id);
      });
    });

    describe("caps", () => {
      it("refuse a whole set that would pass the user's cap, saying how many fit", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        const caps = { perUserQueued: 3, totalQueued: 100 };
        const enqueueCapped = (userId: number, count: number) =>
          db.transaction().execute((trx) =>
            enqueueJobs(
              trx,
              Array.from({ length: count }, (_, n) => request(userId, n)),
              caps,
              { batch: { chatId: userId, sourceName: "links.txt" } },
            ),
          );
        await enqueueCapped(1, 2);
        await assert.rejects(enqueueCapped(1, 2), { name: "StoreError", code: "USER_QUEUE_FULL", fits: 1 });
        assert.equal(
          (await db.selectFrom("jobs").selectAll().execute()).length,
          2,
          "no job of the refused set",
        );
        assert.equal(
          (await db.selectFrom("batches").selectAll().execute()).length,
          1,
          "no batch of the refused set",
        );
        const [last] = await enqueueCapped(1, 1);
        assert.equal(last?.position, 1);
        assert.equal((await enqueueCapped(2, 3)).length, 3, "another user has their own cap");
      });

      it("count unfinished jobs, running or not, and free a place when one finishes", async (t) => {
        const { db } = await queueDatabase(t, engine.name, [1, 2, 3, 4]);
        const caps = { perUserQueued: 2, totalQueued: 3 };
        const one = (userId: number) =>
          db.transaction().execute((trx) => enqueueJobs(trx, [request(userId, 0)], caps));
        const [first] = await one(1);
        await one(1);
        await claim(db, "w", nowIsoish());
        await assert.rejects(one(1), { code: "USER_QUEUE_FULL", fits: 0 });
        await one(2);
        await assert.rejects(one(3), { code: "QUEUE_FULL", fits: 0 });
        await completeJob(db, first!.id, "w");
        assert.equal((await one(3)).length, 1);
        await assert.rejects(
          db.transaction().execute((trx) => enqueueJobs(trx, [request(4, 1), request(4, 2)], caps)),
          { code: "QUEUE_FULL", fits: 0 },
        );
        await assert.rejects(
          db.transaction().execute((trx) => enqueueJobs(trx, [request(2, 1), request(2, 2)], caps)),
          { code: "USER_QUEUE_FULL", fits: 0 },
        );
      });
    });

    /** Real time, for tests whose claims use the default clock. */
    function nowIsoish(): string {
      return new Date().toISOString();
    }

    describe("cancelling", () => {
      it("cancels waiting jobs at once and flags the running one, which its worker then finishes", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        const [running, retrying, waiting] = await enqueue(db, 1, 3);
        const [other] = await enqueue(db, 2, 1);
        await claim(db, "w1", at(0)); // user 1's first job
        await claim(db, "w2", at(0)); // user 2's
        await claim(db, "w3", at(0)); // user 1's second job (users tie: the oldest job), failed with a retry below
        await failJob(db, retrying!.id, "w3", {
          code: "NETWORK",
          message: "reset",
          retryAt: at(60),
          now: at(1),
        });
        await advanceJob(db, running!.id, "w1", "downloading", {}, at(1));

        const outcome = await requestCancel(db, { userId: 1 }, at(2));
        assert.deepEqual(
          outcome.cancelled.map((j) => j.id),
          [retrying!.id, waiting!.id],
        );
        assert.ok(outcome.cancelled.every((j) => j.status === "cancelled" && j.finished_at === at(2)));
        assert.deepEqual(
          outcome.flagged.map((j) => [j.id, j.status, j.locked_by]),
          [[running!.id, "downloading", "w1"]],
        );
        assert.deepEqual(await heartbeat(db, running!.id, "w1", LEASE_MS, at(3)), {
          alive: true,
          cancelRequested: true,
          pauseRequested: false,
        });
        assert.equal((await claim(db, "w4", at(100)))?.id, other!.id, "w2's lease on user 2's job expired");
        assert.equal(
          await claim(db, "w4", at(100)),
          undefined,
          "a flagged job is never claimed, even when expired",
        );
        const stopped = await failJob(db, running!.id, "w1", {
          code: "CANCELLED",
          message: "cancelled by the user",
          retryAt: at(5),
          now: at(4),
        });
        assert.equal(stopped.status, "cancelled", "a cancel wins over a retry");
        assert.equal((await getJob(db, other!.id))?.cancel_requested, 0, "another user's job is untouched");
        assert.deepEqual(await requestCancel(db, { userId: 1 }), { cancelled: [], flagged: [] });
      });

      it("cancels one job or a batch, and a job whose lease expired at once", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        const batch = await db.transaction().execute((trx) =>
          enqueueJobs(trx, [request(1, 0), request(1, 1)], NO_CAPS, {
            batch: { chatId: 1, sourceName: null },
          }),
        );
        const [single, hung] = await enqueue(db, 2, 2);
        assert.deepEqual(
          (await requestCancel(db, { batchId: batch[0]!.batch_id! })).cancelled.map((j) => j.id),
          batch.map((j) => j.id),
        );
        assert.deepEqual(
          (await requestCancel(db, single!.id)).cancelled.map((j) => j.id),
          [single!.id],
        );
        await claim(db, "w1", at(0));
        const outcome = await requestCancel(db, hung!.id, at(40));
        assert.deepEqual(
          outcome.cancelled.map((j) => [j.id, j.locked_by]),
          [[hung!.id, null]],
        );
        assert.deepEqual(await heartbeat(db, hung!.id, "w1", LEASE_MS, at(41)), {
          alive: false,
          cancelRequested: true,
          pauseRequested: false,
        });
        await assert.rejects(advanceJob(db, hung!.id, "w1", "downloading"), { code: "LEASE_LOST" });
      });

      it("finishes a flagged job as cancelled when its worker releases it", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        const [job] = await enqueue(db, 1, 1);
        await claim(db, "w1", at(0));
        await requestCancel(db, job!.id, at(1));
        const released = await releaseJob(db, job!.id, "w1", { now: at(2) });
        assert.equal(released.status, "cancelled");
        assert.equal(released.finished_at, at(2));
      });
    });

    describe("child process groups", () => {
      it("are recorded per job and listed for the start-up cleanup", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        const [a, b] = await enqueue(db, 1, 2);
        await setJobPids(db, a!.id, [4242, 4243]);
        await setJobPids(db, b!.id, [5151]);
        await setJobPids(db, b!.id, []);
        assert.deepEqual(await listJobPids(db), [{ jobId: a!.id, pids: [4242, 4243] }]);
        await assert.rejects(setJobPids(db, a!.id, [0]), /Expected `pids`/);
        await assert.rejects(setJobPids(db, 999, [1]), { code: "JOB_NOT_FOUND" });
      });
    });

    describe("queue overview", () => {
      it("gives each waiting job its place in the claim order, running jobs first", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        const [a1, a2, a3] = await enqueue(db, 1, 3);
        const [b1] = await enqueue(db, 2, 1);
        const [admin] = await enqueue(db, 3, 1, { priority: 5 });
        await db.updateTable("jobs").set({ request_chat_id: -100 }).where("id", "=", admin!.id).execute();
        await claim(db, "w", at(0)); // the admin's job
        await claim(db, "w", at(0)); // a1
        await db
          .updateTable("jobs")
          .set({ bytes_done: 50, bytes_total: 200 })
          .where("id", "=", a1!.id)
          .execute();
        const [retry] = await enqueue(db, 2, 1, { run_at: at(500) });

        const overview = await queueOverview(db, { now: at(1) });
        assert.deepEqual(
          overview.jobs.map((j) => [j.id, j.running, j.position]),
          [
            [a1!.id, true, null],
            [admin!.id, true, null],
            [b1!.id, false, 1],
            [a2!.id, false, 2],
            [a3!.id, false, 3],
            [retry!.id, false, 4],
          ],
        );
        assert.equal(overview.running, 2);
        assert.equal(overview.waiting, 4);
        const mine = await queueOverview(db, { userId: 1, now: at(1) });
        assert.deepEqual(
          mine.jobs.map((j) => [j.id, j.position, j.bytesDone, j.bytesTotal]),
          [
            [a1!.id, null, 50, 200],
            [a2!.id, 2, 0, null],
            [a3!.id, 3, 0, null],
          ],
        );
        assert.equal(mine.running, 2, "the totals are the whole queue's");
        assert.deepEqual(
          (await queueOverview(db, { chatId: -100, now: at(1) })).jobs.map((j) => j.id),
          [admin!.id],
        );
      });

      it("predicts the order successive claims really take", async (t) => {
        const { db } = await queueDatabase(t, engine.name, [1, 2, 3, 4]);
        await enqueue(db, 1, 12);
        await enqueue(db, 2, 3, { priority: 1 });
        await enqueue(db, 3, 5);
        await enqueue(db, 4, 1);
        await claim(db, "w", at(0));
        const done = await claim(db, "w", at(1));
        await completeJob(db, done!.id, "w", {}, at(2));
        const predicted = (await queueOverview(db, { now: at(3) })).jobs
          .filter((j) => j.position !== null)
          .map((j) => j.id);
        const claimed: number[] = [];
        for (let job = await claim(db, "w", at(3)); job; job = await claim(db, "w", at(3)))
          claimed.push(job.id);
        assert.equal(claimed.length, 19);
        assert.deepEqual(predicted, claimed);
      });

      it("averages the speed of recently done jobs for an ETA", async (t) => {
        const { db } = await queueDatabase(t, engine.name);
        assert.deepEqual((await queueOverview(db)).recent, {
          jobs: 0,
          downloadBytesPerSecond: null,
          uploadBytesPerSecond: null,
          averageJobMs: null,
        });
        const [a, b] = await enqueue(db, 1, 2);
        await claim(db, "w", at(0));
        await completeJob(
          db,
          a!.id,
          "w",
          { bytes_total: 10_000_000, download_ms: 1000, upload_ms: 4000 },
          at(10),
        );
        await claim(db, "w", at(10));
        await completeJob(
          db,
          b!.id,
          "w",
          { bytes_total: 30_000_000, download_ms: 3000, upload_ms: 4000 },
          at(30),
        );
        assert.deepEqual((await queueOverview(db)).recent, {
          jobs: 2,
          downloadBytesPerSecond: 10_000_000,
          uploadBytesPerSecond: 5_000_000,
          averageJobMs: 15_000,
        });
      });
    });

    /** A worker thread does not inherit the test's TypeScript loader: it loads the worker module through tsx's API. */
    const CLAIM_WORKER = `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then(({ tsImport }) =>
  tsImport(${JSON.stringify(new URL("./claim-worker.ts", import.meta.url).href)}, ${JSON.stringify(import.meta.url)}))`;

    describe("two connections to one store", () => {
      it("never hand the same job to both when their claims interleave", async (t) => {
        const { db, file, url } = await queueDatabase(t, engine.name);
        const other = openStore({ file: file ?? "", url });
        t.after(() => other.close());
        await enqueue(db, 1, 30);
        await enqueue(db, 2, 30);
        const claimed: number[] = [];
        const loop = async (handle: Db, workerId: string) => {
          for (
            let job = await claim(handle, workerId, at(1));
            job;
            job = await claim(handle, workerId, at(1))
          ) {
            claimed.push(job.id);
            await new Promise((resolve) => setImmediate(resolve));
          }
        };
        await Promise.all([loop(db, "a"), loop(other.db, "b"), loop(db, "c"), loop(other.db, "d")]);
        assert.equal(claimed.length, 60);
        assert.equal(new Set(claimed).size, 60);
        const owners = await db.selectFrom("jobs").select("locked_by").distinct().execute();
        assert.equal(owners.length, 4, "every worker got some");
      });

      it("never hand the same job to two claimers when separate threads claim at the same time", async (t) => {
        const { db, file, url } = await queueDatabase(t, engine.name);
        await enqueue(db, 1, 200);
        await enqueue(db, 2, 200);
        const start = new Int32Array(new SharedArrayBuffer(4));
        const ready: Promise<void>[] = [];
        const run = (workerId: string) =>
          new Promise<number[]>((resolve, reject) => {
            const worker = new Worker(CLAIM_WORKER, {
              eval: true,
              workerData: { file, url, workerId, now: at(1), leaseMs: LEASE_MS, start },
            });
            ready.push(new Promise((opened) => worker.once("message", () => opened())));
            worker.once("error", reject);
            worker.once("exit", () => reject(new Error(`${workerId} exited without an answer`)));
            worker.on("message", (message) => {
              if (Array.isArray(message)) resolve(message as number[]);
            });
          });
        // PostgreSQL is where many workers claim at once: three pools there, in the shape of three worker hosts.
        const names = engine.name === "postgres" ? ["t1", "t2", "t3"] : ["t1", "t2"];
        const runs = names.map(run);
        await Promise.all(ready); // every connection open, every thread waiting
        Atomics.store(start, 0, 1);
        Atomics.notify(start, 0);
        const results = await Promise.all(runs);
        const all = results.flat();
        assert.equal(all.length, 400, "every job claimed");
        assert.equal(new Set(all).size, 400, "none twice");
        const counts = results.map((r) => r.length);
        assert.ok(
          counts.every((n) => n > 0),
          `every thread claimed (${counts.join(" / ")})`,
        );
      });
    });
  });
}
