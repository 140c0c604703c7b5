import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Api, type TelegramClient } from "telegram";
import { LAYER } from "telegram/tl/AllTLObjects.js";
import { MsgState } from "../support/telegram-server/connection.js";
import { type RunningTelegramServer, startTelegramServer } from "../support/telegram-server/index.js";
import { clientFor, closeClient, msgsStateReq, rawError, rawRequest, sendTracked } from "./helpers.js";

/** Telegram's layer at the time of writing, as mtcute 0.30 asks for it. */
const NEWER_LAYER = 227;

describe("MTProto as the protocol says, not only as gramjs uses it", () => {
  let srv: RunningTelegramServer;
  let client: TelegramClient;
  const logged: string[] = [];

  before(async () => {
    srv = await startTelegramServer({ control: false, decryptWorkers: 0, log: (line) => logged.push(line) });
    const user = srv.server.createUser({ session: true });
    client = clientFor(srv, user.session!);
    await client.connect();
  });
  after(async () => {
    await closeClient(client);
    await srv.close();
  });

  it("refuses a layer other than gramjs's own with CONNECTION_LAYER_INVALID, a log line and a counter", async () => {
    const before = logged.length;
    const err = await rawError(
      client,
      new Api.InvokeWithLayer({ layer: NEWER_LAYER, query: new Api.help.GetConfig() }),
    );
    assert.equal(err?.code, 400);
    assert.equal(err?.errorMessage, "CONNECTION_LAYER_INVALID");
    assert.equal(srv.server.counters().layersRefused[String(NEWER_LAYER)], 1);
    const line = logged.slice(before).find((l) => l.includes("invokeWithLayer"));
    assert.match(line ?? "", new RegExp(`layer ${NEWER_LAYER}.*layer ${LAYER}`));

    // The same layer that gramjs speaks passes.
    const ok = await client.invoke(
      new Api.InvokeWithLayer({ layer: LAYER, query: new Api.help.GetConfig() }),
    );
    assert.ok(ok instanceof Api.Config);
  });

  it("refuses another layer even when the query inside does not decode with this layer's schema", async () => {
    const body = Buffer.alloc(16);
    body.writeUInt32LE(0xda9b0d0d, 0); // invokeWithLayer
    body.writeInt32LE(NEWER_LAYER, 4);
    body.writeUInt32LE(0x0badc0de, 8); // a constructor layer 198 does not have
    const err = await rawError(client, rawRequest(body));
    assert.equal(err?.errorMessage, "CONNECTION_LAYER_INVALID");
    assert.equal(srv.server.counters().layersRefused[String(NEWER_LAYER)], 2);
    assert.equal(srv.server.counters().undecodable["0x0badc0de"], undefined);
  });

  it("answers a request it cannot decode INPUT_CONSTRUCTOR_INVALID, logs its constructor and length, counts it", async () => {
    const before = logged.length;
    const body = Buffer.alloc(24, 7);
    body.writeUInt32LE(0xdeadbeef, 0);
    const err = await rawError(client, rawRequest(body));
    assert.equal(err?.code, 400);
    assert.equal(err?.errorMessage, "INPUT_CONSTRUCTOR_INVALID");
    const c = srv.server.counters();
    assert.equal(c.undecodable["0xdeadbeef"], 1);
    assert.equal(c.errors.INPUT_CONSTRUCTOR_INVALID, 1);
    const line = logged.slice(before).find((l) => l.includes("undecodable"));
    assert.match(line ?? "", /constructor 0xdeadbeef, 24 bytes/);

    // A known wrapper around an unknown query names the unknown constructor and where it sat.
    const wrapped = Buffer.alloc(12);
    wrapped.writeUInt32LE(0xda9b0d0d, 0);
    wrapped.writeInt32LE(LAYER, 4);
    wrapped.writeUInt32LE(0xfeedface, 8);
    assert.equal((await rawError(client, rawRequest(wrapped)))?.errorMessage, "INPUT_CONSTRUCTOR_INVALID");
    assert.equal(srv.server.counters().undecodable["0xfeedface"], 1);
    assert.match(logged.at(-1) ?? "", /constructor 0xfeedface inside 0xda9b0d0d, 12 bytes/);
  });

  it("answers msgs_state_req with msgs_state_info: one byte per msg_id, from what the session knows", async () => {
    const first = await sendTracked(client, new Api.help.GetNearestDc());
    assert.ok(first.result instanceof Api.NearestDc);
    // The next request carries gramjs's acknowledgement of the first answer, so the server then knows the
    // client has it.
    await sendTracked(client, new Api.help.GetNearestDc());
    const failed = await sendTracked(client, rawRequest(Buffer.from([0xef, 0xbe, 0xad, 0xde])));
    assert.equal(failed.error?.errorMessage, "INPUT_CONSTRUCTOR_INVALID");

    const between = first.msgId + 2n; // never a client msg_id (those are multiples of 4), within the range
    const tooLow = first.msgId - (600n << 32n); // ten minutes before the session began
    const tooHigh = first.msgId + (60n << 32n); // a minute ahead of anything sent
    const answer = await msgsStateReq(client, [first.msgId, between, tooLow, tooHigh]);

    assert.equal(answer.answeredMsgId, answer.reqMsgId, "req_msg_id is the msgs_state_req's msg_id");
    const answered =
      MsgState.received |
      MsgState.acknowledged |
      MsgState.query |
      MsgState.answered |
      MsgState.answerReceived;
    assert.deepEqual(
      [...answer.info],
      [answered, MsgState.notReceived, MsgState.unknown, MsgState.notReceivedYet],
    );
  });

  it("keeps answering gramjs normally after all of that", async () => {
    const me = (await client.getMe()) as Api.User;
    assert.equal(typeof Number(me.id), "number");
  });
});
