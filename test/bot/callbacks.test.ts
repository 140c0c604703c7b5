/** Button presses: the menu acts for the user it was sent to; forged, foreign and strangers' presses act on nothing. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BotContext } from "../../src/bot/context.js";
import { UserError } from "../../src/errors.js";
import { startBotWorld, WAIT_MS } from "./support/bot-world.js";

describe("callbacks", () => {
  it("the /start menu shows the presser's queue and help", async (t) => {
    const w = await startBotWorld(t);
    await w.say(w.user, "https://example.com/a.mp4");
    const menu = await w.say(w.user, "/start");
    const answer = await w.srv.server.pressButton(
      w.user.id,
      w.chat(w.user),
      menu.id,
      { data: `m:queue:${w.user.id}` },
      WAIT_MS,
    );
    assert.deepEqual(answer, { answered: true, message: null, alert: false });
    const queue = await w.replyAfter(w.chat(w.user), menu.id);
    assert.match(
      queue.text,
      /^Your queue · 0 running, 1 waiting in all\n#\d+ · https:\/\/example\.com\/a\.mp4 · place 1$/,
    );
    await w.srv.server.pressButton(w.user.id, w.chat(w.user), menu.id, { text: "❓ Help" }, WAIT_MS);
    assert.match((await w.replyAfter(w.chat(w.user), queue.id)).text, /^Commands\n/);
  });

  it("refuses forged data and acts on nothing", async (t) => {
    const w = await startBotWorld(t);
    await w.say(w.user, "https://example.com/a.mp4");
    const menu = await w.say(w.user, "/start");
    for (const data of [
      "m:cancel:1",
      `m:queue:${w.user.id}:x`,
      "m:queue:0",
      "m:queue:1e3",
      "x".repeat(64),
      "",
    ]) {
      const answer = await w.srv.server.pressButton(
        w.user.id,
        w.chat(w.user),
        menu.id,
        { data, forged: true },
        WAIT_MS,
      );
      assert.deepEqual(
        answer,
        { answered: true, message: "This button is no longer valid.", alert: true },
        data,
      );
    }
    await w.barrier();
    assert.deepEqual(w.botMessages(w.chat(w.user), menu.id), [], "no reply to a forged press");
    const jobs = await w.database.db.selectFrom("jobs").select("status").execute();
    assert.deepEqual(jobs, [{ status: "queued" }]);
  });

  it("refuses a press on someone else's button in a group, and a stranger's press", async (t) => {
    const w = await startBotWorld(t);
    const group = w.srv.server.createChat({
      kind: "group",
      title: "Team",
      creatorId: w.owner.id,
      members: [w.user.id, w.admin.id, w.stranger.id, w.botUser.id],
    });
    const chat = { chat: group.id };
    const sent = w.srv.server.sendText(w.user.id, chat, "/start@medusa_bot");
    const menu = await w.srv.server.waitForMessage(
      chat,
      (m) => m.fromId === w.botUser.id && m.id > sent.id,
      WAIT_MS,
    );
    assert.equal(menu.replyToMsgId, sent.id, "in a group the bot replies to the message");
    const admin = await w.srv.server.pressButton(w.admin.id, chat, menu.id, { text: "📋 My queue" }, WAIT_MS);
    assert.deepEqual(admin, { answered: true, message: "This button belongs to someone else.", alert: true });
    const stranger = await w.srv.server.pressButton(
      w.stranger.id,
      chat,
      menu.id,
      { text: "❓ Help" },
      WAIT_MS,
    );
    assert.deepEqual(stranger, {
      answered: true,
      message: `You do not have access to this bot. Your id is ${w.stranger.id}: send it to the owner.`,
      alert: true,
    });
    // Chatter and commands for other bots in a group get no access notice; a command for this bot does.
    w.srv.server.sendText(w.stranger.id, chat, "hello all");
    w.srv.server.sendText(w.stranger.id, chat, "/start@other_bot");
    w.srv.server.sendText(w.stranger.id, chat, "/start");
    const asked = w.srv.server.sendText(w.stranger.id, chat, "/start@medusa_bot");
    const notice = await w.srv.server.waitForMessage(
      chat,
      (m) => m.fromId === w.botUser.id && m.id > asked.id,
      WAIT_MS,
    );
    assert.match(notice.text, /^You do not have access to this bot yet\./);
    assert.equal(notice.replyToMsgId, asked.id);
    assert.deepEqual(
      w.srv.server
        .messages(chat, false)
        .filter((m) => m.fromId === w.botUser.id)
        .map((m) => m.id),
      [menu.id, notice.id],
    );
  });

  it("routes the live status's buttons (st:…) to the status hooks, after the loader", async (t) => {
    const seen: string[] = [];
    const tracked: number[] = [];
    const w = await startBotWorld(t, {
      status: {
        async handleCallback(ctx: BotContext) {
          if (ctx.incoming.kind === "callback") seen.push(`${ctx.incoming.from.id} ${ctx.incoming.data}`);
          await ctx.answer("status got it");
        },
        track: (chatId) => void tracked.push(chatId),
      },
    });
    await w.say(w.user, "https://example.com/a.mp4");
    assert.deepEqual(tracked, [w.user.id], "queuing from a chat tracks it");
    const menu = await w.say(w.user, "/start");
    const answer = await w.srv.server.pressButton(
      w.user.id,
      w.chat(w.user),
      menu.id,
      { data: "st:c:1", forged: true },
      WAIT_MS,
    );
    assert.equal(answer.message, "status got it");
    await w.database.db.updateTable("users").set({ role: "banned" }).where("id", "=", w.user.id).execute();
    let settled = false;
    const press = w.srv.server
      .pressButton(w.user.id, w.chat(w.user), menu.id, { data: "st:ca", forged: true }, 5_000)
      .then((a) => {
        settled = true;
        return a;
      });
    // Updates are handled in order, and an answer reaches the server before the handler returns: once the
    // owner's /help is answered, the banned user's press was handled, and it was not answered.
    await w.barrier();
    assert.equal(settled, false, "a banned user's press is not answered");
    assert.equal((await press).answered, false);
    assert.deepEqual(seen, [`${w.user.id} st:c:1`]);
  });

  it("without status hooks, a status button says it is not available", async (t) => {
    const w = await startBotWorld(t);
    const menu = await w.say(w.user, "/start");
    const answer = await w.srv.server.pressButton(
      w.user.id,
      w.chat(w.user),
      menu.id,
      { data: "st:ca", forged: true },
      WAIT_MS,
    );
    assert.equal(answer.message, "The live status is not available yet.");
  });

  it("turns an error into a reply and a log line: a UserError says itself, anything else a safe sorry", async (t) => {
    let fail: Error = new UserError("STATUS_BUSY", "status store busy", {
      userMessage: "Busy <now>",
      hint: "Try /queue.",
    });
    const w = await startBotWorld(t, {
      status: {
        async handleCallback() {
          throw fail;
        },
        track: () => {
          throw fail;
        },
      },
    });
    const user = await w.say(w.user, "https://example.com/a.mp4");
    assert.equal(user.text, "⚠️ Busy <now>\nTry /queue.");
    fail = new Error("SQLITE_CORRUPT at /secret/path");
    const internal = await w.say(w.user, "https://example.com/b.mp4");
    assert.equal(
      internal.text,
      "⚠️ Something went wrong on our side. The operator has the details.\nTry again in a minute; if it keeps happening, tell the operator.",
    );
    const menu = await w.say(w.user, "/start");
    const answer = await w.srv.server.pressButton(
      w.user.id,
      w.chat(w.user),
      menu.id,
      { data: "st:ca", forged: true },
      WAIT_MS,
    );
    assert.deepEqual(answer, {
      answered: true,
      message: "Something went wrong on our side. The operator has the details.",
      alert: true,
    });
    const lines = w.logs.filter((l) => l.msg === "update refused" || l.msg === "update failed");
    assert.deepEqual(
      lines.map((l) => [l.msg, l.code]),
      [
        ["update refused", "STATUS_BUSY"],
        ["update failed", "INTERNAL"],
        ["update failed", "INTERNAL"],
      ],
    );
  });
});
