import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Api, type TelegramClient } from "telegram";
import { returnBigInt } from "telegram/Helpers.js";
import { type RunningTelegramServer, startTelegramServer } from "../support/telegram-server/index.js";
import type { UserView } from "../support/telegram-server/server.js";
import { botClient, clientFor, closeClient } from "./helpers.js";
import { watchClient } from "./watch-client.js";

function inputPeer(u: UserView): Api.InputPeerUser {
  return new Api.InputPeerUser({ userId: returnBigInt(u.id), accessHash: returnBigInt(u.accessHash) });
}

function rid() {
  return returnBigInt(randomBytes(8).readBigInt64LE(0));
}

function getState(client: TelegramClient) {
  return client.invoke(new Api.updates.GetState());
}

function getDifference(client: TelegramClient, s: Api.updates.State, ptsTotalLimit?: number) {
  return client.invoke(
    new Api.updates.GetDifference({ pts: s.pts, date: s.date, qts: s.qts, ptsTotalLimit }),
  );
}

/** The fields a client keeps of a state. */
function plain(s: Api.updates.State) {
  return { pts: s.pts, qts: s.qts, date: s.date, seq: s.seq };
}

function texts(d: Api.updates.TypeDifference): string[] {
  assert.ok(d instanceof Api.updates.Difference || d instanceof Api.updates.DifferenceSlice, d.className);
  return d.newMessages.map((m) => (m as Api.Message).message);
}

describe("update state: pts, seq and getDifference as Telegram keeps them", () => {
  let srv: RunningTelegramServer;

  before(async () => {
    srv = await startTelegramServer({ control: false, decryptWorkers: 0 });
  });
  after(async () => srv.close());

  it("pushes each update with the pts its account's box gave it, in Updates with the account's seq and date", async () => {
    const { bot, client } = await botClient(srv, "pts_bot");
    const alice = srv.server.createUser();
    const chat = { user: alice.id, peer: bot.id };
    try {
      const cap = watchClient(client);
      const buttons = new Api.ReplyInlineMarkup({
        rows: [
          new Api.KeyboardButtonRow({
            buttons: [new Api.KeyboardButtonCallback({ text: "go", data: Buffer.from("go") })],
          }),
        ],
      });
      await client.invoke(
        new Api.messages.SendMessage({
          peer: inputPeer(alice),
          message: "press me",
          randomId: rid(),
          replyMarkup: buttons,
        }),
      );
      const s0 = await getState(client);

      const m = srv.server.sendText(alice.id, chat, "one");
      srv.server.editText(alice.id, chat, m.id, "one, edited");
      srv.server.deleteMessages(alice.id, chat, [m.id]);
      const withButton = srv.server.messages(chat).find((x) => x.text === "press me")!;
      const pressed = srv.server.pressButton(alice.id, chat, withButton.id, { data: "go" });
      const query = await cap.waitFor((u) => u.updates.some((x) => x instanceof Api.UpdateBotCallbackQuery));
      const q = query.updates[0] as Api.UpdateBotCallbackQuery;
      await client.invoke(new Api.messages.SetBotCallbackAnswer({ queryId: q.queryId, cacheTime: 0 }));
      assert.equal((await pressed).answered, true);

      const pushed = cap.received.filter((u) => u.seq > s0.seq) as Api.Updates[];
      assert.deepEqual(
        pushed.map((u) => [u.className, u.seq, u.updates.map((x) => x.className)]),
        [
          ["Updates", s0.seq + 1, ["UpdateNewMessage"]],
          ["Updates", s0.seq + 2, ["UpdateEditMessage"]],
          ["Updates", s0.seq + 3, ["UpdateDeleteMessages"]],
          ["Updates", s0.seq + 4, ["UpdateBotCallbackQuery"]],
        ],
      );
      const [created, edited, deleted] = pushed.map((u) => u.updates[0]) as [
        Api.UpdateNewMessage,
        Api.UpdateEditMessage,
        Api.UpdateDeleteMessages,
      ];
      assert.deepEqual(
        [created, edited, deleted].map((u) => [u.pts, u.ptsCount]),
        [
          [s0.pts + 1, 1],
          [s0.pts + 2, 1],
          [s0.pts + 3, 1],
        ],
      );
      assert.deepEqual(deleted.messages, [m.id]);
      const dates = pushed.map((u) => u.date);
      assert.ok(dates[0]! >= s0.date && dates[1]! >= dates[0]! && dates[2]! >= dates[1]!, `${dates}`);
      assert.ok(dates[3]! > dates[2]!, "an update without pts is dated strictly after the one before");

      // The bot's own message: its box moves on, the update comes back in the answer, not as a push.
      const sent = (await client.invoke(
        new Api.messages.SendMessage({ peer: inputPeer(alice), message: "mine", randomId: rid() }),
      )) as Api.Updates;
      assert.equal(sent.seq, s0.seq + 5);
      const own = sent.updates.find((u) => u instanceof Api.UpdateNewMessage) as Api.UpdateNewMessage;
      assert.deepEqual([own.pts, own.ptsCount], [s0.pts + 4, 1]);
      srv.server.sendText(alice.id, chat, "two");
      await cap.waitFor((u) =>
        u.updates.some(
          (x) =>
            x instanceof Api.UpdateNewMessage &&
            x.message instanceof Api.Message &&
            x.message.message === "two",
        ),
      );
      assert.ok(
        !cap.received.some((u) =>
          u.updates.some(
            (x) => x instanceof Api.UpdateNewMessage && (x.message as Api.Message).message === "mine",
          ),
        ),
        "pushed back to the session that sent it",
      );
      assert.deepEqual(plain(await getState(client)), {
        pts: s0.pts + 5,
        qts: 0,
        seq: s0.seq + 6,
        date: cap.received.at(-1)!.date,
      });
    } finally {
      await closeClient(client);
    }
  });

  it("gives a bot that was away what it missed, without its own messages, then differenceEmpty", async () => {
    const { bot, client: first } = await botClient(srv, "away_bot");
    const alice = srv.server.createUser();
    const chat = { user: alice.id, peer: bot.id };
    let client: TelegramClient | undefined;
    try {
      await first.invoke(
        new Api.messages.SendMessage({
          peer: inputPeer(alice),
          message: "press me",
          randomId: rid(),
          replyMarkup: new Api.ReplyInlineMarkup({
            rows: [
              new Api.KeyboardButtonRow({
                buttons: [new Api.KeyboardButtonCallback({ text: "go", data: Buffer.from("go") })],
              }),
            ],
          }),
        }),
      );
      const s0 = await getState(first);
      await first.invoke(
        new Api.messages.SendMessage({ peer: inputPeer(alice), message: "mine", randomId: rid() }),
      );
      const session = String(first.session.save());
      await closeClient(first);

      // While the bot is away.
      const withButton = srv.server.messages(chat).find((x) => x.text === "press me")!;
      srv.server.sendText(alice.id, chat, "first");
      const second = srv.server.sendText(alice.id, chat, "second");
      srv.server.editText(alice.id, chat, second.id, "second, edited");
      const third = srv.server.sendText(alice.id, chat, "third");
      srv.server.deleteMessages(alice.id, chat, [third.id]);
      assert.equal(
        (await srv.server.pressButton(alice.id, chat, withButton.id, { data: "go" }, 50)).answered,
        false,
      );

      client = clientFor(srv, session);
      await client.connect();
      const d = await getDifference(client, s0);
      assert.ok(d instanceof Api.updates.Difference, d.className);
      assert.deepEqual(texts(d), ["first", "second, edited"]);
      assert.deepEqual(
        d.otherUpdates.map((u) => u.className),
        ["UpdateEditMessage", "UpdateDeleteMessages", "UpdateBotCallbackQuery"],
      );
      assert.deepEqual((d.otherUpdates[1] as Api.UpdateDeleteMessages).messages, [third.id]);
      const query = d.otherUpdates[2] as Api.UpdateBotCallbackQuery;
      assert.equal(Number(query.userId), alice.id);
      assert.equal(query.msgId, withButton.id);
      assert.ok(d.users.some((u) => Number((u as Api.User).id) === alice.id));
      const now = await getState(client);
      assert.deepEqual(plain(d.state), plain(now));
      assert.equal(now.pts, s0.pts + 6, "mine, first, second, its edit, third, its deletion");

      const empty = await getDifference(client, d.state);
      assert.ok(empty instanceof Api.updates.DifferenceEmpty, empty.className);
      assert.deepEqual([empty.date, empty.seq], [now.date, now.seq]);

      // An update without pts counts from the date of the state asked with.
      await srv.server.pressButton(alice.id, chat, withButton.id, { data: "go" }, 50);
      const later = await getDifference(client, d.state);
      assert.ok(later instanceof Api.updates.Difference, later.className);
      assert.deepEqual(
        [later.newMessages.length, later.otherUpdates.map((u) => u.className)],
        [0, ["UpdateBotCallbackQuery"]],
      );
      assert.equal(later.state.pts, now.pts);
    } finally {
      await closeClient(client);
    }
  });

  it("includes a user's outgoing messages from its other sessions, not those of the session asking", async () => {
    const alice = srv.server.createUser();
    const bob = srv.server.createUser();
    const one = clientFor(srv, srv.server.createSession(alice.id));
    const two = clientFor(srv, srv.server.createSession(alice.id));
    try {
      await Promise.all([one.connect(), two.connect()]);
      const capOne = watchClient(one);
      const s0 = await getState(one);
      await one.invoke(
        new Api.messages.SendMessage({ peer: inputPeer(bob), message: "from one", randomId: rid() }),
      );
      await two.invoke(
        new Api.messages.SendMessage({ peer: inputPeer(bob), message: "from two", randomId: rid() }),
      );
      srv.server.sendText(alice.id, { user: alice.id, peer: bob.id }, "from a test");

      const d1 = await getDifference(one, s0);
      const d2 = await getDifference(two, s0);
      assert.deepEqual(texts(d1), ["from two", "from a test"]);
      assert.deepEqual(texts(d2), ["from one", "from a test"]);
      assert.ok((d1 as Api.updates.Difference).newMessages.every((m) => (m as Api.Message).out));
      assert.equal((d1 as Api.updates.Difference).state.pts, s0.pts + 3);

      // Session one was told of the other session's message as it happened.
      const pushed = await capOne.waitFor((u) =>
        u.updates.some(
          (x) => x instanceof Api.UpdateNewMessage && (x.message as Api.Message).message === "from two",
        ),
      );
      assert.equal((pushed.updates[0] as Api.UpdateNewMessage).pts, s0.pts + 2);
    } finally {
      await closeClient(one);
      await closeClient(two);
    }
  });

  it("slices a long difference, and answers differenceTooLong past the log's bound or pts_total_limit", async () => {
    const alice = srv.server.createUser();
    const bob = srv.server.createUser();
    const client = clientFor(srv, srv.server.createSession(alice.id));
    try {
      await client.connect();
      srv.server.setUpdateLog({ sliceSize: 3 });
      const s0 = await getState(client);
      const sent = [...Array(7).keys()].map((i) => `m${i}`);
      for (const t of sent) srv.server.sendText(bob.id, { user: alice.id, peer: bob.id }, t);

      const got: string[] = [];
      let state = s0;
      const kinds: string[] = [];
      for (;;) {
        const d = await getDifference(client, state);
        kinds.push(d.className);
        got.push(...texts(d));
        if (d instanceof Api.updates.DifferenceSlice) {
          assert.equal(d.intermediateState.pts, state.pts + 3);
          state = d.intermediateState;
          continue;
        }
        assert.ok(d instanceof Api.updates.Difference);
        assert.deepEqual(plain(d.state), plain(await getState(client)));
        break;
      }
      assert.deepEqual(kinds, ["updates.DifferenceSlice", "updates.DifferenceSlice", "updates.Difference"]);
      assert.deepEqual(got, sent);

      const now = await getState(client);
      const limited = await getDifference(client, s0, 5);
      assert.ok(limited instanceof Api.updates.DifferenceTooLong, limited.className);
      assert.equal(limited.pts, now.pts);

      // The log keeps 4 updates: from 4 behind, all is there; from 5 behind, a re-sync is needed.
      srv.server.setUpdateLog({ maxEntries: 4, sliceSize: 100 });
      assert.equal(srv.server.updateState(alice.id).logged, 4);
      const tooLong = await getDifference(client, s0);
      assert.ok(tooLong instanceof Api.updates.DifferenceTooLong, tooLong.className);
      assert.equal(tooLong.pts, now.pts);
      const four = await getDifference(client, { ...now, pts: now.pts - 4 } as Api.updates.State);
      assert.deepEqual(texts(four), ["m3", "m4", "m5", "m6"]);
      const five = await getDifference(client, { ...now, pts: now.pts - 5 } as Api.updates.State);
      assert.ok(five instanceof Api.updates.DifferenceTooLong, five.className);
    } finally {
      srv.server.setUpdateLog({ sliceSize: 100, maxEntries: 10_000 });
      await closeClient(client);
    }
  });

  it("keeps each channel's own pts and answers getChannelDifference", async () => {
    const { bot, client } = await botClient(srv, "channel_diff_bot");
    const alice = srv.server.createUser();
    const group = srv.server.createChat({
      kind: "channel",
      megagroup: true,
      creatorId: alice.id,
      members: [bot.id],
    });
    try {
      const cap = watchClient(client);
      const channel = new Api.InputChannel({
        channelId: returnBigInt(group.id),
        accessHash: returnBigInt(group.accessHash),
      });
      const ask = (pts: number, limit: number) =>
        client.invoke(
          new Api.updates.GetChannelDifference({
            channel,
            filter: new Api.ChannelMessagesFilterEmpty(),
            pts,
            limit,
          }),
        );
      const start = await ask(1, 10);
      assert.ok(start instanceof Api.updates.ChannelDifferenceEmpty, start.className);
      const p0 = start.pts;
      const botState = await getState(client);

      for (const t of ["a", "b", "c"]) srv.server.sendText(alice.id, { chat: group.id }, t);
      const last = await cap.waitFor((u) =>
        u.updates.some(
          (x) => x instanceof Api.UpdateNewChannelMessage && (x.message as Api.Message).message === "c",
        ),
      );
      const update = last.updates[0] as Api.UpdateNewChannelMessage;
      assert.deepEqual([update.pts, update.ptsCount, last.seq], [p0 + 3, 1, 0]);
      assert.deepEqual(
        plain(await getState(client)),
        plain(botState),
        "channel updates leave the common box alone",
      );

      const part = await ask(p0, 2);
      assert.ok(part instanceof Api.updates.ChannelDifference, part.className);
      assert.deepEqual(
        [part.final, part.pts, part.newMessages.map((m) => (m as Api.Message).message)],
        [false, p0 + 2, ["a", "b"]],
      );
      const rest = await ask(part.pts, 2);
      assert.ok(rest instanceof Api.updates.ChannelDifference, rest.className);
      assert.deepEqual(
        [rest.final, rest.pts, rest.newMessages.map((m) => (m as Api.Message).message)],
        [true, p0 + 3, ["c"]],
      );
      const done = await ask(rest.pts, 2);
      assert.ok(done instanceof Api.updates.ChannelDifferenceEmpty, done.className);
    } finally {
      await closeClient(client);
    }
  });
});
