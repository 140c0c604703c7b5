import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, open, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Api } from "telegram";
import { type RunningTelegramServer, startTelegramServer } from "../support/telegram-server/index.js";
import { clientFor, closeClient, sha256File } from "./helpers.js";

const MIB = 1024 * 1024;
/** Just over the 2000 MiB (4000 x 512 KiB) a non-Premium account may send: 4001 parts. */
const SIZE = 2000 * MIB + 512 * 1024;

describe("a Premium user session uploads a file over 2000 MiB", () => {
  let srv: RunningTelegramServer;
  let dir: string;

  before(async () => {
    srv = await startTelegramServer();
    dir = await mkdtemp(path.join(os.tmpdir(), "tg-premium-"));
  });
  after(async () => {
    await srv.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("sends 2000 MiB + 512 KiB through gramjs's sendFile and the server's SHA-256 matches", {
    timeout: 15 * 60_000,
  }, async () => {
    // A sparse file with random bytes at both ends and in the middle, so part order and offsets matter.
    const file = path.join(dir, "big.bin");
    const fh = await open(file, "w");
    await fh.truncate(SIZE);
    for (const at of [0, Math.floor(SIZE / 2), SIZE - MIB]) await fh.write(randomBytes(MIB), 0, MIB, at);
    await fh.close();
    const expected = await sha256File(file);

    const user = srv.server.createUser({ premium: true, session: true });
    const client = clientFor(srv, user.session!);
    try {
      await client.connect();
      const me = (await client.getMe()) as Api.User;
      assert.equal(me.premium, true);
      const sent = await client.sendFile("me", { file, workers: 8, forceDocument: true });
      assert.ok(sent.media instanceof Api.MessageMediaDocument);
      const stored = srv.server.messages({ user: user.id, peer: user.id }).find((m) => m.id === sent.id);
      assert.equal(stored?.media?.size, SIZE);
      assert.equal(stored?.media?.sha256, expected);
      assert.equal(srv.server.counters().rpcs["upload.SaveBigFilePart"], 4001);
    } finally {
      await closeClient(client);
      await rm(file, { force: true });
    }
  });
});
