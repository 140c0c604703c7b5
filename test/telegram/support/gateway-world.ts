/** A local Telegram server, a bot logged in through the gateway on a real SQLite file, and a user who talks to it. */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { TelegramConfig } from "../../../src/config.js";
import { type OpenedDatabase, openAndMigrate } from "../../../src/db/database.js";
import { createLogger } from "../../../src/logger.js";
import { openBotGateway } from "../../../src/telegram/bot-client.js";
import type { Incoming, TelegramGateway } from "../../../src/telegram/gateway.js";
import { installGramjsPatches } from "../../../src/telegram/gramjs-patches.js";
import { type RunningTelegramServer, startTelegramServer } from "../../support/telegram-server/index.js";
import { tempDir } from "../../support/temp-dir.js";
import { API_HASH, API_ID } from "../../telegram-server/helpers.js";

export interface GatewayWorld {
  srv: RunningTelegramServer;
  dir: string;
  config: TelegramConfig;
  bot: { id: number; username: string };
  alice: { id: number; username: string };
  database: OpenedDatabase;
  /** Opens the bot's gateway on the world's database; every incoming update lands in `received`. */
  open(handler?: (incoming: Incoming) => Promise<void>): Promise<TelegramGateway>;
  /** Stops `gateway` (another account's) with the world's own, before the server closes. */
  adopt(gateway: TelegramGateway): void;
  received: Incoming[];
  /** Resolves once `received` holds `count` updates (bounded). */
  waitForReceived(count: number, timeoutMs?: number): Promise<Incoming[]>;
}

export async function startGatewayWorld(
  t: TestContext,
  serverOptions: Parameters<typeof startTelegramServer>[0] = {},
): Promise<GatewayWorld> {
  installGramjsPatches();
  const dir = tempDir(t, "medusa-gateway-");
  const srv = await startTelegramServer(serverOptions);
  const keyFile = join(dir, "server-key.pem");
  await writeFile(keyFile, srv.publicKeyPem);
  const bot = srv.server.createBot({ username: "medusa_bot" });
  const alice = srv.server.createUser({ username: "alice", firstName: "Alice" });
  const config: TelegramConfig = {
    apiId: API_ID,
    apiHash: API_HASH,
    botToken: bot.botToken ?? "",
    ownerId: String(alice.id),
    userSession: undefined,
    sessionFile: join(dir, "session"),
    server: { host: "127.0.0.1", port: srv.mtprotoPort, dcId: srv.dcId, publicKeyFile: keyFile },
  };
  const database = await openAndMigrate(join(dir, "medusa.db"));
  const gateways: TelegramGateway[] = [];
  const received: Incoming[] = [];
  const waiters = new Set<() => void>();
  t.after(async () => {
    for (const g of gateways) await g.stop().catch(() => undefined);
    await database.close();
    await srv.close();
  });
  return {
    srv,
    dir,
    config,
    bot: { id: bot.id, username: "medusa_bot" },
    alice: { id: alice.id, username: "alice" },
    database,
    received,
    adopt(gateway) {
      gateways.push(gateway);
    },
    async open(handler) {
      const gateway = await openBotGateway(config, {
        db: database.db,
        log: createLogger({ level: "silent" }),
      });
      gateways.push(gateway);
      await gateway.start(async (incoming) => {
        received.push(incoming);
        for (const wake of waiters) wake();
        await handler?.(incoming);
      });
      return gateway;
    },
    waitForReceived(count, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (received.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(received.slice());
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} updates within ${timeoutMs} ms, got ${received.length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
