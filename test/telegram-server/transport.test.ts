import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Api } from "telegram";
import { ConnectionTCPAbridged, ConnectionTCPObfuscated } from "telegram/network/index.js";
import { type RunningTelegramServer, startTelegramServer } from "../support/telegram-server/index.js";
import { TransportCodec } from "../support/telegram-server/transport.js";
import { clientFor, closeClient } from "./helpers.js";

describe("transports", () => {
  let srv: RunningTelegramServer;
  before(async () => {
    srv = await startTelegramServer({ decryptWorkers: 0 });
  });
  after(async () => srv.close());

  for (const [name, connection] of [
    ["abridged", ConnectionTCPAbridged],
    ["obfuscated", ConnectionTCPObfuscated],
  ] as const) {
    it(`speaks gramjs's ${name} transport as well as its default full one`, async () => {
      const bot = srv.server.createBot();
      const client = clientFor(srv);
      (client as unknown as { _connection: unknown })._connection = connection;
      try {
        await client.start({ botAuthToken: bot.botToken! });
        assert.equal(Number(((await client.getMe()) as Api.User).id), bot.id);
        const sent = await client.sendMessage("me", { message: "x".repeat(3000) });
        assert.equal(sent.message.length, 3000);
      } finally {
        await closeClient(client);
      }
    });
  }

  it("frames and splits intermediate, padded intermediate and abridged packets", () => {
    // Shaped like an encrypted message (24-byte header + blocks), over 127 words so abridged needs its long header.
    const payload = Buffer.alloc(24 + 16 * 40, 7);
    for (const [tag, kind] of [
      [Buffer.from("eeeeeeee", "hex"), "intermediate"],
      [Buffer.from("dddddddd", "hex"), "padded"],
      [Buffer.from([0xef]), "abridged"],
    ] as const) {
      const sender = new TransportCodec();
      sender.kind = kind;
      const wire = Buffer.concat([
        tag,
        ...sender.encode(payload),
        ...sender.encode(payload.subarray(0, 24 + 16)),
      ]);
      const receiver = new TransportCodec();
      // Byte by byte: the codec must reassemble packets split anywhere.
      const packets = [...wire].flatMap((byte) => receiver.push(Buffer.from([byte])));
      assert.equal(receiver.kind, kind);
      assert.deepEqual(packets, [payload, payload.subarray(0, 24 + 16)]);
    }
  });

  it("rejects a full-transport packet with a bad CRC32", () => {
    const sender = new TransportCodec();
    const wire = Buffer.concat(sender.encode(Buffer.alloc(16, 1)));
    wire[wire.length - 1]! ^= 0xff;
    assert.throws(() => new TransportCodec().push(wire), /CRC32/);
  });
});
