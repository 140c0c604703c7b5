/**
 * A bounded soak of the job pipeline under faults: 200 small files from three users go through the real runner and
 * steps (in-process), a local web site that cuts responses off mid-body and answers 503 now and then, and the local
 * Telegram server answering FLOOD_WAIT to 5 % of calls and closing the connection on 2 % (half before the call
 * runs, half after it ran with its answer lost). Every job must end done with each file exactly once in its user's
 * chat and once in the log channel, byte-identical, and no work directory left.
 *
 * It found two ways a single lost answer wedged the pipeline (whole-containers.ts, send.ts's bounded sends) and a
 * runner whose stop left timers behind (runner.ts). Run alone:
 *   node --import tsx --test test/jobs/soak.test.ts
 * MEDUSA_SOAK_JOBS=N runs N jobs instead of 200; MEDUSA_SOAK_LOG=file keeps the runner's debug log and the
 * Telegram server's notes (each injected drop) for a post-mortem; MEDUSA_SOAK_SETTLE_MS bounds the wait.
 */
import assert from "node:assert/strict";
import { createCipheriv, createHash } from "node:crypto";
import { appendFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import pino from "pino";
import { listDeliveries } from "../../src/db/deliveries.js";
import { enqueueJobs } from "../../src/db/job-queue.js";
import { getJob } from "../../src/db/jobs.js";
import { savePeers } from "../../src/db/peers.js";
import type { Job } from "../../src/db/schema.js";
import { touchUser } from "../../src/db/users.js";
import { createRunner, type RunnerEvent } from "../../src/jobs/runner.js";
import { createJobSteps } from "../../src/jobs/steps.js";
import { createLogger } from "../../src/logger.js";
import { bufferBody, flakyRoute, newFaultTally, startHttpServer } from "../support/http-server.js";
import { FFMPEG, FFPROBE, YTDLP } from "../support/media-fixtures.js";
import { startGatewayWorld } from "../telegram/support/gateway-world.js";

const JOBS = Number(process.env.MEDUSA_SOAK_JOBS ?? 200);
const LOG_FILE = process.env.MEDUSA_SOAK_LOG;
const MIN_BYTES = 20_000;
const MAX_BYTES = 200_000;
/** Every job settles well before this; only a wedged pipeline reaches it. */
const SETTLE_TIMEOUT_MS = Number(process.env.MEDUSA_SOAK_SETTLE_MS ?? 170_000);
const log = LOG_FILE
  ? createLogger({ level: "debug", destination: pino.destination({ dest: LOG_FILE, sync: true }) })
  : createLogger({ level: "silent" });

/** Deterministic noise (AES-128-CTR keystream keyed by the seed): the same files, and ffprobe verdicts, each run. */
function noise(seed: string, bytes: number): Buffer {
  const key = createHash("sha256").update(`medusa-soak-${seed}`).digest();
  const cipher = createCipheriv("aes-128-ctr", key.subarray(0, 16), key.subarray(16, 32));
  return cipher.update(Buffer.alloc(bytes));
}

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

const sorted = (values: Iterable<string>) => [...values].sort();

describe("soak: the job pipeline under faults", () => {
  it(`delivers ${JOBS} small files exactly once through FLOOD_WAIT, dropped connections and HTTP drops`, {
    timeout: 240_000,
  }, async (t) => {
    const started = Date.now();
    const world = await startGatewayWorld(t, {
      // The server's notes (each injected drop) go to the debug log, not the test's output.
      log: (line) => {
        if (LOG_FILE) appendFileSync(LOG_FILE, `${new Date().toISOString()} [server] ${line}\n`);
      },
    });
    const server = world.srv.server;
    const db = world.database.db;
    const gateway = await world.open();

    // Three users the bot has met, and a log channel it administers: access hashes known, as after /start.
    const others = ["bob", "carol"].map((name) =>
      server.createUser({ username: name, firstName: name[0]?.toUpperCase() + name.slice(1) }),
    );
    const users = [world.alice.id, ...others.map((u) => u.id)];
    const channel = server.createChat({
      kind: "channel",
      title: "Log",
      creatorId: world.alice.id,
      admins: [world.bot.id],
    });
    await savePeers(db, [
      ...others.map((u) => ({
        id: u.id,
        kind: "user" as const,
        access_hash: u.accessHash,
        username: u.username ?? null,
        title: u.firstName ?? null,
      })),
      {
        id: Number(channel.peerId),
        kind: "channel",
        access_hash: channel.accessHash,
        username: null,
        title: "Log",
      },
    ]);
    server.sendText(world.alice.id, { user: world.alice.id, peer: world.bot.id }, "/start");
    await world.waitForReceived(1); // the bot learns Alice's access hash the way it does in production
    for (const id of users) await touchUser(db, { id });

    // The site: one flaky route per file; 5 % of responses cut off mid-body, 3 % answered 503.
    const site = await startHttpServer();
    t.after(() => site.close());
    const tally = newFaultTally();
    const files = Array.from({ length: JOBS }, (_, i) => {
      const size = MIN_BYTES + (noise(`size-${i}`, 4).readUInt32LE(0) % (MAX_BYTES - MIN_BYTES + 1));
      const data = noise(`file-${i}`, size);
      const user = users[i % users.length] as number;
      const path = `/files/${String(i).padStart(3, "0")}.bin`;
      site.route(path, flakyRoute(bufferBody(data), { dropShare: 0.05, errorShare: 0.03 }, tally));
      return { path, user, sha256: sha256(data) };
    });
    assert.equal(new Set(files.map((f) => f.sha256)).size, JOBS, "every file has its own content");

    const workRoot = join(world.dir, "work");
    const events: RunnerEvent[] = [];
    const waiters = new Set<() => void>();
    const runner = createRunner({
      db,
      log,
      pollMs: 100,
      // Production's lanes (fetchConcurrency = MAX_CONCURRENT_JOBS's default, one delivery at a time); short
      // backoffs so that a few rounds of retries fit in the test.
      fetchConcurrency: 2,
      deliverConcurrency: 1,
      retry: { maxAttempts: 10, baseMs: 200, maxMs: 2_000 },
      steps: createJobSteps({
        db,
        gateway,
        workRoot,
        source: {
          maxSize: 1e9,
          minFreeDisk: 0,
          connectTimeoutMs: 5_000,
          idleTimeoutMs: 5_000,
          guard: { allowPrivateNetworks: true },
          ytdlpPath: YTDLP,
          timeoutMs: 60_000,
          ffmpegPath: FFMPEG,
        },
        media: { ffmpegPath: FFMPEG, ffprobePath: FFPROBE, toolTimeoutMs: 60_000 },
        logChats: async () => [Number(channel.peerId)],
      }),
      onEvent: (event) => {
        events.push(event);
        for (const wake of waiters) wake();
      },
    });

    // Faults from here on: the setup above is not what is being soaked.
    server.faults.setFaults({ floodWaitShare: 0.05, floodWaitSeconds: 1, dropCallShare: 0.02 });
    // Each user's jobs enqueued together, Alice's first: a FIFO queue would serve Bob and Carol last.
    const jobs: Job[] = [];
    for (const user of users) {
      const own = files.filter((f) => f.user === user);
      jobs.push(
        ...(await db.transaction().execute((trx) =>
          enqueueJobs(
            trx,
            own.map((f) => ({
              user_id: user,
              request_chat_id: user,
              destination_chat_id: user,
              source_url: `${site.origin}${f.path}`,
            })),
            { perUserQueued: Number.POSITIVE_INFINITY, totalQueued: Number.POSITIVE_INFINITY },
          ),
        )),
      );
    }
    const fileOfJob = new Map(jobs.map((j) => [j.id, files.find((f) => j.source_url.endsWith(f.path))]));
    const runStarted = Date.now();
    await runner.start();

    const settled = () => events.filter((e) => e.type === "done" || e.type === "failed").length;
    try {
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          if (settled() < JOBS) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${settled()} of ${JOBS} jobs settled in ${SETTLE_TIMEOUT_MS} ms`));
        }, SETTLE_TIMEOUT_MS);
        waiters.add(check);
        check();
      }).catch(async (error: unknown) => {
        const rows = await Promise.all(jobs.map((j) => getJob(db, j.id)));
        const show = (r: Job | undefined) =>
          `#${r?.id} ${r?.status} attempts=${r?.attempts} ${r?.error_code ?? ""} updated=${r?.updated_at}`;
        const running = rows.filter((r) => r?.locked_by);
        const waiting = rows.filter((r) => r?.status !== "done" && !r?.locked_by);
        throw new Error(
          `${(error as Error).message}; running: ${running.map(show).join("; ")}; ` +
            `${waiting.length} waiting, e.g. ${waiting.slice(0, 5).map(show).join("; ")}`,
        );
      });
    } finally {
      await runner.stop(); // before the world's teardown closes the database and the server
    }
    const runMs = Date.now() - runStarted;
    server.faults.setFaults({ floodWaitShare: 0, dropCallShare: 0 });

    const retries = events.filter((e): e is Extract<RunnerEvent, { type: "retry" }> => e.type === "retry");
    const retryCodes: Record<string, number> = {};
    for (const r of retries) {
      const code = (r.error as { code?: string }).code ?? "unknown";
      retryCodes[code] = (retryCodes[code] ?? 0) + 1;
    }
    const counters = server.counters();
    const summary = {
      jobs: JOBS,
      users: users.length,
      runMs,
      totalMs: Date.now() - started,
      retries: retries.length,
      retryCodes,
      floodWaits: counters.floodWaits,
      callsDropped: counters.callsDropped,
      telegramConnections: counters.connectionsTotal,
      http: tally,
      rpcs: {
        saveFilePart: counters.rpcs["upload.SaveFilePart"] ?? 0,
        uploadMedia: counters.rpcs["messages.UploadMedia"] ?? 0,
        sendMedia: counters.rpcs["messages.SendMedia"] ?? 0,
      },
      randomIdDuplicates: counters.errors.RANDOM_ID_DUPLICATE ?? 0,
    };
    console.log(`soak: ${JSON.stringify(summary)}`);

    // Every job done.
    const rows = await Promise.all(jobs.map((j) => getJob(db, j.id)));
    const notDone = rows.filter((r) => r?.status !== "done");
    assert.deepEqual(
      notDone.map((r) => `#${r?.id} ${r?.status} ${r?.error_code}: ${r?.error_message}`),
      [],
      "every job done",
    );
    assert.equal(events.filter((e) => e.type === "failed").length, 0, "no job failed");

    // Each user's chat holds exactly their files, once each; the log channel every file once.
    for (const user of users) {
      const inChat = server.messages({ user, peer: world.bot.id }).filter((m) => m.media);
      assert.deepEqual(
        sorted(inChat.map((m) => m.media?.sha256 ?? "none")),
        sorted(files.filter((f) => f.user === user).map((f) => f.sha256)),
        `user ${user}'s chat holds each of their files exactly once`,
      );
    }
    const inLog = server.messages({ chat: channel.id }).filter((m) => m.media);
    assert.deepEqual(
      sorted(inLog.map((m) => m.media?.sha256 ?? "none")),
      sorted(files.map((f) => f.sha256)),
      "the log channel holds each file exactly once",
    );

    // Each job recorded one delivery per target, and the content it delivered is its own.
    for (const job of jobs) {
      const deliveries = await listDeliveries(db, job.id);
      assert.deepEqual(
        deliveries.map((d) => [d.target, d.message_id !== null]).sort(),
        [
          ["destination", true],
          ["log", true],
        ],
        `job ${job.id}: one delivery to the user and one to the log channel`,
      );
      const own = fileOfJob.get(job.id);
      const messageId = deliveries.find((d) => d.target === "destination")?.message_id;
      if (messageId) {
        const message = server
          .messages({ user: job.user_id, peer: world.bot.id })
          .find((m) => m.id === messageId);
        assert.equal(message?.media?.sha256, own?.sha256, `job ${job.id}'s message carries its file`);
      }
    }

    // Nothing left on disk.
    assert.deepEqual(await readdir(workRoot).catch(() => []), [], "no work directories left");

    // The faults were real.
    assert.ok(retries.length > 0, "the runner retried jobs");
    assert.ok(counters.floodWaits > 0, "Telegram answered FLOOD_WAIT");
    assert.ok(counters.callsDropped.before + counters.callsDropped.after > 0, "Telegram dropped connections");
    assert.ok(tally.drops > 0 && tally.errors > 0, "the site cut responses off and answered 503");

    // Fairness: each user's first job was claimed among the first few, though Alice's were all enqueued first.
    const firstClaims = events
      .filter(
        (e): e is Extract<RunnerEvent, { type: "claimed" }> => e.type === "claimed" && e.lane === "fetch",
      )
      .slice(0, users.length * 2)
      .map((e) => e.job.user_id);
    for (const user of users)
      assert.ok(firstClaims.includes(user), `user ${user} served early: ${firstClaims}`);
  });
});
