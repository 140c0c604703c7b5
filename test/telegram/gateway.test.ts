/**
 * The gateway against the local Telegram server, as the bot layer will use it: what a user sends arrives as our
 * Incoming type, replies and edits reach the user, and chats stay reachable after a restart.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { getPeer } from "../../src/db/peers.js";
import { usernameOf } from "../../src/telegram/chat-ref.js";
import type { IncomingCallback, IncomingMessage } from "../../src/telegram/gateway.js";
import { startGatewayWorld } from "./support/gateway-world.js";

describe("gateway", () => {
  it("hands a user's message over as Incoming and remembers the sender for later sends", async (t) => {
    const world = await startGatewayWorld(t);
    const gateway = await world.open();
    assert.equal(gateway.me.username, "medusa_bot");
    const sent = world.srv.server.sendText(
      world.alice.id,
      { user: world.alice.id, peer: world.bot.id },
      "/start",
    );
    const [incoming] = await world.waitForReceived(1);
    const message = incoming as IncomingMessage;
    assert.equal(message.kind, "message");
    assert.equal(message.text, "/start");
    assert.equal(message.messageId, sent.id);
    assert.equal(message.chatId, world.alice.id);
    assert.equal(message.chatKind, "user");
    assert.equal(message.from.username, "alice");
    assert.equal(message.from.firstName, "Alice");
    assert.equal(message.redelivered, false);
    assert.equal(message.key, `msg:${world.alice.id}:${sent.id}`);
    const peer = await getPeer(world.database.db, world.alice.id);
    assert.ok(peer?.access_hash, "the access hash is stored");

    const reply = await gateway.sendText(message.chatId, "<b>Hello</b> &lt;you&gt;", {
      html: true,
      replyTo: sent.id,
    });
    const seen = await world.srv.server.waitForMessage(
      { user: world.alice.id, peer: world.bot.id },
      (m) => m.id === reply.messageId,
    );
    assert.equal(seen.text, "Hello <you>");
    assert.equal(seen.replyToMsgId, sent.id);
  });

  it("edits a message, says unchanged for the same text, and removes it", async (t) => {
    const world = await startGatewayWorld(t);
    const gateway = await world.open();
    world.srv.server.sendText(world.alice.id, { user: world.alice.id, peer: world.bot.id }, "hi");
    await world.waitForReceived(1);
    const chat = { user: world.alice.id, peer: world.bot.id };
    const { messageId } = await gateway.sendText(world.alice.id, "working… 10%");
    assert.equal(await gateway.editText(world.alice.id, messageId, "working… 50%"), "edited");
    assert.equal(await gateway.editText(world.alice.id, messageId, "working… 50%"), "unchanged");
    const edited = world.srv.server.messages(chat).find((m) => m.id === messageId);
    assert.equal(edited?.text, "working… 50%");
    await gateway.deleteMessages(world.alice.id, [messageId]);
    assert.equal(world.srv.server.messages(chat).find((m) => m.id === messageId)?.deleted, true);
  });

  it("turns a button press into a callback bound to the presser, and answers it", async (t) => {
    const world = await startGatewayWorld(t);
    const gateway = await world.open(async (incoming) => {
      if (incoming.kind === "callback") await gateway.answerCallback(incoming.queryId, { text: "Cancelled" });
    });
    world.srv.server.sendText(world.alice.id, { user: world.alice.id, peer: world.bot.id }, "hi");
    await world.waitForReceived(1);
    const { messageId } = await gateway.sendText(world.alice.id, "Job 7", {
      buttons: [[{ text: "Cancel", data: "cancel:7" }], [{ text: "Site", url: "https://example.com/" }]],
    });
    const answer = await world.srv.server.pressButton(
      world.alice.id,
      { user: world.alice.id, peer: world.bot.id },
      messageId,
      { data: "cancel:7" },
      15_000,
    );
    assert.deepEqual(answer, { answered: true, message: "Cancelled", alert: false });
    const callback = world.received[1] as IncomingCallback;
    assert.equal(callback.kind, "callback");
    assert.equal(callback.data, "cancel:7");
    assert.equal(callback.from.id, world.alice.id);
    assert.equal(callback.messageId, messageId);
    assert.match(callback.key, /^cb:/);
  });

  it("reaches a user after a restart through the stored access hash (gramjs's cache is empty then)", async (t) => {
    const world = await startGatewayWorld(t);
    const first = await world.open();
    world.srv.server.sendText(world.alice.id, { user: world.alice.id, peer: world.bot.id }, "hi");
    await world.waitForReceived(1);
    await first.stop();
    const second = await world.open();
    const { messageId } = await second.sendText(world.alice.id, "still here");
    const seen = await world.srv.server.waitForMessage(
      { user: world.alice.id, peer: world.bot.id },
      (m) => m.id === messageId,
    );
    assert.equal(seen.text, "still here");
  });

  it("downloads a document a user sent, and refuses one over the cap before fetching a byte", async (t) => {
    const world = await startGatewayWorld(t);
    const gateway = await world.open();
    const content = Buffer.from("first: https://example.com/a.mp4\nsecond: https://example.com/b.mp4\n");
    await world.srv.server.sendDocument(
      world.alice.id,
      { user: world.alice.id, peer: world.bot.id },
      {
        name: "links.txt",
        mimeType: "text/plain",
        content,
      },
    );
    const [incoming] = await world.waitForReceived(1);
    const file = (incoming as IncomingMessage).file;
    assert.equal(file?.name, "links.txt");
    assert.equal(file?.size, content.length);
    assert.equal(file?.mimeType, "text/plain");
    if (!file) return;
    const before = world.srv.server.counters().rpcs["upload.GetFile"] ?? 0;
    assert.deepEqual(await gateway.downloadFile(file, { maxBytes: 1024 }), content);
    await assert.rejects(gateway.downloadFile(file, { maxBytes: 10 }), { code: "FILE_TOO_BIG" });
    assert.ok((world.srv.server.counters().rpcs["upload.GetFile"] ?? 0) > before);
    const after = world.srv.server.counters().rpcs["upload.GetFile"] ?? 0;
    await assert.rejects(gateway.downloadFile(file, { maxBytes: 10 }), { code: "FILE_TOO_BIG" });
    assert.equal(
      world.srv.server.counters().rpcs["upload.GetFile"] ?? 0,
      after,
      "no request for a refused file",
    );
  });

  it("finds the file of a message by id in its own chat only (what /batch replies to)", async (t) => {
    const world = await startGatewayWorld(t);
    const gateway = await world.open();
    const chat = { user: world.alice.id, peer: world.bot.id };
    const doc = await world.srv.server.sendDocument(world.alice.id, chat, {
      name: "links.txt",
      mimeType: "text/plain",
      content: Buffer.from("https://example.com/a\n"),
    });
    const text = world.srv.server.sendText(world.alice.id, chat, "no file here");
    const bob = world.srv.server.createUser({ firstName: "Bob" });
    const other = await world.srv.server.sendDocument(
      bob.id,
      { user: bob.id, peer: world.bot.id },
      { name: "other.txt", content: Buffer.from("x") },
    );
    await world.waitForReceived(3);
    const file = await gateway.messageFile(world.alice.id, doc.id);
    assert.equal(file?.name, "links.txt");
    assert.equal(file?.size, 22);
    assert.equal(await gateway.messageFile(world.alice.id, text.id), undefined);
    assert.equal(
      await gateway.messageFile(world.alice.id, other.id),
      undefined,
      "Bob's message is not in Alice's chat",
    );
    assert.equal(await gateway.messageFile(world.alice.id, 999_999), undefined);
  });

  it("resolves a channel by @username and tells whether the bot may post there", async (t) => {
    const world = await startGatewayWorld(t);
    const gateway = await world.open();
    const admin = world.srv.server.createChat({
      kind: "channel",
      title: "Uploads",
      username: "uploads_channel",
      creatorId: world.alice.id,
      admins: [world.bot.id],
    });
    const stranger = world.srv.server.createChat({
      kind: "channel",
      title: "Elsewhere",
      username: "elsewhere_channel",
      creatorId: world.alice.id,
    });
    const info = await gateway.resolveChat("https://t.me/uploads_channel");
    assert.equal(info.kind, "channel");
    assert.equal(info.title, "Uploads");
    assert.equal(info.id, Number(admin.peerId));
    assert.deepEqual(await gateway.canPost(info.id), { ok: true });
    const other = await gateway.resolveChat("@elsewhere_channel");
    assert.equal(other.id, Number(stranger.peerId));
    assert.deepEqual(await gateway.canPost(other.id), { ok: false, reason: "not_member" });
    await assert.rejects(gateway.resolveChat("@nobody_here"), { code: "CHAT_NOT_FOUND" });
    await assert.rejects(gateway.resolveChat("-100999"), { code: "CHAT_UNKNOWN" });
  });

  it("uploads a file once and sends it by reference to the user and a log channel, once per random_id", async (t) => {
    const world = await startGatewayWorld(t);
    const gateway = await world.open();
    world.srv.server.sendText(world.alice.id, { user: world.alice.id, peer: world.bot.id }, "hi");
    await world.waitForReceived(1);
    world.srv.server.createChat({
      kind: "channel",
      title: "Log",
      username: "medusa_log",
      creatorId: world.alice.id,
      admins: [world.bot.id],
    });
    const log = await gateway.resolveChat("@medusa_log");
    const content = randomBytes(3 * 1024 * 1024 + 5);
    const file = join(world.dir, "clip.bin");
    await writeFile(file, content);
    const saved = () => world.srv.server.counters().rpcs["upload.SaveFilePart"] ?? 0;
    const before = saved();
    const uploaded = await gateway.uploadFile(file);
    const stored = await gateway.storeDocument(world.alice.id, {
      file: uploaded,
      fileName: "clip.bin",
      mimeType: "application/octet-stream",
    });
    const parts = saved() - before;
    assert.equal(parts, 7, "3 MiB + 5 bytes is 7 parts of 512 KiB");
    const toAlice = await gateway.sendDocument(world.alice.id, stored, {
      randomId: 11n,
      caption: "<b>clip.bin</b> 3.0 MiB",
      html: true,
    });
    const toLog = await gateway.sendDocument(log.id, stored, { randomId: 12n, caption: "#u1 log card" });
    assert.equal(saved() - before, parts, "no part uploaded again for the sends");
    assert.equal(toAlice.duplicate, false);
    const again = await gateway.sendDocument(world.alice.id, stored, { randomId: 11n, caption: "again" });
    assert.deepEqual(
      again,
      { messageId: undefined, duplicate: true },
      "the same random_id posts nothing new",
    );
    const sha = createHash("sha256").update(content).digest("hex");
    const inChat = world.srv.server
      .messages({ user: world.alice.id, peer: world.bot.id })
      .filter((m) => m.media);
    assert.equal(inChat.length, 1);
    assert.equal(inChat[0]?.media?.sha256, sha);
    assert.equal(inChat[0]?.text, "clip.bin 3.0 MiB");
    const inLog = world.srv.server.messages({ chat: Number(String(log.id).slice(4)) }).filter((m) => m.media);
    assert.equal(inLog[0]?.id, toLog.messageId);
    assert.equal(inLog[0]?.media?.sha256, sha);
  });

  it("reads chat references the way operators write them", () => {
    assert.equal(usernameOf("@Uploads_bot"), "Uploads_bot");
    assert.equal(usernameOf("https://t.me/some_channel"), "some_channel");
    assert.equal(usernameOf("t.me/some_channel/"), "some_channel");
    assert.equal(usernameOf("-1001234567890"), undefined);
    assert.equal(usernameOf("@x"), undefined, "too short for a username");
  });
});
