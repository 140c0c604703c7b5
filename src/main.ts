/**
 * The composition root: config → logger → database → Telegram → jobs → bot → http, handed down explicitly. `stop()` runs once,
 * on SIGINT/SIGTERM or a fatal error, and undoes everything in reverse order.
 *
 * One process may be every role (`all`, the default) or one of them: a `gateway` (updates, bot, status boards,
 * batch summaries) and any number of `worker`s (jobs) sharing one database. The parts are the same in every role
 * (src/start/gateway.ts, src/start/worker.ts), and they talk only through the job rows, so `all` is the two parts
 * in one process and nothing else.
 */

import { createOwnerNotices } from "./bot/owner-notices.js";
import { createOwnerWatch } from "./bot/owner-watch.js";
import { type Config, storeTarget } from "./config.js";
import { openStoreAndMigrate } from "./db/database.js";
import { createDashboard } from "./http/dashboard.js";
import { startHttpServer } from "./http/server.js";
import { createLogChats } from "./jobs/log-chats.js";
import { createCrashPoint } from "./lib/crash-point.js";
import type { Logger } from "./logger.js";
import { createMetrics } from "./metrics.js";
import type { Core, Role, RolePart } from "./start/core.js";
import { openGateway } from "./start/gateway.js";
import { openWorker } from "./start/worker.js";
import { openBotGateway } from "./telegram/bot-client.js";
import { installGramjsPatches } from "./telegram/gramjs-patches.js";

/** A host as it goes into a URL: IPv6 in brackets. */
function hostForUrl(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

export interface Running {
  stop(reason: string): Promise<void>;
  /** Resolves when stop() has finished. */
  stopped: Promise<void>;
}

export interface StartOptions {
  /** @default "all" */
  role?: Role;
}

export async function startMedusa(
  config: Config,
  rootLog: Logger,
  options: StartOptions = {},
): Promise<Running> {
  const telegram = config.telegram;
  if (!telegram) throw new Error("startMedusa needs the Telegram configuration");
  const role = options.role ?? "all";
  // Every line says which role wrote it: a gateway and its workers may share one log.
  const log = role === "all" ? rootLog : rootLog.child({ role });
  const cleanups: Array<() => Promise<void>> = [];
  // First, before any client exists: a wrong gramjs version stops here, and every connection (the bot's own
  // included) runs the patched code from its first packet.
  const gramjs = installGramjsPatches();
  log.info({ gramjs }, "gramjs patches installed");

  const database = await openStoreAndMigrate(storeTarget(config));
  cleanups.push(() => database.close());
  if (database.applied.length > 0) log.info({ migrations: database.applied }, "database migrated");

  const crashPoint = createCrashPoint(config.crashAt);
  let ready = false;
  let connected = (): boolean => false;
  const metrics = createMetrics({
    db: database.db,
    ready: () => ready && connected(),
    telegramConnected: () => connected(),
  });
  // Each process logs in with its own session: a worker sends and uploads on its own connections.
  const gateway = await openBotGateway(telegram, {
    db: database.db,
    log: log.child({ module: "telegram" }),
    crashPoint,
    onFloodWait: (method, seconds) => metrics.onFloodWait(method, seconds),
  });
  connected = () => gateway.connectionState() === "connected";
  cleanups.push(() => gateway.stop());
  log.info({ bot: gateway.me }, "logged in to Telegram");

  const ownerId = Number(telegram.ownerId);
  const notices = createOwnerNotices({
    db: database.db,
    gateway,
    ownerId,
    log: log.child({ module: "notices" }),
  });
  const session = { configured: false };
  const watch = createOwnerWatch({
    db: database.db,
    notices,
    log: log.child({ module: "notices" }),
    dataDir: config.paths.dataDir,
    minFreeDisk: config.limits.minFreeDisk,
    diskMargin: config.notices.diskMargin,
    failedJobs: config.notices.failedJobs,
    failedWindowMs: config.notices.failedWindowMs,
    watchSession: () => session.configured,
  });
  cleanups.push(() => watch.settled());
  const core: Core = {
    watch,
    session,
    config,
    log,
    database,
    gateway,
    metrics,
    crashPoint,
    ownerId,
    logChats: createLogChats(database.db, gateway, config.logChannels, log),
    // A log channel that refuses a copy is skipped; the owner hears of it once, not with every file.
    onLogRefused: (chatId, code) => {
      log.warn({ chatId, code }, "a log channel refused a copy");
      void notices.once(`log-refused:${chatId}:${code}`, "notice.logRefused", { chat: chatId, code });
    },
    cleanups,
  };

  // Built before anything starts; started gateway first (updates flow), then the worker (jobs resume), so that
  // stop() ends the worker first and the boards' last edits show where its jobs stopped.
  const parts: RolePart[] = [];
  let wakeWorkers = () => {};
  if (role !== "worker") parts.push(await openGateway(core, () => wakeWorkers()));
  if (role !== "gateway") {
    const worker = await openWorker(core, { alone: role === "all" });
    wakeWorkers = () => worker.runner.wake();
    parts.push(worker);
  }
  for (const part of parts) await part.start();
  void watch.tick();

  if (config.http.port > 0) {
    const isReady = () => ready && connected();
    const server = await startHttpServer(config.http.host, config.http.port, {
      ready: isReady,
      metrics: () => metrics.render(),
      metricsContentType: metrics.contentType,
      dashboard: createDashboard({ db: database.db, ready: isReady }),
      token: config.http.dashboardToken,
    });
    cleanups.push(() => server.close());
    log.info(
      {
        port: server.port,
        dashboard: `http://${hostForUrl(config.http.host)}:${server.port}/dashboard`,
        tokenRequired: config.http.dashboardToken !== undefined,
      },
      "health, metrics and dashboard listening",
    );
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
