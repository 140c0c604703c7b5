/** /history as users read it: newest first, links to delivered messages, reasons of failures, hostile names literal. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addChat } from "../../src/db/chats.js";
import type { Db } from "../../src/db/database.js";
import type { NewJob } from "../../src/db/schema.js";
import { MESSAGE_LIMIT } from "../../src/jobs/telegram-html.js";
import { startBotWorld } from "./support/bot-world.js";

async function job(db: Db, row: Partial<NewJob> & Pick<NewJob, "user_id">): Promise<number> {
  const inserted = await db
    .insertInto("jobs")
    .values({
      request_chat_id: row.user_id,
      destination_chat_id: row.user_id,
      source_url: "https://example.com/file.bin",
      ...row,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return inserted.id;
}

async function delivered(db: Db, jobId: number, chatId: number, messageId: number): Promise<void> {
  await db
    .insertInto("deliveries")
    .values({
      job_id: jobId,
      chat_id: chatId,
      target: "destination",
      random_id: String(jobId * 7919),
      message_id: messageId,
    })
    .execute();
}

describe("/history", () => {
  it("lists the user's jobs newest first with size, outcome, reason and a link where Telegram gives one", async (t) => {
    const w = await startBotWorld(t);
    const db = w.database.db;
    const u = w.user.id;
    const publicChannel = -1001234567890;
    const privateChannel = -1009876543210;
    await addChat(db, {
      id: publicChannel,
      kind: "channel",
      purpose: "destination",
      title: "Pub",
      username: "pub_files",
    });
    await addChat(db, {
      id: privateChannel,
      kind: "channel",
      purpose: "destination",
      title: "Secret <club>",
    });
    const a = await job(db, { user_id: u, name: "Lecture 1.mp4", status: "done", bytes_total: 1536 });
    await delivered(db, a, u, 41);
    const b = await job(db, {
      user_id: u,
      name: "<b>bold</b> & <a href='x'>",
      status: "done",
      bytes_total: 3 * 1024 * 1024,
      destination_chat_id: publicChannel,
    });
    await delivered(db, b, publicChannel, 7);
    const c = await job(db, {
      user_id: u,
      status: "done",
      bytes_total: 10,
      destination_chat_id: privateChannel,
    });
    await delivered(db, c, privateChannel, 99);
    const d = await job(db, {
      user_id: u,
      name: "broken.zip",
      status: "failed",
      error_code: "HTTP_404",
      error_message: "The site answered 404 <Not Found>",
    });
    const e = await job(db, { user_id: u, name: "stopped.iso", status: "cancelled", bytes_total: 2048 });
    const f = await job(db, { user_id: u, name: "waiting.mkv" });
    await job(db, { user_id: w.admin.id, name: "not yours.mp4", status: "done" });

    const reply = await w.say(w.user, "/history");
    assert.equal(
      reply.text,
      [
        "Your last 6 jobs",
        `#${f} · waiting.mkv · size unknown · ⏳ queued`,
        `#${e} · stopped.iso · 2.0 KiB · ⏹ cancelled`,
        `#${d} · broken.zip · size unknown · ❌ failed: The site answered 404 <Not Found>`,
        `#${c} · https://example.com/file.bin · 10 B · ✅ delivered`,
        `#${b} · <b>bold</b> & <a href='x'> · 3.0 MiB · ✅ delivered`,
        `#${a} · Lecture 1.mp4 · 1.5 KiB · ✅ sent to your chat with me`,
      ].join("\n"),
      "hostile names and reasons render literally",
    );
    const two = await w.say(w.user, "/history 2");
    assert.match(two.text, new RegExp(`^Your last 2 jobs\\n#${f} .*\\n#${e} .*$`));
    assert.match(
      (await w.say(w.user, "/history lots")).text,
      /^\/history shows your last 10 jobs; \/history 30 up to 50\.$/,
    );
    assert.equal(
      (await w.say(w.admin, "/history 1")).text,
      `Your last 1 jobs\n#${f + 1} · not yours.mp4 · size unknown · ✅ sent to your chat with me`,
    );
    assert.equal((await w.say(w.owner, "/history")).text, "You have no jobs yet. Send a link to start.");
    assert.match((await w.say(w.stranger, "/history")).text, /^You do not have access to this bot yet\./);
    assert.match((await w.say(w.russian, "/history")).text, /^У вас пока нет задач\./);
  });

  it("links to the delivered message: t.me/<username>/<id> for a public channel, t.me/c/<id>/<msg> otherwise", async (t) => {
    const w = await startBotWorld(t);
    const db = w.database.db;
    const u = w.user.id;
    await addChat(db, {
      id: -1001234567890,
      kind: "channel",
      purpose: "destination",
      title: "Pub",
      username: "pub_files",
    });
    await addChat(db, { id: -1009876543210, kind: "channel", purpose: "destination", title: "Closed" });
    const pub = await job(db, { user_id: u, name: "a", status: "done", destination_chat_id: -1001234567890 });
    await delivered(db, pub, -1001234567890, 7);
    const closed = await job(db, {
      user_id: u,
      name: "b",
      status: "done",
      destination_chat_id: -1009876543210,
    });
    await delivered(db, closed, -1009876543210, 99);
    await addChat(db, { id: -4321, kind: "group", purpose: "destination", title: "Team <x>" });
    const group = await job(db, { user_id: u, name: "c", status: "done", destination_chat_id: -4321 });
    await delivered(db, group, -4321, 3);
    const sent: string[] = [];
    const original = w.gateway.sendText.bind(w.gateway);
    w.gateway.sendText = async (chatId, text, options) => {
      sent.push(text);
      return original(chatId, text, options);
    };
    await w.say(w.user, "/history");
    assert.match(sent.at(-1) ?? "", /<a href="https:\/\/t\.me\/c\/9876543210\/99">delivered<\/a>/);
    assert.match(sent.at(-1) ?? "", /<a href="https:\/\/t\.me\/pub_files\/7">delivered<\/a>/);
    assert.match(
      sent.at(-1) ?? "",
      /\n#\d+ · c · size unknown · ✅ delivered to Team &lt;x&gt;\n/,
      "no link into a basic group",
    );
  });

  it("caps the count at 50 and splits a long list over messages of at most 4096 characters", async (t) => {
    const w = await startBotWorld(t);
    const db = w.database.db;
    const long = "n".repeat(290);
    for (let i = 0; i < 55; i++) await job(db, { user_id: w.user.id, name: `${i} ${long}`, status: "done" });
    const sent = w.send(w.user, "/history 999");
    await w.barrier();
    const replies = w.botMessages(w.chat(w.user), sent.id).filter((m) => m.text.includes(long));
    assert.ok(replies.length >= 4, `split over ${replies.length} messages`);
    for (const m of replies) assert.ok(m.text.length <= MESSAGE_LIMIT, `${m.text.length} characters`);
    const lines = replies.flatMap((m) => m.text.split("\n")).filter((l) => l.startsWith("#"));
    assert.equal(lines.length, 50, "fifty jobs, each on a line of its own");
    assert.match(lines[0] ?? "", /^#55 · 54 n+ · size unknown · ✅ sent to your chat with me$/);
    assert.match(lines[49] ?? "", /^#6 · 5 n+ /);
  });
});
