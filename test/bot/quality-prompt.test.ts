/**
 * Quality buttons on a site link, end to end: real yt-dlp reads an HLS master playlist on 127.0.0.1 with a 720p and
 * a 360p variant; the bot offers only what is there, binds the buttons to the user, refuses forged and foreign
 * presses, applies the default when nobody presses (also after a restart: the question is a row, not a timer), and
 * says a press came too late.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { createBot } from "../../src/bot/bot.js";
import { updateUserSettings } from "../../src/db/settings.js";
import { ffmpeg, makeTempDir } from "../support/media-fixtures.js";
import type { MessageView } from "../support/telegram-server/server.js";
import { type BotWorld, type Person, startBotWorld, WAIT_MS } from "./support/bot-world.js";

let site: string;

/** An HLS master with a 1280x720 and a 640x360 variant, each 2 s of testsrc + tone. */
async function makeVariants(dir: string): Promise<void> {
  for (const [name, size] of [
    ["v720", "1280x720"],
    ["v360", "640x360"],
  ] as const) {
    await mkdir(join(dir, name), { recursive: true });
    await ffmpeg([
      ...["-f", "lavfi", "-i", `testsrc=size=${size}:rate=10:duration=2`],
      ...["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050:duration=2"],
      ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"],
      ...["-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod"],
      ...["-hls_segment_filename", join(dir, name, "s%03d.ts"), join(dir, name, "index.m3u8")],
    ]);
  }
  await writeFile(
    join(dir, "master.m3u8"),
    [
      "#EXTM3U",
      '#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=1280x720,CODECS="avc1.42c01f,mp4a.40.2"',
      "v720/index.m3u8",
      '#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=640x360,CODECS="avc1.42c01e,mp4a.40.2"',
      "v360/index.m3u8",
      "",
    ].join("\n"),
  );
}

async function serve(t: Parameters<typeof startBotWorld>[0]) {
  const { serveDirectory } = await import("../support/media-fixtures.js");
  const server = await serveDirectory(site);
  t.after(() => server.close());
  return server;
}

/** The bot's first message after `afterId` that carries buttons. */
function question(w: BotWorld, p: Person, afterId: number): Promise<MessageView> {
  return w.srv.server.waitForMessage(
    w.chat(p),
    (m) => m.fromId === w.botUser.id && m.id > afterId && (m.buttons?.length ?? 0) > 0,
    WAIT_MS,
  );
}

/** Waits until the message reads as `pattern`. */
function editedTo(w: BotWorld, p: Person, id: number, pattern: RegExp): Promise<MessageView> {
  return w.srv.server.waitForMessage(w.chat(p), (m) => m.id === id && pattern.test(m.text), WAIT_MS);
}

async function jobsOf(w: BotWorld, userId: number) {
  return w.database.db.selectFrom("jobs").selectAll().where("user_id", "=", userId).execute();
}

describe("quality buttons on a site link", () => {
  before(async () => {
    const tmp = await makeTempDir("medusa-quality-");
    site = tmp.path;
    await makeVariants(site);
  });

  it("offers only the qualities the stream has, refuses forged and foreign presses, queues the one pressed", async (t) => {
    const w = await startBotWorld(t, { prompts: {} });
    const server = await serve(t);
    const sent = w.send(w.user, `${server.origin}/master.m3u8 | Clip | trim 0:01-0:02`);
    const q = await question(w, w.user, sent.id);
    assert.match(q.text, /Pick a quality\. Without a choice, ⭐ Best starts in 60 s\./);
    const labels = q.buttons!.flat().map((b) => b.text);
    assert.deepEqual(
      labels,
      ["⭐ Best", "360p", "🎵 Audio only"],
      "720p is the best; 1080/480 are not there",
    );

    // Someone else's press: refused, nothing queued.
    const foreign = await w.srv.server.pressButton(
      w.admin.id,
      w.chat(w.user),
      q.id,
      { text: "360p" },
      WAIT_MS,
    );
    assert.equal(foreign.message, "This button belongs to someone else.");
    // Forged: a quality that was not offered, and a question that does not exist.
    const data = q.buttons!.flat()[1]!.data!;
    const notOffered = data.replace(/^p:360:/, "p:1080:");
    const forged = await w.srv.server.pressButton(
      w.user.id,
      w.chat(w.user),
      q.id,
      { data: notOffered, forged: true },
      WAIT_MS,
    );
    assert.equal(forged.message, "This button is no longer valid.");
    const unknown = data.replace(/^p:360:[A-Za-z0-9_-]{8}:/, "p:360:AAAAAAAA:");
    const ghost = await w.srv.server.pressButton(
      w.user.id,
      w.chat(w.user),
      q.id,
      { data: unknown, forged: true },
      WAIT_MS,
    );
    assert.equal(ghost.message, "This button is no longer valid.");
    const junk = await w.srv.server.pressButton(
      w.user.id,
      w.chat(w.user),
      q.id,
      { data: "p:720:x:1", forged: true },
      WAIT_MS,
    );
    assert.equal(junk.message, "This button is no longer valid.");
    assert.equal((await jobsOf(w, w.user.id)).length, 0, "no press so far queued anything");

    const pressed = await w.srv.server.pressButton(
      w.user.id,
      w.chat(w.user),
      q.id,
      { text: "360p" },
      WAIT_MS,
    );
    assert.equal(pressed.message, null);
    const after = await editedTo(w, w.user, q.id, /^Quality: 360p\n/);
    assert.match(after.text, /Queued 1/);
    assert.deepEqual(after.buttons ?? [], [], "the buttons are gone");
    const [job] = await jobsOf(w, w.user.id);
    assert.ok(job);
    assert.equal(job.name, "Clip");
    assert.deepEqual(JSON.parse(job.options), { quality: "360", trim: { start: 1, end: 2 } });

    const again = await w.srv.server.pressButton(
      w.user.id,
      w.chat(w.user),
      q.id,
      { data, forged: true },
      WAIT_MS,
    );
    assert.match(again.message ?? "", /^Already started/);
    assert.equal((await jobsOf(w, w.user.id)).length, 1, "a second press queues nothing");
  });

  it("starts the best after the timeout, says so, and a later press is told it already started", async (t) => {
    const w = await startBotWorld(t, { prompts: { qualityTimeoutMs: 1500 } });
    const server = await serve(t);
    const sent = w.send(w.user, `${server.origin}/master.m3u8`);
    const q = await question(w, w.user, sent.id);
    assert.match(q.text, /starts in 2 s/);
    const done = await editedTo(w, w.user, q.id, /^No choice in time: ⭐ Best started\./);
    assert.match(done.text, /Queued 1/);
    const [job] = await jobsOf(w, w.user.id);
    assert.deepEqual(JSON.parse(job!.options), {}, "the best: no quality cap");
    const data = q.buttons!.flat()[1]!.data!;
    const late = await w.srv.server.pressButton(
      w.user.id,
      w.chat(w.user),
      q.id,
      { data, forged: true },
      WAIT_MS,
    );
    assert.match(late.message ?? "", /^Already started/);
    assert.equal((await jobsOf(w, w.user.id)).length, 1);
  });

  it("applies the deadline after a restart: a new bot finds the question in the database", async (t) => {
    const w = await startBotWorld(t, { prompts: { qualityTimeoutMs: 2000 } });
    const server = await serve(t);
    await updateUserSettings(w.database.db, w.russian.id, { quality: "360", askQuality: true });
    const sent = w.send(w.russian, `${server.origin}/master.m3u8`);
    const q = await question(w, w.russian, sent.id);
    assert.match(q.text, /Выберите качество/);
    // The process dies: its clock (and any timer in it) is gone before the deadline.
    await w.bot.stopPrompts();
    const row = await w.database.db.selectFrom("link_prompts").selectAll().executeTakeFirstOrThrow();
    assert.equal(row.state, "asking");
    assert.ok(Date.parse(row.deadline) > Date.now(), "stopped before the deadline");
    // The next process: a new bot on the same database.
    const next = createBot(w.botDeps);
    w.bot = next;
    next.startPrompts();
    const done = await editedTo(w, w.russian, q.id, /^Выбора не было: начато ⭐ Лучшее\./);
    assert.match(done.text, /Поставлено|В очереди|1/);
    assert.equal((await jobsOf(w, w.russian.id)).length, 1);
    assert.equal(
      (await w.database.db.selectFrom("link_prompts").select("state").executeTakeFirstOrThrow()).state,
      "queued",
    );
  });

  it("asks nothing of a user with a default quality, and nothing for '| audio'", async (t) => {
    const w = await startBotWorld(t, { prompts: {} });
    const server = await serve(t);
    await updateUserSettings(w.database.db, w.user.id, { quality: "720", askQuality: false });
    const reply = await w.say(w.user, `${server.origin}/master.m3u8`);
    assert.match(reply.text, /^Queued 1/);
    assert.equal(reply.buttons, null);
    const audio = await w.say(w.admin, `${server.origin}/master.m3u8 | audio`);
    assert.match(audio.text, /^Queued 1/);
    const [userJob] = await jobsOf(w, w.user.id);
    const [adminJob] = await jobsOf(w, w.admin.id);
    assert.deepEqual(JSON.parse(userJob!.options), { quality: "720" });
    assert.deepEqual(JSON.parse(adminJob!.options), { quality: "audio" });
  });
});

/** The bot's first message after `afterId` that reads as `pattern`. */
function botSays(w: BotWorld, p: Person, afterId: number, pattern: RegExp): Promise<MessageView> {
  return w.srv.server.waitForMessage(
    w.chat(p),
    (m) => m.fromId === w.botUser.id && m.id > afterId && pattern.test(m.text),
    WAIT_MS,
  );
}

describe("one quality question for several site links", () => {
  before(async () => {
    if (site) return;
    const tmp = await makeTempDir("medusa-quality-");
    site = tmp.path;
    await makeVariants(site);
  });

  it("queues the file at once, asks once for the two site links, and a press queues both at that quality", async (t) => {
    const w = await startBotWorld(t, { prompts: {} });
    const server = await serve(t);
    const sent = w.send(
      w.user,
      [
        `${server.origin}/master.m3u8?v=1 | Clip | trim 0:01-0:02`,
        `${server.origin}/v360/s000.ts`,
        `${server.origin}/master.m3u8?v=2`,
      ].join("\n"),
    );
    const q = await question(w, w.user, sent.id);
    assert.match(q.text, /^Quality for 2 videos\n• Clip: .*master\.m3u8\?v=1\n• .*master\.m3u8\?v=2\n/);
    assert.match(q.text, /Without a choice, ⭐ Best starts in 60 s\./);
    assert.deepEqual(
      q.buttons!.flat().map((b) => b.text),
      ["⭐ Best", "1080p", "720p", "480p", "360p", "🎵 Audio only"],
    );
    const now = await botSays(w, w.user, sent.id, /^Queued 1\n/);
    assert.equal(now.buttons, null, "the file's reply asks nothing");
    const before = await jobsOf(w, w.user.id);
    assert.deepEqual(
      before.map((j) => j.source_url),
      [`${server.origin}/v360/s000.ts`],
      "only the file is queued before a press",
    );

    const foreign = await w.srv.server.pressButton(
      w.admin.id,
      w.chat(w.user),
      q.id,
      { text: "360p" },
      WAIT_MS,
    );
    assert.equal(foreign.message, "This button belongs to someone else.");
    const data = q.buttons!.flat()[4]!.data!;
    const ghost = await w.srv.server.pressButton(
      w.user.id,
      w.chat(w.user),
      q.id,
      { data: data.replace(/^p:360:[A-Za-z0-9_-]{8}:/, "p:360:AAAAAAAA:"), forged: true },
      WAIT_MS,
    );
    assert.equal(ghost.message, "This button is no longer valid.");
    assert.equal((await jobsOf(w, w.user.id)).length, 1, "no refused press queued anything");

    const pressed = await w.srv.server.pressButton(
      w.user.id,
      w.chat(w.user),
      q.id,
      { text: "360p" },
      WAIT_MS,
    );
    assert.equal(pressed.message, null);
    const after = await editedTo(w, w.user, q.id, /^Quality: 360p\n/);
    assert.match(after.text, /Queued 2/);
    assert.deepEqual(after.buttons ?? [], []);
    const jobs = (await jobsOf(w, w.user.id)).filter((j) => j.source_url.includes("master"));
    assert.deepEqual(
      jobs.map((j) => [j.source_url.slice(-3), j.name, JSON.parse(j.options)]),
      [
        ["v=1", "Clip", { quality: "360", trim: { start: 1, end: 2 } }],
        ["v=2", null, { quality: "360" }],
      ],
      "each site link at 360, its own name and trim kept",
    );
    const again = await w.srv.server.pressButton(
      w.user.id,
      w.chat(w.user),
      q.id,
      { data, forged: true },
      WAIT_MS,
    );
    assert.match(again.message ?? "", /^Already started/);
    assert.equal((await jobsOf(w, w.user.id)).length, 3);
  });

  it("queues both with the best when nobody presses", async (t) => {
    const w = await startBotWorld(t, { prompts: { qualityTimeoutMs: 1500 } });
    const server = await serve(t);
    const sent = w.send(w.user, `${server.origin}/master.m3u8?v=1 ${server.origin}/master.m3u8?v=2`);
    const q = await question(w, w.user, sent.id);
    assert.match(q.text, /^Quality for 2 videos\n/);
    const done = await editedTo(w, w.user, q.id, /^No choice in time: ⭐ Best started\./);
    assert.match(done.text, /Queued 2/);
    const jobs = await jobsOf(w, w.user.id);
    assert.deepEqual(
      jobs.map((j) => JSON.parse(j.options)),
      [{}, {}],
      "the best: no quality cap",
    );
    assert.equal(w.botMessages(w.chat(w.user), sent.id).length, 1, "the question was the only answer");
  });

  it("takes a press after a restart: the question and its links are a row", async (t) => {
    const w = await startBotWorld(t, { prompts: {} });
    const server = await serve(t);
    const sent = w.send(
      w.russian,
      [
        `${server.origin}/master.m3u8?v=1 | name: audio book`,
        `${server.origin}/master.m3u8?v=2 | trim 0:01-`,
      ].join("\n"),
    );
    const q = await question(w, w.russian, sent.id);
    assert.match(q.text, /^Качество для видео: 2\n/);
    await w.bot.stopPrompts();
    const next = createBot(w.botDeps);
    w.bot = next;
    next.startPrompts();
    const pressed = await w.srv.server.pressButton(
      w.russian.id,
      w.chat(w.russian),
      q.id,
      { text: "720p" },
      WAIT_MS,
    );
    assert.equal(pressed.message, null);
    await editedTo(w, w.russian, q.id, /^Качество: 720p\n/);
    const jobs = await jobsOf(w, w.russian.id);
    assert.deepEqual(
      jobs.map((j) => [j.name, JSON.parse(j.options)]),
      [
        ["audio book", { quality: "720" }],
        [null, { quality: "720", trim: { start: 1 } }],
      ],
    );
  });

  it("keeps a long list in one message: as many links as fit, then how many more, then the countdown", async (t) => {
    const w = await startBotWorld(t, { prompts: {} });
    const server = await serve(t);
    const name = (i: number) => `${"long name ".repeat(25)}${i}`;
    const lines = Array.from({ length: 20 }, (_, i) => `${server.origin}/master.m3u8?v=${i} | ${name(i)}`);
    const sent = w.send(w.user, lines.join("\n"));
    const q = await question(w, w.user, sent.id);
    assert.ok(q.text.length <= 4096, `${q.text.length} characters`);
    assert.match(q.text, /^Quality for 20 videos\n/);
    assert.match(q.text, /\n… and \d+ more\nPick one quality for all of them\./);
    assert.match(q.text, /starts in 60 s\.$/);
  });

  it("asks nothing when every link says '| audio'", async (t) => {
    const w = await startBotWorld(t, { prompts: {} });
    const server = await serve(t);
    const sent = w.send(
      w.user,
      [`${server.origin}/master.m3u8?v=1 | audio`, `${server.origin}/master.m3u8?v=2 | audio`].join("\n"),
    );
    const reply = await w.replyAfter(w.chat(w.user), sent.id);
    assert.match(reply.text, /^Queued 2/);
    assert.equal(reply.buttons, null);
    const jobs = await jobsOf(w, w.user.id);
    assert.deepEqual(
      jobs.map((j) => JSON.parse(j.options)),
      [{ quality: "audio" }, { quality: "audio" }],
    );
    assert.equal(await w.database.db.selectFrom("link_prompts").select("id").executeTakeFirst(), undefined);
  });
});
