/**
 * installGramjsPatches as the composition root uses it: once, before the bot's connection exists, so that the
 * connection runs the lean transport and the fast crypto from its first packet. Runs in its own process (one per
 * test file), so gramjs starts stock here; the tests run in order.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { TelegramConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { connectBot } from "../../src/telegram/bot-client.js";
import { disconnectClient } from "../../src/telegram/connect.js";
import { currentCrypto, uninstallFastCrypto } from "../../src/telegram/fast-crypto.js";
import {
  currentCrc32,
  currentIge,
  currentTransport,
  GRAMJS_VERSION,
} from "../../src/telegram/gramjs-internals.js";
import { installGramjsPatches } from "../../src/telegram/gramjs-patches.js";
import { leanTransportInstalled, uninstallLeanTransport } from "../../src/telegram/lean-transport.js";
import { type RunningTelegramServer, startTelegramServer } from "../support/telegram-server/index.js";
import { tempDir } from "../support/temp-dir.js";
import { API_HASH, API_ID, clientFor } from "../telegram-server/helpers.js";
import { markWire, settledAccount, type WireAccount } from "./support/wire-account.js";

async function withServer<T>(run: (srv: RunningTelegramServer) => Promise<T>): Promise<T> {
  const srv = await startTelegramServer({ control: false });
  try {
    return await run(srv);
  } finally {
    await srv.close();
  }
}

/** Every byte both ways went through the lean framer and zlib's CRC32; every message through AES-NI IGE. */
function assertPatchedThroughout(account: WireAccount): void {
  assert.ok(account.received > 0, "the client sent something");
  assert.equal(account.framed, account.received, "bytes the server received = bytes the lean framer sent");
  assert.equal(account.crcCovered, account.wire, "bytes on the wire both ways = bytes zlib's CRC32 covered");
  assert.ok(account.usage.packedBatches > 0, "the lean packer handed batches over");
  assert.ok(account.usage.encrypted.native > 0, "messages were encrypted with AES-NI IGE");
  assert.deepEqual({ ...account.usage.encrypted, native: 0 }, { native: 0, wasm: 0, gramjs: 0 });
  assert.ok(account.usage.igeDecryptions > 0, "answers were decrypted by our IGE");
}

describe("installGramjsPatches", () => {
  it("leaves gramjs stock until it is called: importing the client code installs nothing", () => {
    assert.deepEqual(currentCrypto(), { ige: "gramjs", crc32: "gramjs" });
    assert.equal(leanTransportInstalled(), false);
  });

  it("runs the bot's own connection on the lean transport and fast crypto from its first packet", async (t) => {
    const dir = tempDir(t);
    await withServer(async (srv) => {
      const status = installGramjsPatches();
      assert.deepEqual(status, {
        ige: "native",
        crc32: "zlib",
        transport: "lean",
        containers: "whole",
        gramjs: GRAMJS_VERSION,
      });
      const keyFile = join(dir, "server-key.pem");
      await writeFile(keyFile, srv.publicKeyPem);
      const bot = srv.server.createBot({ username: "medusa_bot" });
      const config: TelegramConfig = {
        apiId: API_ID,
        apiHash: API_HASH,
        botToken: bot.botToken ?? "",
        ownerId: "1",
        userSession: undefined,
        sessionFile: join(dir, "session"),
        server: { host: "127.0.0.1", port: srv.mtprotoPort, dcId: srv.dcId, publicKeyFile: keyFile },
      };
      const mark = markWire(srv);
      const connection = await connectBot(config, createLogger({ level: "silent" }));
      try {
        assert.equal(connection.me.username, "medusa_bot");
        assertPatchedThroughout(await settledAccount(srv, mark));
      } finally {
        await connection.disconnect();
      }
    });
  });

  it("is harmless when called again, even under a live connection", async () => {
    await withServer(async (srv) => {
      const first = installGramjsPatches();
      const transport = currentTransport();
      const ige = currentIge();
      const crc32 = currentCrc32();
      const bot = srv.server.createBot({ username: "medusa_bot" });
      const mark = markWire(srv);
      const client = clientFor(srv);
      try {
        await client.start({ botAuthToken: bot.botToken ?? "" });
        assert.deepEqual(installGramjsPatches(), first);
        assert.deepEqual(currentTransport(), transport, "the same functions, not wrapped twice");
        assert.equal(currentIge(), ige);
        assert.equal(currentCrc32(), crc32);
        const me = await client.getMe();
        assert.equal(me.username, "medusa_bot");
        assertPatchedThroughout(await settledAccount(srv, mark));
      } finally {
        await disconnectClient(client);
      }
    });
  });

  it("shows in the same accounting when a connection started on stock gramjs (installed late)", async () => {
    await withServer(async (srv) => {
      uninstallLeanTransport();
      uninstallFastCrypto();
      const bot = srv.server.createBot({ username: "medusa_bot" });
      const mark = markWire(srv);
      const client = clientFor(srv);
      try {
        await client.start({ botAuthToken: bot.botToken ?? "" });
        installGramjsPatches();
        await client.getMe();
        const account = await settledAccount(srv, mark);
        assert.ok(account.framed > 0, "the request after the late install went through the lean framer");
        assert.ok(account.framed < account.received, "the handshake and login did not");
        assert.ok(account.crcCovered < account.wire);
      } finally {
        await disconnectClient(client);
      }
    });
  });
});
