/**
 * The runner and the real steps in this process, on the local Telegram server and a web site: Alice's jobs reach
 * her chat and a log channel. Options change what the steps are given (a small file limit, a crash point, a
 * Premium user account) so that tests exercise splitting and routing with files of a few MiB.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { enqueueJobs } from "../../../src/db/job-queue.js";
import { touchUser } from "../../../src/db/users.js";
import type { RetryPolicy } from "../../../src/jobs/retry.js";
import { createRunner, type RunnerEvent } from "../../../src/jobs/runner.js";
import { createJobSteps, type StepDeps } from "../../../src/jobs/steps.js";
import { createLogger } from "../../../src/logger.js";
import { FFMPEG, FFPROBE, serveDirectory, YTDLP } from "../../support/media-fixtures.js";
import { startGatewayWorld } from "../../telegram/support/gateway-world.js";

const log = createLogger({ level: "silent" });
const WAIT_MS = 120_000;

export interface PipelineOptions {
  fileLimit?: number;
  crashPoint?: (name: string) => void;
  retry?: RetryPolicy;
  /** More for the steps, given the world and the log channel (a user account). */
  steps?: (
    world: Awaited<ReturnType<typeof startGatewayWorld>>,
    logChannel: { id: number; peerId: string },
  ) => Promise<Partial<StepDeps>>;
  /** Sees every runner event too (what main.ts feeds the owner's watch). */
  onEvent?: (event: RunnerEvent) => void;
  /** Before the runner starts (make users and chats the steps need). */
  before?: (world: Awaited<ReturnType<typeof startGatewayWorld>>) => Promise<void>;
}

export async function pipelineWorld(t: TestContext, options: PipelineOptions = {}) {
  const world = await startGatewayWorld(t, { control: false });
  const chat = { user: world.alice.id, peer: world.bot.id };
  const gateway = await world.open();
  world.srv.server.sendText(world.alice.id, chat, "/start"); // the bot learns Alice's access hash
  await world.waitForReceived(1);
  await options.before?.(world);
  const channel = world.srv.server.createChat({
    kind: "channel",
    title: "Log",
    username: "medusa_log",
    creatorId: world.alice.id,
    admins: [world.bot.id],
  });
  const logChat = await gateway.resolveChat("@medusa_log");
  const files = join(world.dir, "site");
  await mkdir(files);
  const site = await serveDirectory(files);
  t.after(() => site.close());
  const db = world.database.db;
  await touchUser(db, { id: world.alice.id });
  const events: RunnerEvent[] = [];
  const waiters = new Set<() => void>();
  const extra = (await options.steps?.(world, channel)) ?? {};
  const runner = createRunner({
    db,
    log,
    pollMs: 50,
    ...(options.retry ? { retry: options.retry } : {}),
    steps: createJobSteps({
      db,
      gateway,
      workRoot: join(world.dir, "work"),
      source: {
        maxSize: 1e9,
        minFreeDisk: 0,
        connectTimeoutMs: 5000,
        idleTimeoutMs: 5000,
        guard: { allowPrivateNetworks: true },
        ytdlpPath: YTDLP,
        timeoutMs: 60_000,
        ffmpegPath: FFMPEG,
      },
      media: { ffmpegPath: FFMPEG, ffprobePath: FFPROBE, toolTimeoutMs: 60_000 },
      logChats: async () => [logChat.id],
      ...(options.fileLimit ? { fileLimit: options.fileLimit } : {}),
      ...(options.crashPoint ? { crashPoint: options.crashPoint } : {}),
      ...extra,
    }),
    onEvent: (event) => {
      events.push(event);
      options.onEvent?.(event);
      for (const wake of waiters) wake();
    },
  });
  await runner.start();
  t.after(() => runner.stop());
  const enqueue = (urls: string[], destination = world.alice.id) =>
    db.transaction().execute((trx) =>
      enqueueJobs(
        trx,
        urls.map((source_url) => ({
          user_id: world.alice.id,
          request_chat_id: world.alice.id,
          destination_chat_id: destination,
          source_url,
        })),
        { perUserQueued: 100, totalQueued: 100 },
      ),
    );
  const waitDone = (n: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        const settled = events.filter((e) => e.type === "done" || e.type === "failed").length;
        if (settled < n) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(
        () => reject(new Error(`jobs not settled: ${events.map((e) => e.type)}`)),
        WAIT_MS,
      );
      waiters.add(check);
      check();
    });
  const inChat = () => world.srv.server.messages(chat).filter((m) => m.media);
  const inLog = () => world.srv.server.messages({ chat: channel.id }).filter((m) => m.media);
  return {
    world,
    gateway,
    chat,
    channel,
    logChat,
    files,
    site,
    db,
    events,
    enqueue,
    waitDone,
    runner,
    inChat,
    inLog,
  };
}
