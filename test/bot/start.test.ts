/**
 * The bot inside `startMedusa` against the local Telegram server and a local site, with the real runner and steps:
 * a link a user sends is queued, downloaded and delivered to their chat, and the command menus are set at start.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { startMedusa } from "../../src/main.js";
import { makeRandomFile, serveDirectory } from "../support/media-fixtures.js";
import { startTelegramServer } from "../support/telegram-server/index.js";
import { commandSetKey } from "../support/telegram-server/world.js";
import { tempDir } from "../support/temp-dir.js";
import { API_HASH, API_ID } from "../telegram-server/helpers.js";

const WAIT_MS = 90_000;

describe("the bot in medusa start", () => {
  it("delivers a linked file to the user's chat under the name given, and sets the menus", async (t) => {
    const dir = tempDir(t);
    const srv = await startTelegramServer({ control: false });
    t.after(() => srv.close());
    const keyFile = path.join(dir, "server-key.pem");
    await writeFile(keyFile, srv.publicKeyPem);
    const owner = srv.server.createUser({ firstName: "Olga", langCode: "ru" });
    const bot = srv.server.createBot({ username: "medusa_bot" });
    const site = path.join(dir, "site");
    await mkdir(site);
    const file = await makeRandomFile(path.join(site, "data.bin"), 300 * 1024);
    const server = await serveDirectory(site);
    t.after(() => server.close());
    const config = parseConfig(
      {
        TELEGRAM_API_ID: String(API_ID),
        TELEGRAM_API_HASH: API_HASH,
        BOT_TOKEN: bot.botToken ?? undefined,
        OWNER_ID: String(owner.id),
        TELEGRAM_SERVER: `127.0.0.1:${srv.mtprotoPort}`,
        TELEGRAM_SERVER_KEY_FILE: keyFile,
        TELEGRAM_DC_ID: String(srv.dcId),
        DATA_DIR: path.join(dir, "data"),
        HTTP_PORT: "0",
        ALLOW_PRIVATE_NETWORKS: "true",
      },
      { telegram: true },
    );
    const running = await startMedusa(config, createLogger({ level: "silent" }));
    t.after(() => running.stop("test"));
    const sets = srv.server.world.users.get(bot.id)!.commandSets;
    assert.deepEqual(
      sets.get(commandSetKey("default", "ru"))?.map((c) => c.command),
      ["start", "help", "queue", "cancel", "batch", "merge", "settings", "history", "usage", "forgetme"],
    );

    const chat = { user: owner.id, peer: bot.id };
    const sent = srv.server.sendText(owner.id, chat, `${server.origin}/data.bin | Отчёт за март`);
    const reply = await srv.server.waitForMessage(
      chat,
      (m) => m.fromId === bot.id && m.id > sent.id,
      WAIT_MS,
    );
    assert.match(reply.text, /^В очереди: 1\n#1 · Отчёт за март · (место 1|уже идёт)$/);
    const delivered = await srv.server.waitForMessage(
      chat,
      (m) => m.fromId === bot.id && m.media !== null,
      WAIT_MS,
    );
    assert.equal(
      delivered.media?.sha256,
      createHash("sha256")
        .update(await readFile(file))
        .digest("hex"),
    );
    assert.match(delivered.media?.name ?? "", /^Отчёт за март/);
  });
});
