/**
 * The gateway's part of `medusa start` (roles all and gateway): takes updates, runs the bot (enqueues jobs, answers
 * commands), keeps the live status messages current and sends the batch summaries. It runs no job step: it follows
 * the jobs through their rows (src/jobs/job-watch.ts), so its workers may be this process or others.
 */
import { createBot, MAX_LINKS_PER_MESSAGE } from "../bot/bot.js";
import { userLanguage } from "../bot/language.js";
import { createStatusBoard } from "../bot/status.js";
import { STATUS_TEXTS } from "../bot/status-texts.js";
import { batchSummaryTexts } from "../bot/summary-texts.js";
import { backupDatabase } from "../db/database.js";
import { latestOfActions, recordEvent } from "../db/events.js";
import { unfinishedJobs } from "../db/job-health.js";
import { ensureOwner, getUser } from "../db/users.js";
import { ytdlpProbe } from "../fetch/ytdlp/probe.js";
import { startHousekeeping } from "../housekeeping.js";
import { createBatchFinisher } from "../jobs/batch-finish.js";
import { createJobWatch } from "../jobs/job-watch.js";
import type { Core, RolePart } from "./core.js";

/** Reading a site link before its quality buttons: seconds normally; past this the link is queued as it is. */
const PROBE_TIMEOUT_MS = 2 * 60_000;

export async function openGateway(
  core: Core,
  /** Tells a runner in this process that a job was queued or resumed (role all); workers elsewhere poll. */
  wakeWorkers: () => void,
): Promise<RolePart> {
  const { config, database, gateway, log, metrics, cleanups, ownerId } = core;
  const db = database.db;
  await db.transaction().execute((trx) => ensureOwner(trx, ownerId));
  // A clean stop records bot.stopped last: a start whose newest mark is bot.started follows a crash. The mark lives
  // in the database, not a lock file, so it travels with the jobs it speaks of (a backup, a restore).
  const crashed = (await latestOfActions(db, { actions: ["bot.started", "bot.stopped"] })) === "bot.started";
  // Counted before any update comes in: these are the jobs the last run left, not new ones.
  const leftover = await unfinishedJobs(db);
  const startedAt = new Date().toISOString();
  await recordEvent(db, { category: "system", action: "bot.started", subject: startedAt });
  cleanups.push(() => recordEvent(db, { category: "system", action: "bot.stopped" }).then(() => {}));
  const housekeeping = startHousekeeping({
    database,
    backupsDir: config.paths.backups,
    ...config.maintenance,
    log: log.child({ module: "housekeeping" }),
    watch: () => core.watch.tick(),
  });
  cleanups.push(() => housekeeping.stop());
  // A batch's summary goes out when its last job ends, and at start for any a crash left owed. Only the gateway
  // sends them; the stored random_ids make a second sender (a crash between send and record) harmless.
  const batches = createBatchFinisher({
    db,
    gateway,
    logChats: core.logChats,
    log: log.child({ module: "batches" }),
    textsFor: async (userId) => batchSummaryTexts(await userLanguage(db, userId)),
    onLogRefused: core.onLogRefused,
    crashPoint: core.crashPoint,
  });
  // One live status message per chat; its edits never hold a job back.
  const status = createStatusBoard({
    db,
    gateway,
    log: log.child({ module: "status" }),
    intervalMs: config.status.editIntervalMs,
    canActOnJob: async (userId, job) =>
      userId === job.user_id || userId === ownerId || (await getUser(db, userId))?.role === "admin",
    onResumed: wakeWorkers,
    textsFor: async (chatId) => STATUS_TEXTS[await userLanguage(db, chatId)],
  });
  const watch = createJobWatch({
    db,
    log: log.child({ module: "status" }),
    intervalMs: config.status.pollMs,
    onChanges: (changes) => {
      status.onJobChanges(changes);
      for (const change of changes) if (change.finished) void batches.jobEnded({ batch_id: change.batchId });
    },
  });
  const bot = createBot({
    db,
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
      backup: database.engine === "sqlite" ? (destination) => backupDatabase(database, destination) : null,
      startedAt: Date.now(),
    },
    wake: wakeWorkers,
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
  return {
    async start() {
      // The marks are read before updates come in, so the first jobs the bot queues are seen as changes.
      await watch.start();
      // Catches up on what arrived while Medusa was down, then takes updates live; a job queued meanwhile waits
      // for the workers.
      await gateway.start((incoming) => {
        metrics.onUpdate(incoming.kind === "message" ? incoming.date : undefined);
        return bot.handle(incoming);
      });
      try {
        await bot.setMenus();
      } catch (error) {
        log.warn({ err: error }, "the command menus could not be set");
      }
      // The boards stop after the workers in this process (cleanups run in reverse), so they show the last states.
      cleanups.push(() => status.stop());
      cleanups.push(() => watch.stop());
      await status.resumeAll();
      // Link questions (quality buttons, playlists): deadlines that passed while Medusa was down apply now.
      bot.startPrompts();
      cleanups.push(() => bot.stopPrompts());
      if (crashed) {
        await core.watch.crashed({
          at: startedAt,
          resumed: leftover.unfinished,
          interrupted: leftover.interrupted,
        });
      }
      void batches.start(); // Telegram may be slow to take the owed summaries: not a reason to wait
      cleanups.push(() => batches.stop());
    },
  };
}
