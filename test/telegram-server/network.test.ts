import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Api, type TelegramClient } from "telegram";
import { NewMessage, type NewMessageEvent } from "telegram/events/index.js";
import { returnBigInt } from "telegram/Helpers.js";
import { type RunningTelegramServer, startTelegramServer } from "../support/telegram-server/index.js";
import {
  authKeysSince,
  botClient,
  clientAuthKeyId,
  clientFor,
  closeClient,
  EVENT_TIMEOUT_MS,
  gramjsRejects,
  knownAuthKeys,
  rawError,
  sha256File,
  withTimeout,
} from "./helpers.js";

const MIB = 1024 * 1024;

describe("connections, faults and network conditions", () => {
  let srv: RunningTelegramServer;
  let dir: string;

  before(async () => {
    srv = await startTelegramServer();
    dir = await mkdtemp(path.join(os.tmpdir(), "tg-net-"));
  });
  after(async () => {
    await srv.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("handles 16 concurrent connections, each with its own new auth key", async () => {
    const users = [...Array(16)].map(() => srv.server.createUser({ session: true }));
    const before = srv.server.counters();
    const known = knownAuthKeys(srv);
    const clients = users.map((u) => clientFor(srv, u.session!));
    const fresh = [...Array(4)].map(() => clientFor(srv));
    try {
      await Promise.all([...clients, ...fresh].map((c) => c.connect()));
      const mes = await Promise.all(clients.map((c) => c.getMe()));
      assert.deepEqual(
        mes.map((m) => Number((m as Api.User).id)),
        users.map((u) => u.id),
      );
      const c = srv.server.counters();
      assert.ok(c.connectionsOpen >= 20, `open: ${c.connectionsOpen}`);
      // Each fresh client holds a key of its own that the server made just now.
      const made = authKeysSince(srv, known);
      const held = fresh.map((f) => clientAuthKeyId(f));
      assert.equal(new Set(held).size, 4);
      for (const id of held) assert.ok(made.some((k) => k.id === id && !gramjsRejects(k)));
      // One exchange per fresh client, and one more for each key gramjs rejects.
      assert.equal(c.handshakes - before.handshakes, made.length);
      assert.equal(made.length, 4 + made.filter(gramjsRejects).length);
    } finally {
      await Promise.all([...clients, ...fresh].map(closeClient));
    }
  });

  it("survives the auth-key exchange failing with a wrong new_nonce_hash (gramjs's 1-in-256 case)", async () => {
    const before = srv.server.counters().handshakes;
    const known = knownAuthKeys(srv);
    srv.server.faults.setFaults({ badNonceHashCount: 1 });
    const { bot, client } = await botClient(srv, "retry_bot");
    try {
      assert.equal(Number(((await client.getMe()) as Api.User).id), bot.id);
      // The corrupted exchange, then the one whose key the client keeps; and one more for each later key gramjs
      // rejects on its own.
      const made = authKeysSince(srv, known);
      assert.equal(srv.server.counters().handshakes - before, made.length);
      assert.equal(made.length, 2 + made.slice(1).filter(gramjsRejects).length);
      assert.equal(clientAuthKeyId(client), made.at(-1)?.id);
    } finally {
      await closeClient(client);
    }
  });

  it("answers FLOOD_WAIT_X; gramjs waits X seconds and succeeds", async () => {
    const { client } = await botClient(srv, "flood_bot");
    const user = srv.server.createUser();
    try {
      srv.server.faults.setFaults({
        methodFaults: [{ method: "messages.SendMessage", code: 420, message: "FLOOD_WAIT_1", times: 1 }],
      });
      const peer = new Api.InputPeerUser({
        userId: returnBigInt(user.id),
        accessHash: returnBigInt(user.accessHash),
      });
      const started = performance.now();
      await client.invoke(new Api.messages.SendMessage({ peer, message: "after the wait", randomId: rid() }));
      assert.ok(performance.now() - started >= 1000);
      const me = Number(((await client.getMe()) as Api.User).id);
      assert.ok(srv.server.messages({ user: user.id, peer: me }).some((m) => m.text === "after the wait"));

      // A share of 1 answers every call of the listed methods, as the sender sees it.
      srv.server.faults.setFaults({
        floodWaitShare: 1,
        floodWaitSeconds: 3,
        floodWaitMethods: ["messages.SendMessage"],
      });
      const err = await rawError(
        client,
        new Api.messages.SendMessage({ peer, message: "x", randomId: rid() }),
      );
      // gramjs turns FLOOD_WAIT_3 into a FloodWaitError with `seconds`.
      assert.equal(err?.seconds, 3);
      assert.equal(err?.code, 420);
    } finally {
      srv.server.faults.setFaults({ floodWaitShare: 0, floodWaitMethods: [], methodFaults: [] });
      await closeClient(client);
    }
  });

  it("drops a connection mid-upload; gramjs reconnects and the file still arrives whole", async () => {
    const { client } = await botClient(srv, "drop_bot");
    const user = srv.server.createUser();
    try {
      const file = path.join(dir, "dropped.bin");
      await writeFile(file, randomBytes(12 * MIB));
      // The next connection (the uploader's extra sender) is cut after 3 MiB.
      srv.server.faults.setFaults({ dropShare: 1, dropAfterBytes: 3 * MIB, dropLimit: 1 });
      const dropped = srv.server.counters().dropped;
      const peer = new Api.InputPeerUser({
        userId: returnBigInt(user.id),
        accessHash: returnBigInt(user.accessHash),
      });
      const msg = await client.sendFile(peer, { file, workers: 4 });
      assert.equal(srv.server.counters().dropped - dropped, 1);
      const me = Number(((await client.getMe()) as Api.User).id);
      const stored = srv.server.messages({ user: user.id, peer: me }).find((m) => m.id === msg.id);
      assert.equal(stored?.media?.sha256, await sha256File(file));
    } finally {
      srv.server.faults.setFaults({ dropShare: 0 });
      await closeClient(client);
    }
  });

  it("drops a call's connection before the call runs, or after it ran with its answer lost", async () => {
    const { bot, client } = await botClient(srv, "dropcall_bot");
    const user = srv.server.createUser();
    const peer = new Api.InputPeerUser({
      userId: returnBigInt(user.id),
      accessHash: returnBigInt(user.accessHash),
    });
    const texts = () => srv.server.messages({ user: user.id, peer: bot.id }).map((m) => m.text);
    try {
      for (const when of ["before", "after"] as const) {
        const dropped = srv.server.counters().callsDropped[when];
        const reconnected = new Promise<void>((resolve) =>
          srv.server.events.once("connection", () => resolve()),
        );
        srv.server.faults.setFaults({
          dropCallShare: 1,
          dropCallMethods: ["messages.SendMessage"],
          dropCallWhen: when,
        });
        const sent = client.invoke(
          new Api.messages.SendMessage({ peer, message: `dropped ${when}`, randomId: rid() }),
        );
        sent.catch(() => undefined);
        // gramjs reconnects (a new connection) and re-sends; let that one through.
        await withTimeout(reconnected, EVENT_TIMEOUT_MS, "the reconnect");
        srv.server.faults.setFaults({ dropCallShare: 0 });
        assert.equal(srv.server.counters().callsDropped[when] - dropped, 1);
        if (when === "after") {
          // It ran: the message exists, and the re-send with the same random_id is a duplicate.
          await assert.rejects(withTimeout(sent, EVENT_TIMEOUT_MS, "the re-send"), /RANDOM_ID_DUPLICATE/);
        } else {
          await withTimeout(sent, EVENT_TIMEOUT_MS, "the re-send");
        }
        assert.equal(texts().filter((t) => t === `dropped ${when}`).length, 1);
      }
    } finally {
      srv.server.faults.setFaults({ dropCallShare: 0, dropCallMethods: [], dropCallWhen: "either" });
      await closeClient(client);
    }
  });

  it("keeps delivering updates after the bot's connections are dropped and gramjs reconnects", async () => {
    const { bot, client } = await botClient(srv, "reconnect_bot");
    const user = srv.server.createUser();
    try {
      assert.ok(srv.server.dropConnections(bot.id) >= 1);
      // Queued until gramjs has reconnected (it waits 1 s first).
      await withTimeout(client.getMe(), EVENT_TIMEOUT_MS, "getMe after reconnect");
      const heard = new Promise<NewMessageEvent>((resolve) =>
        client.addEventHandler(resolve, new NewMessage({})),
      );
      srv.server.sendText(user.id, { user: user.id, peer: bot.id }, "still there?");
      assert.equal(
        (await withTimeout(heard, EVENT_TIMEOUT_MS, "NewMessage after reconnect")).message.message,
        "still there?",
      );
    } finally {
      await closeClient(client);
    }
  });

  it("caps each connection's bandwidth: 3 MiB over one connection at 1 MiB/s takes at least 3 s", async () => {
    const u = srv.server.createUser({ session: true });
    const client = clientFor(srv, u.session!);
    await client.connect();
    const sender = client._sender!;
    try {
      srv.server.faults.setConditions({ bandwidth: MIB });
      const partSize = 512 * 1024;
      const id = returnBigInt(randomBytes(8).readBigInt64LE(0));
      const started = performance.now();
      // All six parts in flight at once: only the cap can slow them down.
      await Promise.all(
        [...Array(6).keys()].map((part) =>
          sender.send(
            new Api.upload.SaveBigFilePart({
              fileId: id,
              filePart: part,
              fileTotalParts: 6,
              bytes: randomBytes(partSize),
            }),
          ),
        ),
      );
      const seconds = (performance.now() - started) / 1000;
      assert.ok(seconds >= 3 - 0.07, `took ${seconds.toFixed(2)} s`); // the first 64 KiB burst is free
      assert.ok(seconds < 6, `took ${seconds.toFixed(2)} s`);
    } finally {
      srv.server.faults.setConditions({ bandwidth: 0 });
      await closeClient(client);
    }
  });

  it("adds latency in each direction", async () => {
    const u = srv.server.createUser({ session: true });
    const client = clientFor(srv, u.session!);
    await client.connect();
    try {
      srv.server.faults.setConditions({ latencyMs: 150 });
      const started = performance.now();
      await client.invoke(new Api.help.GetNearestDc());
      assert.ok(performance.now() - started >= 300);
    } finally {
      srv.server.faults.setConditions({ latencyMs: 0 });
      await closeClient(client);
    }
  });

  it("answers unknown methods with METHOD_NOT_IMPLEMENTED_<name> and counts them", async () => {
    const u = srv.server.createUser({ session: true });
    const client: TelegramClient = clientFor(srv, u.session!);
    await client.connect();
    try {
      const err = await client.invoke(new Api.account.GetAuthorizations()).then(
        () => undefined,
        (e: { errorMessage?: string }) => e.errorMessage,
      );
      assert.equal(err, "METHOD_NOT_IMPLEMENTED_ACCOUNT_GETAUTHORIZATIONS");
      assert.equal(srv.server.counters().unknownMethods["account.GetAuthorizations"], 1);
    } finally {
      await closeClient(client);
    }
  });
});

function rid() {
  return returnBigInt(randomBytes(8).readBigInt64LE(0));
}
