/**
 * The composition root: config → logger → database → Telegram → http, handed down explicitly. `stop()` runs once,
 * on SIGINT/SIGTERM or a fatal error, and undoes everything in reverse order.
 */
import type { Config } from "./config.js";
import { openAndMigrate } from "./db/database.js";
import { recordEvent } from "./db/events.js";
import { ensureOwner } from "./db/users.js";
import { startHttpServer } from "./http/server.js";
import type { Logger } from "./logger.js";
import { connectBot } from "./telegram/bot-client.js";
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

  const bot = await connectBot(telegram, log);
  cleanups.push(() => bot.disconnect());
  log.info({ bot: bot.me }, "logged in to Telegram");

  let ready = false;
  if (config.http.port > 0) {
    const server = await startHttpServer(config.http.host, config.http.port, {
      ready: () => ready,
      metrics: () => [
        "# HELP medusa_up 1 while the process runs.",
        "# TYPE medusa_up gauge",
        "medusa_up 1",
        "# HELP medusa_ready 1 once the database and Telegram are ready.",
        "# TYPE medusa_ready gauge",
        `medusa_ready ${ready ? 1 : 0}`,
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
