import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Api } from "telegram";
import { TelegramControl, TelegramControlError } from "../support/telegram-control.js";
import { type RunningTelegramServer, startTelegramServer } from "../support/telegram-server/index.js";
import { clientFor, closeClient, rawError, rawRequest } from "./helpers.js";

describe("the control API over HTTP", () => {
  let srv: RunningTelegramServer;
  let control: TelegramControl;

  before(async () => {
    srv = await startTelegramServer({ decryptWorkers: 0 });
    control = new TelegramControl(srv.controlUrl!);
  });
  after(async () => srv.close());

  it("describes the server", async () => {
    const info = await control.info();
    assert.equal(info.mtproto, `127.0.0.1:${srv.mtprotoPort}`);
    assert.equal(info.fingerprint, srv.fingerprint);
    assert.equal(info.publicKeyPem, srv.publicKeyPem);
  });

  it("creates a Premium user whose session needs no login", async () => {
    const user = await control.createUser({ firstName: "Pat", premium: true, session: true });
    const client = clientFor(srv, user.session!);
    try {
      await client.connect();
      const me = (await client.getMe()) as Api.User;
      assert.equal(Number(me.id), user.id);
      assert.equal(me.premium, true);
      const again = clientFor(srv, await control.createSession(user.id));
      await again.connect();
      assert.equal(Number(((await again.getMe()) as Api.User).id), user.id);
      await closeClient(again);
    } finally {
      await closeClient(client);
    }
  });

  it("builds groups and channels, with members, and acts in them", async () => {
    const a = await control.createUser();
    const b = await control.createUser();
    const group = await control.createChat({ kind: "group", title: "Friends", creatorId: a.id });
    assert.equal(group.peerId, `-${group.id}`);
    await assert.rejects(control.sendText(b.id, { chat: group.id }, "let me in"), TelegramControlError);
    await control.addMember(group.id, b.id);
    const m = await control.sendText(b.id, { chat: group.id }, "hello friends");
    assert.equal(m.fromId, b.id);
    await control.removeMember(group.id, b.id);
    await assert.rejects(control.sendText(b.id, { chat: group.id }, "again"), /cannot write/);
    const texts = (await control.messages({ chat: group.id })).map((x) => x.text);
    assert.deepEqual(texts, ["hello friends"]);
  });

  it("sets and reads conditions, faults and counters, and refuses bad input with 400", async () => {
    assert.deepEqual(await control.setConditions({ bandwidth: 1_000_000, latencyMs: 5 }), {
      bandwidth: 1_000_000,
      latencyMs: 5,
    });
    assert.deepEqual(await control.setConditions({ bandwidth: 0, latencyMs: 0 }), {
      bandwidth: 0,
      latencyMs: 0,
    });
    const faults = await control.setFaults({
      floodWaitShare: 0.5,
      methodFaults: [{ method: "messages.SendMedia", code: 400, message: "FILE_PART_3_MISSING", times: 2 }],
    });
    assert.equal(faults.floodWaitShare, 0.5);
    assert.equal(faults.methodFaults.length, 1);
    await control.setFaults({ floodWaitShare: 0, methodFaults: [] });
    await assert.rejects(
      control.setFaults({ floodWaitShare: 2 }),
      (e: TelegramControlError) => e.status === 400,
    );
    await assert.rejects(
      fetch(`${srv.controlUrl}/nowhere`).then((r) =>
        r.ok ? r : Promise.reject(new Error(String(r.status))),
      ),
      /404/,
    );
    const c = await control.counters();
    assert.equal(typeof c.connectionsTotal, "number");
  });

  it("shows undecodable requests and refused layers in the counters", async () => {
    const user = await control.createUser({ session: true });
    const client = clientFor(srv, user.session!);
    try {
      await client.connect();
      const body = Buffer.alloc(8);
      body.writeUInt32LE(0xc0ffee00, 0);
      assert.equal((await rawError(client, rawRequest(body)))?.errorMessage, "INPUT_CONSTRUCTOR_INVALID");
      body.writeUInt32LE(0xda9b0d0d, 0); // invokeWithLayer with layer 1
      body.writeInt32LE(1, 4);
      assert.equal((await rawError(client, rawRequest(body)))?.errorMessage, "CONNECTION_LAYER_INVALID");
      const c = await control.counters();
      assert.equal(c.undecodable["0xc0ffee00"], 1);
      assert.equal(c.layersRefused["1"], 1);
    } finally {
      await closeClient(client);
    }
  });

  it("logs a user in with the code it reads from GET /codes/<phone>, and revokes the session", async () => {
    const user = await control.createUser({ phone: "+44 20 7946 0000", password: "pw", premium: true });
    assert.deepEqual([user.phone, user.hasPassword, user.premium], ["442079460000", true, true]);
    await assert.rejects(control.loginCode("442079460000"), (e: TelegramControlError) => e.status === 404);
    const client = clientFor(srv);
    try {
      await client.start({
        phoneNumber: "+442079460000",
        phoneCode: async () => (await control.loginCode("+44 20 7946 0000")).code,
        password: async () => "pw",
        onError: async () => true,
      });
      assert.equal(Number(((await client.getMe()) as Api.User).id), user.id);
      assert.equal(await control.revokeSession(user.id), 1);
      await assert.rejects(client.getMe(), /SESSION_REVOKED/);
    } finally {
      await closeClient(client);
    }
  });

  it("acts as a user editing and deleting, and reads and sets the update log", async () => {
    const a = await control.createUser();
    const b = await control.createUser();
    const chat = { user: a.id, peer: b.id };
    const before = await control.updateState(b.id);
    const m = await control.sendText(a.id, chat, "draft");
    assert.equal((await control.editText(a.id, chat, m.id, "final")).text, "final");
    assert.deepEqual(await control.deleteMessages(a.id, chat, [m.id]), [m.id]);
    const after = await control.updateState(b.id);
    assert.deepEqual([after.pts - before.pts, after.seq - before.seq, after.logged], [3, 3, 3]);
    assert.deepEqual(await control.updateLog(), { sliceSize: 100, maxEntries: 10_000 });
    assert.deepEqual(await control.setUpdateLog({ maxEntries: 2 }), { sliceSize: 100, maxEntries: 2 });
    assert.equal((await control.updateState(b.id)).logged, 2);
    await control.setUpdateLog({ maxEntries: 10_000 });
    await assert.rejects(
      control.setUpdateLog({ sliceSize: 0 }),
      (e: TelegramControlError) => e.status === 400,
    );
  });

  it("drops a user's connections on demand; the client reconnects", async () => {
    const user = await control.createUser({ session: true });
    const client = clientFor(srv, user.session!);
    try {
      await client.connect();
      const before = (await control.counters()).connectionsTotal;
      assert.equal((await control.dropConnections(user.id)).dropped, 1);
      await client.getMe(); // waits for gramjs's reconnect
      assert.equal((await control.counters()).connectionsTotal, before + 1);
    } finally {
      await closeClient(client);
    }
  });
});
