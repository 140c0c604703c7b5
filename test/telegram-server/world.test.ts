import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Api, type TelegramClient } from "telegram";
import { NewMessage, type NewMessageEvent } from "telegram/events/index.js";
import { type RunningTelegramServer, startTelegramServer } from "../support/telegram-server/index.js";
import type { UserView } from "../support/telegram-server/server.js";
import { botClient, clientFor, closeClient, EVENT_TIMEOUT_MS, sha256File, withTimeout } from "./helpers.js";

describe("the world: users, groups, channels and messages as gramjs sees them", () => {
  let srv: RunningTelegramServer;
  let dir: string;
  let bot: UserView;
  let botTg: TelegramClient;
  let alice: UserView;
  let aliceTg: TelegramClient;

  before(async () => {
    srv = await startTelegramServer();
    dir = await mkdtemp(path.join(os.tmpdir(), "tg-world-"));
    ({ bot, client: botTg } = await botClient(srv, "world_bot"));
    alice = srv.server.createUser({ username: "alice", premium: true, session: true });
    aliceTg = clientFor(srv, alice.session!);
    await aliceTg.connect();
  });
  after(async () => {
    await closeClient(botTg);
    await closeClient(aliceTg);
    await srv.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("delivers a user session's message to the bot, and the bot's reply back to the user", async () => {
    const botHears = new Promise<NewMessageEvent>((resolve) =>
      botTg.addEventHandler(resolve, new NewMessage({})),
    );
    const aliceHears = new Promise<NewMessageEvent>((resolve) =>
      aliceTg.addEventHandler(resolve, new NewMessage({ incoming: true })),
    );
    await aliceTg.sendMessage("@world_bot", { message: "/start" });
    const e = await withTimeout(botHears, EVENT_TIMEOUT_MS, "bot NewMessage");
    assert.equal(e.message.message, "/start");
    await e.message.respond({ message: "welcome" });
    const back = await withTimeout(aliceHears, EVENT_TIMEOUT_MS, "user NewMessage");
    assert.equal(back.message.message, "welcome");
    assert.equal(Number(back.message.senderId), bot.id);
  });

  it("resolves usernames, reads channel membership and admin rights", async () => {
    const chan = srv.server.createChat({
      kind: "channel",
      title: "Log",
      username: "medusa_log",
      creatorId: alice.id,
      admins: [bot.id],
    });
    const entity = (await botTg.getEntity("@medusa_log")) as Api.Channel;
    assert.equal(Number(entity.id), chan.id);
    assert.equal(entity.broadcast, true);
    const botPart = await botTg.invoke(
      new Api.channels.GetParticipant({ channel: entity, participant: new Api.InputPeerSelf() }),
    );
    assert.ok(botPart.participant instanceof Api.ChannelParticipantAdmin);
    const alicePart = await botTg.invoke(
      new Api.channels.GetParticipant({ channel: entity, participant: "@alice" }),
    );
    assert.ok(alicePart.participant instanceof Api.ChannelParticipantCreator);
    const stranger = srv.server.createUser({ username: "stranger" });
    await assert.rejects(
      botTg.invoke(new Api.channels.GetParticipant({ channel: entity, participant: "@stranger" })),
      /USER_NOT_PARTICIPANT/,
    );
    const chats = await botTg.invoke(new Api.channels.GetChannels({ id: [entity] }));
    assert.equal((chats.chats[0] as Api.Channel).title, "Log");
    assert.equal(stranger.bot, false);
  });

  it("posts, edits, reads and deletes channel messages", async () => {
    const chan = srv.server.createChat({
      kind: "channel",
      username: "posts",
      creatorId: alice.id,
      admins: [bot.id],
    });
    const sent = await botTg.sendMessage("@posts", { message: "draft" });
    await botTg.editMessage("@posts", { message: sent.id, text: "final" });
    const [read] = await botTg.getMessages("@posts", { ids: [sent.id] });
    assert.equal(read?.message, "final");
    await assert.rejects(
      botTg.editMessage("@posts", { message: sent.id, text: "final" }),
      /MESSAGE_NOT_MODIFIED/,
    );
    await botTg.deleteMessages("@posts", [sent.id], { revoke: true });
    const stored = srv.server.messages({ chat: chan.id });
    assert.deepEqual(
      stored.map((m) => [m.text, m.deleted, m.edits.map((x) => x.text)]),
      [["final", true, ["draft"]]],
    );
    const outsider = srv.server.createChat({ kind: "channel", username: "closed", creatorId: alice.id });
    await assert.rejects(botTg.sendMessage("@closed", { message: "hi" }), /CHAT_WRITE_FORBIDDEN/);
    assert.equal(srv.server.messages({ chat: outsider.id }).length, 0);
  });

  it("hears members in a supergroup and lets the bot reply there", async () => {
    const group = srv.server.createChat({
      kind: "channel",
      megagroup: true,
      creatorId: alice.id,
      members: [bot.id],
    });
    const heard = new Promise<NewMessageEvent>((resolve) =>
      botTg.addEventHandler((e: NewMessageEvent) => (e.isGroup ? resolve(e) : undefined), new NewMessage({})),
    );
    srv.server.sendText(alice.id, { chat: group.id }, "/help in group");
    const e = await withTimeout(heard, EVENT_TIMEOUT_MS, "group NewMessage");
    assert.equal(e.message.message, "/help in group");
    assert.equal(e.chatId?.toString(), group.peerId);
    await e.message.reply({ message: "here to help" });
    const reply = await srv.server.waitForMessage(
      { chat: group.id },
      (m) => m.text === "here to help",
      EVENT_TIMEOUT_MS,
    );
    assert.equal(reply.replyToMsgId, e.message.id);
  });

  it("sends albums, forwards by reference, and deletes private messages", async () => {
    const a = path.join(dir, "a.bin");
    const b = path.join(dir, "b.bin");
    await writeFile(a, randomBytes(300_000));
    await writeFile(b, randomBytes(700_000));
    // For a list of files gramjs returns the album's messages, though its type says one message.
    const album = (await botTg.sendFile("@alice", {
      file: [a, b],
      forceDocument: true,
      caption: ["one", "two"],
    })) as unknown as Api.Message[];
    assert.equal(album.length, 2);
    const chat = { user: alice.id, peer: bot.id };
    const stored = srv.server.messages(chat).filter((m) => album.some((x) => x.id === m.id));
    assert.deepEqual(
      stored.map((m) => m.media?.sha256),
      [await sha256File(a), await sha256File(b)],
    );
    const log = srv.server.createChat({
      kind: "channel",
      username: "fwd_log",
      creatorId: alice.id,
      admins: [bot.id],
    });
    const fwd = await botTg.forwardMessages("@fwd_log", { messages: [album[0]!.id], fromPeer: "@alice" });
    assert.equal(fwd.length, 1);
    const copy = srv.server.messages({ chat: log.id })[0]!;
    assert.equal(copy.media?.sha256, await sha256File(a));
    assert.equal(srv.server.documents().filter((d) => d.sha256 === copy.media?.sha256).length, 1);

    await botTg.deleteMessages("@alice", [album[1]!.id], { revoke: true });
    assert.equal(srv.server.messages(chat).find((m) => m.id === album[1]!.id)?.deleted, true);
  });

  it("serves documents users send, and their thumbnails, through upload.getFile", async () => {
    const heard = new Promise<NewMessageEvent>((resolve) =>
      botTg.addEventHandler(
        (e: NewMessageEvent) => (e.message.document ? resolve(e) : undefined),
        new NewMessage({}),
      ),
    );
    const content = randomBytes(2 * 1024 * 1024 + 123); // several 1 MiB getFile chunks and a ragged end
    const thumb = randomBytes(5000);
    await srv.server.sendDocument(
      alice.id,
      { user: alice.id, peer: bot.id },
      { name: "batch.txt", content, thumb },
    );
    const e = await withTimeout(heard, EVENT_TIMEOUT_MS, "document NewMessage");
    const doc = e.message.document!;
    assert.equal(Number(doc.size), content.length);
    const file = (await botTg.downloadMedia(e.message, {})) as Buffer;
    assert.equal(Buffer.compare(file, content), 0);
    const t = (await botTg.downloadMedia(e.message, { thumb: 0 })) as Buffer;
    assert.equal(Buffer.compare(t, thumb), 0);
  });

  it("keeps a video's attributes and thumbnail as the bot sent them", async () => {
    const video = path.join(dir, "clip.mp4");
    await writeFile(video, randomBytes(12 * 1024 * 1024)); // over 10 MiB: a big upload
    const thumb = randomBytes(9000);
    const sent = await botTg.sendFile("@alice", {
      file: video,
      thumb,
      workers: 4,
      attributes: [
        new Api.DocumentAttributeVideo({ duration: 61, w: 1280, h: 720, supportsStreaming: true }),
      ],
    });
    const stored = srv.server.messages({ user: alice.id, peer: bot.id }).find((m) => m.id === sent.id)!;
    assert.equal(stored.media?.mimeType, "video/mp4");
    assert.equal(stored.media?.hasThumb, true);
    assert.equal(stored.media?.sha256, await sha256File(video));
    assert.deepEqual(
      stored.media?.attributes.find((a) => a.type === "video"),
      { type: "video", duration: 61, w: 1280, h: 720, supportsStreaming: true },
    );
    // The user's side downloads the thumbnail the bot uploaded.
    const [msg] = await aliceTg.getMessages("@world_bot", { ids: [sent.id] });
    const t = (await aliceTg.downloadMedia(msg!, { thumb: 0 })) as Buffer;
    assert.equal(Buffer.compare(t, thumb), 0);
  });

  it("stores bot commands and answers unknown methods clearly", async () => {
    const ok = await botTg.invoke(
      new Api.bots.SetBotCommands({
        scope: new Api.BotCommandScopeDefault(),
        langCode: "",
        commands: [new Api.BotCommand({ command: "start", description: "Start" })],
      }),
    );
    assert.equal(ok, true);
    assert.deepEqual(srv.server.world.users.get(bot.id)?.commands, [
      { command: "start", description: "Start" },
    ]);
    await assert.rejects(
      botTg.invoke(new Api.messages.GetDialogFilters()),
      /METHOD_NOT_IMPLEMENTED_MESSAGES_GETDIALOGFILTERS/,
    );
  });
});
