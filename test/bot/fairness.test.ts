/**
 * Fairness between users through the real bot, runner and steps (`startMedusa` against the local Telegram server
 * and a slow local site): one user's long batch does not hold up another user's single link.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/config.js";
import { openAndMigrate } from "../../src/db/database.js";
import { ensureOwner, setRole } from "../../src/db/users.js";
import { createLogger } from "../../src/logger.js";
import { startMedusa } from "../../src/main.js";
import { bufferBody, serveBody, startHttpServer } from "../support/http-server.js";
import { startTelegramServer } from "../support/telegram-server/index.js";
import { tempDir } from "../support/temp-dir.js";
import { API_HASH, API_ID } from "../telegram-server/helpers.js";

/** Generous bound on one step of the story; only a wedged run reaches it. */
const WAIT_MS = 60_000;
const BATCH_LINKS = 100;
/** Each file takes about a second to download (past the server's 64 KiB burst), so the batch takes minutes. */
const FILE_BYTES = 192 * 1024;
const SITE_RATE = 128 * 1024;
/** Without turns between users the single link would come after all 100; with them, after a handful. */
const MIN_BATCH_LEFT = 80;

describe("fairness between users", () => {
  it("delivers a single link long before another user's 100-line batch ends", {
    timeout: 150_000,
  }, async (t) => {
    const dir = tempDir(t, "medusa-fairness-");
    // Undone in reverse (Medusa first), so that nothing it still talks to is gone before it stops.
    const cleanups: Array<() => Promise<void>> = [];
    t.after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });
    const srv = await startTelegramServer({ control: false });
    cleanups.push(() => srv.close());
    const keyFile = path.join(dir, "server-key.pem");
    await writeFile(keyFile, srv.publicKeyPem);
    const owner = srv.server.createUser({ firstName: "Olga" });
    const batcher = srv.server.createUser({ firstName: "Bea", username: "bea" });
    const single = srv.server.createUser({ firstName: "Sid", username: "sid" });
    const bot = srv.server.createBot({ username: "medusa_bot" });

    const site = await startHttpServer();
    cleanups.push(() => site.close());
    const digests = new Map<string, string>();
    const serve = (name: string) => {
      const content = randomBytes(FILE_BYTES);
      digests.set(createHash("sha256").update(content).digest("hex"), name);
      const body = bufferBody(content);
      site.route(`/${name}`, (req, res) => serveBody(req, res, body, { rate: SITE_RATE }));
      return `${site.origin}/${name}`;
    };
    const batchLinks = Array.from({ length: BATCH_LINKS }, (_, i) => serve(`batch-${i + 1}.bin`));
    const singleLink = serve("single.bin");

    const dataDir = path.join(dir, "data");
    const config = parseConfig(
      {
        TELEGRAM_API_ID: String(API_ID),
        TELEGRAM_API_HASH: API_HASH,
        BOT_TOKEN: bot.botToken ?? undefined,
        OWNER_ID: String(owner.id),
        TELEGRAM_SERVER: `127.0.0.1:${srv.mtprotoPort}`,
        TELEGRAM_SERVER_KEY_FILE: keyFile,
        TELEGRAM_DC_ID: String(srv.dcId),
        DATA_DIR: dataDir,
        HTTP_PORT: "0",
        ALLOW_PRIVATE_NETWORKS: "true",
        // Room for the whole batch (the default cap is 50 unfinished jobs per user).
        MAX_QUEUED_JOBS_PER_USER: String(BATCH_LINKS + 10),
      },
      { telegram: true },
    );
    // The owner let both in before.
    const seed = await openAndMigrate(config.paths.database);
    await seed.db.transaction().execute((trx) => ensureOwner(trx, owner.id));
    await setRole(seed.db, batcher.id, "user", owner.id);
    await setRole(seed.db, single.id, "user", owner.id);
    await seed.close();
    const running = await startMedusa(config, createLogger({ level: "silent" }));
    cleanups.push(() => running.stop("test"));

    const batchChat = { user: batcher.id, peer: bot.id };
    const singleChat = { user: single.id, peer: bot.id };
    const list = await srv.server.sendDocument(batcher.id, batchChat, {
      name: "links.txt",
      mimeType: "text/plain",
      content: Buffer.from(batchLinks.join("\n")),
    });
    const batchReply = await srv.server.waitForMessage(
      batchChat,
      (m) => m.fromId === bot.id && m.id > list.id,
      WAIT_MS,
    );
    assert.match(batchReply.text, new RegExp(`${BATCH_LINKS} links from links\\.txt queued`));

    const sent = srv.server.sendText(single.id, singleChat, singleLink);
    const delivered = await srv.server.waitForMessage(
      singleChat,
      (m) => m.fromId === bot.id && m.id > sent.id && m.media !== null,
      WAIT_MS,
    );
    // Counted at once: the server is in this process, so nothing is delivered between the event and the count.
    const batchDelivered = srv.server
      .messages(batchChat, false)
      .filter((m) => m.fromId === bot.id && m.media);
    t.diagnostic(`${batchDelivered.length} of the batch's files were delivered before the single link's`);
    assert.equal(digests.get(delivered.media?.sha256 ?? ""), "single.bin", "the single link's own file");
    assert.ok(
      BATCH_LINKS - batchDelivered.length >= MIN_BATCH_LEFT,
      `${batchDelivered.length} of the batch's ${BATCH_LINKS} files were delivered before the single link's`,
    );
    // What the batch got meanwhile is its own files (downloads run side by side, so not necessarily in order).
    for (const m of batchDelivered)
      assert.match(digests.get(m.media?.sha256 ?? "") ?? "", /^batch-\d+\.bin$/);
  });
});
