/**
 * The owner's commands through the local Telegram server: /backup arrives as a document that opens as the database,
 * /limits changes the per-user limits that enqueue enforces, /features switches that take effect on the next
 * message, and an admin's /health.
 */
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { openDatabase } from "../../src/db/database.js";
import { listEvents } from "../../src/db/events.js";
import { getBotSetting } from "../../src/db/settings.js";
import { getUser } from "../../src/db/users.js";
import { type BotWorld, startBotWorld, WAIT_MS } from "./support/bot-world.js";

const GIB = 1024 ** 3;

async function queuedFor(w: BotWorld, userId: number): Promise<number> {
  const jobs = await w.database.db.selectFrom("jobs").select("id").where("user_id", "=", userId).execute();
  return jobs.length;
}

describe("owner commands", () => {
  it("/backup sends the owner a document that opens as the database with its rows, and leaves no temp file", async (t) => {
    const w = await startBotWorld(t);
    await w.say(w.user, "https://example.com/a.mp4");
    const before = await fs.readdir(w.dir);
    const sent = w.send(w.owner, "/backup");
    const doc = await w.srv.server.waitForMessage(
      w.chat(w.owner),
      (m) => m.id > sent.id && m.media !== null,
      WAIT_MS,
    );
    assert.equal(doc.media?.kind, "document");
    assert.match(doc.media?.name ?? "", /^medusa-\d{4}-\d{2}-\d{2}T[\d-]+Z\.db$/);
    assert.match(doc.text, /^Medusa database backup, [\d.]+ (KiB|MiB)$/);
    const record = [...w.srv.server.world.documents.values()].find((d) => d.sha256 === doc.media?.sha256);
    assert.ok(record, "the server assembled the document");
    await fs.mkdir(path.join(w.dir, "received"));
    const copy = path.join(w.dir, "received", "medusa.db");
    await fs.copyFile(record.path, copy);
    const opened = openDatabase(copy, { readonly: true });
    t.after(() => opened.close());
    const users = opened.sqlite.prepare("SELECT id, role FROM users ORDER BY id").all() as {
      id: number;
      role: string;
    }[];
    assert.ok(users.some((u) => u.id === w.owner.id && u.role === "owner"));
    assert.ok(users.some((u) => u.id === w.banned.id && u.role === "banned"));
    const jobs = opened.sqlite.prepare("SELECT source_url FROM jobs").all();
    assert.deepEqual(jobs, [{ source_url: "https://example.com/a.mp4" }]);
    assert.equal(opened.sqlite.pragma("integrity_check", { simple: true }), "ok");
    await w.barrier(); // the bot removes its temp dir once the send returned
    assert.deepEqual(
      (await fs.readdir(w.dir)).filter((f) => f.startsWith("backup-")),
      [],
      "temp dir removed",
    );
    assert.deepEqual(
      (await fs.readdir(w.dir)).filter((f) => !before.includes(f)),
      ["received"],
    );
    assert.equal((await listEvents(w.database.db, { action: "db.backup" })).length, 1);
  });

  it("/limits shows the limits, sets and resets them, and refuses bad values", async (t) => {
    const w = await startBotWorld(t, {
      limits: { jobsPerHour: 100, bytesPerDay: 10 * GIB, batchLines: 500 },
    });
    assert.equal(
      (await w.say(w.owner, "/limits")).text,
      [
        "Per-user limits (admins and the owner have none)",
        "jobs_per_hour: 100 (configuration)",
        "bytes_per_day: 10.0 GiB (configuration)",
        "batch_lines: 500 (configuration)",
        "",
        "Change one: /limits jobs_per_hour 30, /limits bytes_per_day 20GiB; /limits batch_lines default goes back to the configuration.",
      ].join("\n"),
    );
    const set = await w.say(w.owner, "/limits jobs_per_hour 30");
    assert.match(set.text, /^Saved jobs_per_hour\.\n\n/);
    assert.match(set.text, /jobs_per_hour: 30 \(set here; the configuration says 100\)/);
    assert.match(
      (await w.say(w.owner, "/limits bytes_per_day 2GiB")).text,
      /bytes_per_day: 2\.0 GiB \(set here/,
    );
    assert.equal(await getBotSetting(w.database.db, "limit.bytes_per_day", null), 2 * GIB);
    assert.equal(
      (await w.say(w.owner, "/limits jobs_per_hour lots")).text,
      "jobs_per_hour takes a whole number from 1 to 1000000, or “default”.",
    );
    assert.equal(
      (await w.say(w.owner, "/limits jobs_per_hour 0")).text,
      "jobs_per_hour takes a whole number from 1 to 1000000, or “default”.",
    );
    assert.equal(
      (await w.say(w.owner, "/limits bytes_per_day 12 parsecs")).text,
      "Write /limits, or /limits NAME VALUE with NAME one of jobs_per_hour, bytes_per_day, batch_lines.",
    );
    assert.match(
      (await w.say(w.owner, "/limits bytes_per_day huge")).text,
      /^bytes_per_day takes a size such as 20GiB/,
    );
    assert.match((await w.say(w.owner, "/limits speed 3")).text, /^Write \/limits, or/);
    assert.match(
      (await w.say(w.owner, "/limits jobs_per_hour default")).text,
      /jobs_per_hour: 100 \(configuration\)/,
    );
    const events = (await listEvents(w.database.db, { action: "limit.set" }))
      .map((e) => [e.subject, JSON.parse(e.data).value])
      .reverse();
    assert.deepEqual(events, [
      ["jobs_per_hour", 30],
      ["bytes_per_day", 2 * GIB],
      ["jobs_per_hour", null],
    ]);
  });

  it("jobs an hour: what fits is queued and the reply names the limit and when it resets; admins have none", async (t) => {
    const w = await startBotWorld(t);
    await w.say(w.owner, "/limits jobs_per_hour 3");
    assert.match(
      (await w.say(w.user, "https://example.com/1.mp4\nhttps://example.com/2.mp4")).text,
      /^Queued 2/,
    );
    const reply = await w.say(w.user, "https://example.com/3.mp4\nhttps://example.com/4.mp4");
    assert.match(reply.text, /^Queued 1\n/);
    assert.match(
      reply.text,
      /1 of 2 queued; the rest went over a limit:\nYou reached the limit of 3 links an hour\. It resets at \d\d:\d\d UTC \(in (59|60) min\); send the rest then\.$/,
    );
    assert.equal(await queuedFor(w, w.user.id), 3);
    assert.match(
      (
        await w.say(
          w.admin,
          "https://example.com/a1.mp4\nhttps://example.com/a2.mp4\nhttps://example.com/a3.mp4\nhttps://example.com/a4.mp4",
        )
      ).text,
      /^Queued 4/,
    );
  });

  it("bytes a day: delivered bytes today stop new links until midnight UTC", async (t) => {
    const w = await startBotWorld(t);
    await w.say(w.owner, "/limits bytes_per_day 1MiB");
    const now = new Date().toISOString();
    await w.database.db
      .insertInto("jobs")
      .values({
        user_id: w.user.id,
        request_chat_id: w.user.id,
        destination_chat_id: w.user.id,
        source_url: "https://example.com/big.bin",
        status: "done",
        bytes_total: 2 * 1024 * 1024,
        finished_at: now,
      })
      .execute();
    assert.equal(
      (await w.say(w.user, "https://example.com/more.mp4")).text,
      "You reached the limit of 1.0 MiB a day (2.0 MiB delivered today). It resets at 00:00 UTC (midnight); send links then.",
    );
    assert.equal(await queuedFor(w, w.user.id), 1, "only the delivered job");
    // Another user's day is their own.
    assert.match((await w.say(w.russian, "https://example.com/ru.mp4")).text, /^В очереди: 1/);
  });

  it("batch lines: a list with more links than the limit is refused whole; an admin's is taken", async (t) => {
    const w = await startBotWorld(t);
    await w.say(w.owner, "/limits batch_lines 2");
    const list = "https://example.com/1.mp4\nhttps://example.com/2.mp4\nhttps://example.com/3.mp4\n";
    const doc = await w.sendDocument(w.user, "three.txt", list);
    assert.equal(
      (await w.replyAfter(w.chat(w.user), doc.id)).text,
      "The list has 3 links; at most 2 are taken from one list. Split it into several lists.",
    );
    assert.equal(await queuedFor(w, w.user.id), 0);
    const mine = await w.sendDocument(w.admin, "three.txt", list);
    assert.match((await w.replyAfter(w.chat(w.admin), mine.id)).text, /^Batch #\d+: 3 links/);
  });

  it("/features switches batches, open access and site downloads with buttons bound to the owner", async (t) => {
    const w = await startBotWorld(t);
    const view = await w.say(w.owner, "/features");
    assert.equal(
      view.text,
      [
        "Features",
        "Downloads from sites (yt-dlp): on",
        "Batches (.txt lists): on",
        "Playlists: on",
        "Open to everyone: off",
        "",
        "Press a button to switch it.",
      ].join("\n"),
    );
    assert.deepEqual(
      view.buttons?.flat().map((b) => b.data),
      ["ytdlp", "batches", "playlists", "open"].map((f) => `a:f:${f}:${w.owner.id}`),
    );
    const press = async (text: string) => {
      const answer = await w.srv.server.pressButton(w.owner.id, w.chat(w.owner), view.id, { text }, WAIT_MS);
      return answer.message;
    };

    assert.equal(await press("✅ Batches (.txt lists)"), "Batches (.txt lists): off");
    const edited = await w.srv.server.waitForMessage(
      w.chat(w.owner),
      (m) => m.id === view.id && m.text.includes("Batches (.txt lists): off"),
      WAIT_MS,
    );
    assert.ok(edited.buttons?.flat().some((b) => b.text === "⛔ Batches (.txt lists)"));
    const doc = await w.sendDocument(w.user, "list.txt", "https://example.com/1.mp4\n");
    assert.equal(
      (await w.replyAfter(w.chat(w.user), doc.id)).text,
      "Batches are turned off on this bot. Send links in a message instead.",
    );
    assert.equal(await queuedFor(w, w.user.id), 0);

    assert.match((await w.say(w.stranger, "/start")).text, /^You do not have access/);
    assert.equal(await press("⛔ Open to everyone"), "Open to everyone: on");
    await w.srv.server.waitForMessage(
      w.chat(w.owner),
      (m) => m.id === view.id && m.text.includes("Open to everyone: on"),
      WAIT_MS,
    );
    assert.match((await w.say(w.stranger, "/start")).text, /role: user/);
    assert.equal((await getUser(w.database.db, w.stranger.id))?.role, "user");
    const quiet = w.send(w.banned, "/start");
    await w.barrier();
    assert.deepEqual(w.botMessages(w.chat(w.banned), quiet.id), [], "open access does not let the banned in");

    assert.equal(await press("✅ Downloads from sites (yt-dlp)"), "Downloads from sites (yt-dlp): off");
    await w.srv.server.waitForMessage(
      w.chat(w.owner),
      (m) => m.id === view.id && m.text.includes("(yt-dlp): off"),
      WAIT_MS,
    );
    await w.say(w.user, "https://example.com/page");
    const job = await w.database.db
      .selectFrom("jobs")
      .select("options")
      .where("user_id", "=", w.user.id)
      .executeTakeFirstOrThrow();
    assert.equal(JSON.parse(job.options).directOnly, true, "the job is queued for direct files only");

    assert.equal(await press("✅ Playlists"), "Playlists: off");
    await w.srv.server.waitForMessage(
      w.chat(w.owner),
      (m) => m.id === view.id && m.text.includes("Playlists: off"),
      WAIT_MS,
    );
    const before = await queuedFor(w, w.user.id);
    assert.equal(
      (await w.say(w.user, "https://example.com/playlist?list=PL1")).text,
      "Not queued: https://example.com/playlist?list=PL1 — playlists are turned off on this bot; send the link of one video",
    );
    const mixed = await w.say(w.user, "https://example.com/watch?list=PL2\nhttps://example.com/one.mp4");
    assert.match(mixed.text, /^Queued 1\n/);
    assert.match(
      mixed.text,
      /Not queued: https:\/\/example\.com\/watch\?list=PL2 — playlists are turned off/,
    );
    assert.equal(await press("⛔ Batches (.txt lists)"), "Batches (.txt lists): on");
    const list = await w.sendDocument(
      w.admin,
      "p.txt",
      "https://example.com/sets/x\nhttps://example.com/two.mp4\n",
    );
    const batch = (await w.replyAfter(w.chat(w.admin), list.id)).text;
    assert.match(batch, /^Batch #\d+: 1 links/);
    assert.match(batch, /Line 1: playlists are turned off/);
    assert.equal(await queuedFor(w, w.user.id), before + 1);

    // An admin forging the owner's button, or their own, acts on nothing.
    const adminView = await w.say(w.admin, "/start");
    for (const [data, message] of [
      [`a:f:open:${w.owner.id}`, "This button belongs to someone else."],
      [`a:f:open:${w.admin.id}`, "This button is for the owner or an admin."],
      [`a:f:everything:${w.admin.id}`, "This button is no longer valid."],
    ] as const) {
      const answer = await w.srv.server.pressButton(
        w.admin.id,
        w.chat(w.admin),
        adminView.id,
        { data, forged: true },
        WAIT_MS,
      );
      assert.equal(answer.message, message, data);
    }
    assert.equal(await getBotSetting(w.database.db, "feature.open", null), true, "still on");
    const actions = (await listEvents(w.database.db, { action: "feature.set" }))
      .map((e) => [e.subject, JSON.parse(e.data).on])
      .reverse();
    assert.deepEqual(actions, [
      ["batches", false],
      ["open", true],
      ["ytdlp", false],
      ["playlists", false],
      ["batches", true],
    ]);
  });

  it("open access lets in a stranger who addresses the bot in a group, not one who only chats there", async (t) => {
    const w = await startBotWorld(t);
    const view = await w.say(w.owner, "/features");
    await w.srv.server.pressButton(
      w.owner.id,
      w.chat(w.owner),
      view.id,
      { text: "⛔ Open to everyone" },
      WAIT_MS,
    );
    const group = w.srv.server.createChat({
      kind: "group",
      title: "Team",
      creatorId: w.owner.id,
      members: [w.stranger.id, w.botUser.id],
    });
    const chat = { chat: group.id };
    w.srv.server.sendText(w.stranger.id, chat, "hello everyone, https://example.com/x.mp4");
    await w.barrier();
    assert.equal(await getUser(w.database.db, w.stranger.id), undefined, "group chatter adds nobody");
    const sent = w.srv.server.sendText(w.stranger.id, chat, "/start@medusa_bot");
    const reply = await w.srv.server.waitForMessage(
      chat,
      (m) => m.fromId === w.botUser.id && m.id > sent.id,
      WAIT_MS,
    );
    assert.match(reply.text, /role: user/);
    assert.equal((await getUser(w.database.db, w.stranger.id))?.role, "user");
    assert.deepEqual(
      (await listEvents(w.database.db, { action: "user.joined" })).map((e) => e.actor_id),
      [w.stranger.id],
    );
  });

  it("/health tells an admin the connection, queue, disk, uptime, versions with the yt-dlp age, and recent error codes", async (t) => {
    const w = await startBotWorld(t);
    await w.say(w.user, "https://example.com/a.mp4");
    await w.database.db
      .insertInto("jobs")
      .values({
        user_id: w.user.id,
        request_chat_id: w.user.id,
        destination_chat_id: w.user.id,
        source_url: "https://example.com/gone.mp4",
        status: "failed",
        error_code: "HTTP_404",
        finished_at: new Date().toISOString(),
      })
      .execute();
    const text = (await w.say(w.admin, "/health")).text;
    const lines = text.split("\n");
    assert.equal(lines[0], "Health");
    assert.equal(lines[1], "Telegram: connected");
    assert.equal(lines[2], "Queue: 0 running, 1 waiting");
    assert.match(lines[3] ?? "", /^Disk: [\d.]+ [KMGT]?i?B free in the data folder \(keeps 1\.0 MiB free\)$/);
    assert.match(lines[4] ?? "", /^Up for \d+:\d\d$/);
    assert.match(
      lines[5] ?? "",
      new RegExp(
        `^Versions: node ${process.versions.node.replace(/\./g, "\\.")} · ffmpeg \\S+ · yt-dlp \\d{4}\\.\\d\\d\\.\\d\\d`,
      ),
    );
    // This machine's yt-dlp is 2023.03.04: far past 90 days.
    assert.match(lines[6] ?? "", /^⚠️ yt-dlp is \d+ days old \(over 90\): sites change, update it\.$/);
    assert.equal(lines[7], "Job errors in the last 24 hours:");
    assert.match(lines[8] ?? "", /^• HTTP_404 × 1, last at \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);

    w.host.minFreeDisk = 1024 ** 5;
    w.host.ytdlpPath = path.join(w.dir, "no-such-yt-dlp");
    const low = (await w.say(w.owner, "/health")).text;
    assert.match(
      low,
      /⚠️ Disk: only .* free in the data folder, under the 1024 TiB to keep free: downloads are refused\./,
    );
    assert.match(low, /· yt-dlp no answer$/m);
    assert.doesNotMatch(low, /days old/);
    assert.equal(
      (await w.say(w.user, "/health")).text,
      "/health is not available to you. /help lists yours.",
    );
  });
});
