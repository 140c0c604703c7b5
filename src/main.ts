/**
 * The composition root: config → logger → database → Telegram → jobs → bot → http, handed down explicitly. `stop()` runs once,
 * on SIGINT/SIGTERM or a fatal error, and undoes everything in reverse order.
 */

import { createBot, MAX_LINKS_PER_MESSAGE } from "./bot/bot.js";
import { pickLanguage } from "./bot/i18n/translate.js";
import { createOwnerNotices } from "./bot/owner-notices.js";
import { createStatusBoard } from "./bot/status.js";
import { STATUS_TEXTS } from "./bot/status-texts.js";
import type { Config } from "./config.js";
import { backupDatabase, openAndMigrate } from "./db/database.js";
import { recordEvent } from "./db/events.js";
import { getPeer } from "./db/peers.js";
import { ensureOwner, getUser } from "./db/users.js";
import { ytdlpProbe } from "./fetch/ytdlp/probe.js";
import { startHousekeeping } from "./housekeeping.js";
import { startHttpServer } from "./http/server.js";
import { createBatchFinisher } from "./jobs/batch-finish.js";
import { createLogChats } from "./jobs/log-chats.js";
import { createRunner } from "./jobs/runner.js";
import { createJobSteps, stepSettings } from "./jobs/steps.js";
import { createWorkCleanup } from "./jobs/work-cleanup.js";
import { createCrashPoint } from "./lib/crash-point.js";
import type { Logger } from "./logger.js";
import { createMetrics } from "./metrics.js";
import { openBotGateway } from "./telegram/bot-client.js";
import { installGramjsPatches } from "./telegram/gramjs-patches.js";
import { openConfiguredPremium } from "./telegram/user-session.js";

/** How often the work folders of jobs that ended are swept (they may hold a partial download). */
const WORK_SWEEP_MS = 60 * 60_000;
/** Reading a site link before its quality buttons: seconds normally; past this the link is queued as it is. */
const PROBE_TIMEOUT_MS = 2 * 60_000;

export interface Running {
  stop(reason: string): Promise<void>;
  /** Resolves when stop() has finished. */
  stopped: Promise<void>;
}

export async function startMedusa(config: Config, log: Logger): Promise<Running> {
  const telegram = config.telegram;
  if (!telegram) throw new Error("startMedusa needs the Telegram configuration");
  const cleanups: Array<() => Promise<void>> = [];
  // First, before any client exists: a wrong gramjs version stops here, and every connection (the bot's own
  // included) runs the patched code from its first packet.
  const gramjs = installGramjsPatches();
  log.info({ gramjs }, "gramjs patches installed");

  const database = await openAndMigrate(config.paths.database);
  cleanups.push(() => database.close());
  if (database.applied.length > 0) log.info({ migrations: database.applied }, "database migrated");
  await database.db.transaction().execute((trx) => ensureOwner(trx, Number(telegram.ownerId)));
  await recordEvent(database.db, { category: "system", action: "bot.started" });
  const housekeeping = startHousekeeping({
    database,
    backupsDir: config.paths.backups,
    ...config.maintenance,
    log: log.child({ module: "housekeeping" }),
  });
  cleanups.push(() => housekeeping.stop());

  const crashPoint = createCrashPoint(config.crashAt);
  let ready = false;
  let connected = (): boolean => false;
  const metrics = createMetrics({
    db: database.db,
    ready: () => ready && connected(),
    telegramConnected: () => connected(),
  });
  const gateway = await openBotGateway(telegram, {
    db: database.db,
    log: log.child({ module: "telegram" }),
    crashPoint,
    onFloodWait: (method, seconds) => metrics.onFloodWait(method, seconds),
  });
  connected = () => gateway.connectionState() === "connected";
  cleanups.push(() => gateway.stop());
  log.info({ bot: gateway.me }, "logged in to Telegram");
  const premium = await openConfiguredPremium(telegram, { db: database.db, log });
  if (premium) cleanups.push(() => premium.gateway.stop());

  const logChats = createLogChats(database.db, gateway, config.logChannels, log);
  const ownerId = Number(telegram.ownerId);
  const notices = createOwnerNotices({
    db: database.db,
    gateway,
    ownerId,
    log: log.child({ module: "notices" }),
  });
  // A log channel that refuses a copy is skipped; the owner hears of it once, not with every file.
  const onLogRefused = (chatId: number, code: string) => {
    log.warn({ chatId, code }, "a log channel refused a copy");
    void notices.once(`log-refused:${chatId}:${code}`, "notice.logRefused", { chat: chatId, code });
  };
  // A batch's summary goes out when its last job ends, and at start for any a crash left owed.
  const batches = createBatchFinisher({
    db: database.db,
    gateway,
    logChats,
    log: log.child({ module: "batches" }),
    onLogRefused,
    crashPoint,
  });
  // The folders of jobs that failed or were cancelled, now and whatever a crash left behind.
  const work = createWorkCleanup(database.db, config.paths.work, log.child({ module: "jobs" }));
  const swept = await work.sweep();
  if (swept > 0) log.info({ swept }, "removed the work folders of ended jobs");
  let wakeRunner = () => {};
  // One live status message per chat; its edits never hold a job back.
  const status = createStatusBoard({
    db: database.db,
    gateway,
    log: log.child({ module: "status" }),
    intervalMs: config.status.editIntervalMs,
    canActOnJob: async (userId, job) =>
      userId === job.user_id || userId === ownerId || (await getUser(database.db, userId))?.role === "admin",
    onResumed: () => wakeRunner(),
    // A private chat's id is its user's: their Telegram language picks the words.
    textsFor: async (chatId) =>
      STATUS_TEXTS[pickLanguage((await getPeer(database.db, chatId))?.lang_code ?? undefined)],
  });
  const runner = createRunner({
    db: database.db,
    log: log.child({ module: "jobs" }),
    // Downloads run side by side; one upload at a time already fills the link with its parallel connections.
    fetchConcurrency: config.limits.concurrentJobs,
    deliverConcurrency: 1,
    crashPoint,
    steps: createJobSteps({
      ...stepSettings(config),
      db: database.db,
      gateway,
      logChats,
      ...(premium ? { premium } : {}),
      onLogRefused,
      crashPoint,
    }),
    onEvent: (event) => {
      metrics.onRunnerEvent(event);
      status.onRunnerEvent(event);
      if (event.type === "done" || event.type === "failed" || event.type === "cancelled") {
        if (event.type !== "done") void work.jobEnded(event.job);
        void batches.jobEnded(event.job);
      }
    },
  });
  const bot = createBot({
    db: database.db,
    gateway,
    log: log.child({ module: "bot" }),
    ownerId,
    limits: {
      queuedJobsPerUser: config.limits.queuedJobsPerUser,
      ratePerMinute: config.limits.ratePerMinute,
      linksPerMessage: MAX_LINKS_PER_MESSAGE,
      workers: config.limits.concurrentJobs,
      jobsPerHour: config.limits.jobsPerHour,
      bytesPerDay: config.limits.bytesPerDay,
      batchLines: config.limits.batchLines,
    },
    host: {
      dataDir: config.paths.dataDir,
      minFreeDisk: config.limits.minFreeDisk,
      ffmpegPath: config.media.ffmpegPath,
      ytdlpPath: config.fetch.ytdlpPath,
      logChannels: config.logChannels,
      backup: (destination) => backupDatabase(database, destination),
      startedAt: Date.now(),
    },
    wake: () => runner.wake(),
    prompts: {
      probe: (url, signal) =>
        ytdlpProbe(url, {
          ytdlpPath: config.fetch.ytdlpPath,
          guard: { allowPrivateNetworks: config.fetch.allowPrivateNetworks },
          cookiesFile: config.fetch.ytdlpCookiesFile,
          timeoutMs: PROBE_TIMEOUT_MS,
          signal,
          playlist: true,
        }),
      qualityTimeoutMs: config.fetch.qualityPromptMs,
      maxPlaylistItems: config.fetch.maxPlaylistItems,
      probeTimeoutMs: PROBE_TIMEOUT_MS,
    },
    dataDir: config.paths.dataDir,
    media: config.media,
    status: {
      track: (chatId) => status.track(chatId),
      async handleCallback(ctx) {
        if (ctx.incoming.kind !== "callback") return;
        const { data, from, chatId, messageId, queryId } = ctx.incoming;
        const answer = await status.handleCallback(data, from.id, chatId, messageId);
        await ctx.gateway.answerCallback(queryId, answer);
      },
    },
  });
  wakeRunner = () => runner.wake();
  // Catches up on what arrived while Medusa was down, then takes updates live; a job queued meanwhile waits for
  // the runner below.
  await gateway.start((incoming) => {
    metrics.onUpdate(incoming.kind === "message" ? incoming.date : undefined);
    return bot.handle(incoming);
  });
  try {
    await bot.setMenus();
  } catch (error) {
    log.warn({ err: error }, "the command menus could not be set");
  }

  // Resumes every unfinished job from its last step; stopped before the gateway so sends can finish.
  // The boards stop after the runner (cleanups run in reverse), so they show the jobs' last states.
  cleanups.push(() => status.stop());
  await runner.start();
  cleanups.push(() => runner.stop());
  await status.resumeAll();
  // Link questions (quality buttons, playlists): deadlines that passed while Medusa was down apply now.
  bot.startPrompts();
  cleanups.push(() => bot.stopPrompts());
  void batches.start(); // Telegram may be slow to take the owed summaries: not a reason to wait
  cleanups.push(() => batches.stop());
  // Partial downloads wait in their job's folder for the next attempt; the folders of jobs that ended meanwhile
  // (a cancel while waiting for a retry) go with this sweep.
  const sweeper = setInterval(() => void work.sweep(), WORK_SWEEP_MS);
  sweeper.unref();
  cleanups.push(async () => clearInterval(sweeper));

  if (config.http.port > 0) {
    const server = await startHttpServer(config.http.host, config.http.port, {
      ready: () => ready && connected(),
      metrics: () => metrics.render(),
      metricsContentType: metrics.contentType,
    });
    cleanups.push(() => server.close());
    log.info({ port: server.port }, "health and metrics listening");
  }
  ready = true;
  log.info("medusa is running");

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });
  let stopping: Promise<void> | undefined;
  const stop = (reason: string) => {
    stopping ??= (async () => {
      log.info({ reason }, "stopping");
      ready = false;
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch (error) {
          log.error({ err: error }, "cleanup failed");
        }
      }
      log.info("stopped");
      resolveStopped();
    })();
    return stopping;
  };
  return { stop, stopped };
}
