/**
 * The composition root against the local Telegram server, in this process so that gramjs's counters can be read:
 * startMedusa installs the gramjs patches before the bot's connection exists.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { describe, it, type TestContext } from "node:test";
import { parseConfig } from "../src/config.js";
import { createLogger } from "../src/logger.js";
import { startMedusa } from "../src/main.js";
import { currentCrypto } from "../src/telegram/fast-crypto.js";
import { leanTransportInstalled } from "../src/telegram/lean-transport.js";
import { startTelegramServer } from "./support/telegram-server/index.js";
import { tempDir } from "./support/temp-dir.js";
import { markWire, settledAccount } from "./telegram/support/wire-account.js";
import { API_HASH, API_ID } from "./telegram-server/helpers.js";

describe("startMedusa", () => {
  it("runs the bot's connection on the patched gramjs from its first packet", async (t) => {
    const { srv, config } = await medusaWorld(t, 0);
    assert.equal(leanTransportInstalled(), false, "gramjs is stock before start");
    const mark = markWire(srv);
    const running = await startMedusa(config, createLogger({ level: "silent" }));
    try {
      assert.deepEqual(currentCrypto(), { ige: "native", crc32: "zlib" });
      assert.equal(leanTransportInstalled(), true);
      const account = await settledAccount(srv, mark);
      assert.ok(account.received > 0, "the bot logged in");
      assert.equal(
        account.framed,
        account.received,
        "every byte the server received left through the lean framer",
      );
      assert.equal(account.crcCovered, account.wire, "every packet both ways was checked by zlib's CRC32");
      assert.deepEqual({ ...account.usage.encrypted, native: 0 }, { native: 0, wasm: 0, gramjs: 0 });
    } finally {
      await running.stop("test");
    }
  });

  it("reports the Telegram connection on /readyz: 503 during an outage, 200 again once reconnected", async (t) => {
    const port = await freePort();
    const { srv, config } = await medusaWorld(t, port);
    const running = await startMedusa(config, createLogger({ level: "silent" }));
    t.after(() => running.stop("test"));
    const readyz = async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
    assert.equal(await readyz(), 200);
    await srv.server.startOutage({ mode: "refuse" });
    await until(async () => (await readyz()) === 503, 60_000, "/readyz to say 503");
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /^medusa_telegram_connected 0$/m);
    await srv.server.endOutage();
    await until(async () => (await readyz()) === 200, 90_000, "/readyz to say 200 again");
  });
});

describe("startMedusa with a user session", () => {
  for (const [what, premium, revoke, expected] of [
    ["a Premium session", true, false, /"msg":"Premium user session ready/],
    ["a session without Premium", false, false, /"code":"SESSION_NOT_PREMIUM".*going on with the bot alone/],
    ["a revoked session", true, true, /"code":"SESSION_REVOKED".*going on with the bot alone/],
  ] as const) {
    it(`opens the user gateway only for a working Premium session: ${what}`, async (t) => {
      const lines: string[] = [];
      const sessionFile = path.join(tempDir(t), "user.session");
      const { srv, config } = await medusaWorld(t, 0, { TELEGRAM_SESSION_FILE: sessionFile });
      const user = srv.server.createUser({ premium, session: true });
      await writeFile(sessionFile, user.session ?? "", { mode: 0o600 });
      if (revoke) srv.server.revokeSession(user.id);
      const log = createLogger({
        level: "info",
        destination: { write: (line: string) => lines.push(line) } as never,
      });
      const running = await startMedusa(config, log);
      try {
        assert.match(lines.join(""), expected);
        assert.match(lines.join(""), /"msg":"medusa is running"/, "and the bot runs either way");
      } finally {
        await running.stop("test");
      }
    });
  }
});

/** A local Telegram server with an owner and a bot, and Medusa's configuration for them. */
async function medusaWorld(t: TestContext, httpPort: number, env: Record<string, string> = {}) {
  const dir = tempDir(t);
  const srv = await startTelegramServer({ control: false });
  t.after(() => srv.close());
  const keyFile = path.join(dir, "server-key.pem");
  await writeFile(keyFile, srv.publicKeyPem);
  const owner = srv.server.createUser({});
  const bot = srv.server.createBot({ username: "medusa_bot" });
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
      HTTP_PORT: String(httpPort),
      ...env,
    },
    { telegram: true },
  );
  return { srv, config };
}

/** A port nobody listens on now (the kernel picks it; freed again for the server under test). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
