/**
 * A bot process for crash tests: opens the gateway on a SQLite file, appends "<key> <text>" per handled update to
 * OUT_FILE, and with CRASH_AFTER=N kills itself with SIGKILL right after the Nth update is marked handled and
 * before its state is saved. Prints "ready" once it takes updates.
 */
import { appendFileSync } from "node:fs";
import type { TelegramConfig } from "../../../src/config.js";
import { openAndMigrate } from "../../../src/db/database.js";
import { createLogger } from "../../../src/logger.js";
import { openBotGateway } from "../../../src/telegram/bot-client.js";
import { installGramjsPatches } from "../../../src/telegram/gramjs-patches.js";

const env = process.env;
const config = JSON.parse(env.GATEWAY_CONFIG ?? "{}") as TelegramConfig;
const crashAfter = Number(env.CRASH_AFTER ?? "0");
let handled = 0;

installGramjsPatches();
const database = await openAndMigrate(env.DB_FILE ?? "");
const gateway = await openBotGateway(config, {
  db: database.db,
  log: createLogger({ level: "warn", destination: process.stderr }),
  crashPoint: (name) => {
    if (name === "update.handled" && crashAfter > 0 && ++handled === crashAfter)
      process.kill(process.pid, "SIGKILL");
  },
});
await gateway.start(async (incoming) => {
  const text = incoming.kind === "message" ? incoming.text : incoming.data;
  appendFileSync(env.OUT_FILE ?? "", `${incoming.key} ${text}\n`);
});
process.stdout.write("ready\n");
process.on("SIGTERM", () => {
  void gateway
    .stop()
    .then(() => database.close())
    .then(() => process.exit(0));
});
