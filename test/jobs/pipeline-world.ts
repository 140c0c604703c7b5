/**
 * The job pipeline through real pieces, in-process: a site on 127.0.0.1 (trusted by the URL guard; every other
 * private address stays refused), ffmpeg and yt-dlp, the runner with its steps, the batch finisher, the gateway and
 * the local Telegram server with log channels the bot administers. The shape of pipeline.test.ts's set-up, with
 * options for the batch and dedupe tests.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { batchSummaryTexts } from "../../src/bot/summary-texts.js";
import { enqueueJobs } from "../../src/db/job-queue.js";
import { touchUser } from "../../src/db/users.js";
import { parseBatch } from "../../src/fetch/batch.js";
import { createBatchFinisher } from "../../src/jobs/batch-finish.js";
import type { JobOptions } from "../../src/jobs/job-options.js";
import { createRunner, type RunnerEvent } from "../../src/jobs/runner.js";
import { createJobSteps } from "../../src/jobs/steps.js";
import { createWorkCleanup } from "../../src/jobs/work-cleanup.js";
import { createLogger } from "../../src/logger.js";
import { FFMPEG, FFPROBE, serveDirectory, YTDLP } from "../support/media-fixtures.js";
import { startGatewayWorld } from "../telegram/support/gateway-world.js";

const log = createLogger({ level: "silent" });
/** Every wait is bounded by this; only a wedged pipeline reaches it. */
export const WAIT_MS = 120_000;

export interface PipelineOptions {
  /** Log channels the bot administers. @default 1 */
  logChannels?: number;
  /** Largest file before splitting. @default the bot's 2000 MiB */
  fileLimit?: number;
  /** Downloads at once. @default 2 */
  fetchConcurrency?: number;
}

export async function pipelineWorld(t: TestContext, options: PipelineOptions = {}) {
  const world = await startGatewayWorld(t);
  const chat = { user: world.alice.id, peer: world.bot.id };
  const gateway = await world.open();
  world.srv.server.sendText(world.alice.id, chat, "/start"); // the bot learns Alice's access hash
  await world.waitForReceived(1);
  const channels = [];
  for (let i = 0; i < (options.logChannels ?? 1); i++) {
    const username = `medusa_log${i}`;
    const channel = world.srv.server.createChat({
      kind: "channel",
      title: `Log ${i}`,
      username,
      creatorId: world.alice.id,
      admins: [world.bot.id],
    });
    channels.push({ ...channel, chatId: (await gateway.resolveChat(`@${username}`)).id });
  }
  const logChats = channels.map((c) => c.chatId);
  const files = join(world.dir, "site");
  await mkdir(files);
  const site = await serveDirectory(files);
  t.after(() => site.close());
  const db = world.database.db;
  await touchUser(db, { id: world.alice.id, firstName: "Alice" });
  const events: RunnerEvent[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const wake of waiters) wake();
  };
  const finisher = createBatchFinisher({
    db,
    gateway,
    logChats: async () => logChats,
    log,
    textsFor: () => batchSummaryTexts("en"),
  });
  const workRoot = join(world.dir, "work");
  const work = createWorkCleanup(db, workRoot, log);
  const runner = createRunner({
    db,
    log,
    pollMs: 50,
    fetchConcurrency: options.fetchConcurrency ?? 2,
    steps: createJobSteps({
      db,
      gateway,
      workRoot,
      source: {
        maxSize: 1e9,
        minFreeDisk: 0,
        connectTimeoutMs: 5000,
        idleTimeoutMs: 5000,
        guard: { allowPrivateNetworks: false, trustedOrigins: [site.origin] },
        ytdlpPath: YTDLP,
        timeoutMs: 60_000,
        ffmpegPath: FFMPEG,
      },
      media: { ffmpegPath: FFMPEG, ffprobePath: FFPROBE, toolTimeoutMs: 60_000 },
      logChats: async () => logChats,
      ...(options.fileLimit ? { fileLimit: options.fileLimit } : {}),
    }),
    onEvent: (event) => {
      events.push(event);
      if (event.type === "done" || event.type === "failed" || event.type === "cancelled") {
        const ended = event.type === "done" ? Promise.resolve() : work.jobEnded(event.job);
        Promise.all([ended, finisher.jobEnded(event.job)]).then(notify, notify);
      }
      notify();
    },
  });
  await runner.start();
  t.after(() => finisher.stop());
  t.after(() => runner.stop());
  const request = (source_url: string, jobOptions: JobOptions = {}) => ({
    user_id: world.alice.id,
    request_chat_id: world.alice.id,
    destination_chat_id: world.alice.id,
    source_url,
    options: JSON.stringify(jobOptions),
  });
  const enqueue = async (urls: string[], jobOptions: JobOptions = {}) => {
    const jobs = await db.transaction().execute((trx) =>
      enqueueJobs(
        trx,
        urls.map((url) => request(url, jobOptions)),
        { perUserQueued: 100, totalQueued: 100 },
      ),
    );
    runner.wake();
    return jobs;
  };
  /** A .txt list as the bot takes it: parsed, its good lines queued as one batch, its bad ones kept as skipped. */
  const enqueueBatch = async (text: string, sourceName: string) => {
    const parsed = parseBatch(text);
    const jobs = await db.transaction().execute((trx) =>
      enqueueJobs(
        trx,
        parsed.entries.map((e) => ({ ...request(e.url), name: e.name ?? null, batch_line: e.line })),
        { perUserQueued: 100, totalQueued: 100 },
        {
          batch: {
            chatId: world.alice.id,
            sourceName,
            skipped: [
              ...parsed.invalid.map((p) => ({ line: p.line, reason: p.message })),
              ...parsed.duplicates.map((d) => ({
                line: d.line,
                reason: `the same link as line ${d.firstLine}`,
              })),
            ],
          },
        },
      ),
    );
    runner.wake();
    return jobs;
  };
  /** Resolves once `check` holds, re-checked on every runner event (bounded). */
  const waitFor = (what: string, check: () => boolean | Promise<boolean>) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(run);
        reject(new Error(`${what}: not within ${WAIT_MS} ms; events ${events.map((e) => e.type)}`));
      }, WAIT_MS);
      let checking = false;
      async function run() {
        if (checking) return;
        checking = true;
        try {
          if (await check()) {
            clearTimeout(timer);
            waiters.delete(run);
            resolve();
          }
        } finally {
          checking = false;
        }
      }
      waiters.add(run);
      void run();
    });
  const settled = () => events.filter((e) => e.type === "done" || e.type === "failed").length;
  const waitSettled = (n: number) => waitFor(`${n} jobs settled`, () => settled() >= n);
  const saved = () => {
    const rpcs = world.srv.server.counters().rpcs;
    return (rpcs["upload.SaveFilePart"] ?? 0) + (rpcs["upload.SaveBigFilePart"] ?? 0);
  };
  return {
    world,
    chat,
    channels,
    logChats,
    files,
    site,
    db,
    gateway,
    events,
    enqueue,
    enqueueBatch,
    waitFor,
    waitSettled,
    saved,
    runner,
    finisher,
    workRoot,
  };
}
