/**
 * The composition root: config → logger → database → Telegram → jobs → bot → http, handed down explicitly. `stop()` runs once,
 * on SIGINT/SIGTERM or a fatal error, and undoes everything in reverse order.
 */

import { createBot, MAX_LINKS_PER_MESSAGE } from "./bot/bot.js";
import type { Config } from "./config.js";
import { openAndMigrate } from "./db/database.js";
import { recordEvent } from "./db/events.js";
import { ensureOwner } from "./db/users.js";
import { startHttpServer } from "./http/server.js";
import { createLogChats } from "./jobs/log-chats.js";
import { createRunner } from "./jobs/runner.js";
import { createJobSteps, stepSettings } from "./jobs/steps.js";
import { createCrashPoint } from "./lib/crash-point.js";
import type { Logger } from "./logger.js";
import { openBotGateway } from "./telegram/bot-client.js";
import { installGramjsPatches } from "./telegram/gramjs-patches.js";

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

  const crashPoint = createCrashPoint(config.crashAt);
  const gateway = await openBotGateway(telegram, {
    db: database.db,
    log: log.child({ module: "telegram" }),
    crashPoint,
  });
  cleanups.push(() => gateway.stop());
  log.info({ bot: gateway.me }, "logged in to Telegram");
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
      logChats: createLogChats(database.db, gateway, config.logChannels, log),
      onLogRefused: (chatId, code) => log.warn({ chatId, code }, "a log channel refused a copy"),
      crashPoint,
    }),
  });
  const bot = createBot({
    db: database.db,
    gateway,
    log: log.child({ module: "bot" }),
    ownerId: Number(telegram.ownerId),
    limits: {
      queuedJobsPerUser: config.limits.queuedJobsPerUser,
      ratePerMinute: config.limits.ratePerMinute,
      linksPerMessage: MAX_LINKS_PER_MESSAGE,
      workers: config.limits.concurrentJobs,
    },
    wake: () => runner.wake(),
    dataDir: config.paths.dataDir,
    media: config.media,
    // The live status message per chat (src/bot/status.ts) plugs in here as `status: { handleCallback, track }`.
  });
  // Catches up on what arrived while Medusa was down, then takes updates live; a job queued meanwhile waits for
  // the runner below.
  await gateway.start((incoming) => bot.handle(incoming));
  try {
    await bot.setMenus();
  } catch (error) {
    log.warn({ err: error }, "the command menus could not be set");
  }

  // Resumes every unfinished job from its last step; stopped before the gateway so sends can finish.
  await runner.start();
  cleanups.push(() => runner.stop());

  let ready = false;
  if (config.http.port > 0) {
    const server = await startHttpServer(config.http.host, config.http.port, {
      ready: () => ready && gateway.connectionState() === "connected",
      metrics: () => [
        "# HELP medusa_up 1 while the process runs.",
        "# TYPE medusa_up gauge",
        "medusa_up 1",
        "# HELP medusa_ready 1 once the database and Telegram are ready.",
        "# TYPE medusa_ready gauge",
        `medusa_ready ${ready && gateway.connectionState() === "connected" ? 1 : 0}`,
        "# HELP medusa_telegram_connected 1 while the bot's connection to Telegram is up.",
        "# TYPE medusa_telegram_connected gauge",
        `medusa_telegram_connected ${gateway.connectionState() === "connected" ? 1 : 0}`,
      ],
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
