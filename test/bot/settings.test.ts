/**
 * /settings as users press it: one menu edited in place, each choice saved and shown, a caption template checked
 * before it is saved, a photo turned into the user's thumbnail, and forged or foreign presses acting on nothing.
 */
import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { addChat } from "../../src/db/chats.js";
import { getUserSettings } from "../../src/db/settings.js";
import { jpegSize } from "../../src/media/thumbnail.js";
import { ffmpeg } from "../support/media-fixtures.js";
import type { MessageView } from "../support/telegram-server/server.js";
import { type BotWorld, type Person, startBotWorld, WAIT_MS } from "./support/bot-world.js";

/** Presses the button labelled `text` (or with `data`) on `menu` and returns the answer and the menu as it is now. */
async function press(
  w: BotWorld,
  p: Person,
  menu: MessageView,
  button: { text?: string; data?: string; forged?: boolean },
) {
  const answer = await w.srv.server.pressButton(p.id, w.chat(p), menu.id, button, WAIT_MS);
  const now = w.srv.server.messages(w.chat(p)).find((m) => m.id === menu.id);
  assert.ok(now, "the menu is still there");
  return { answer, menu: now };
}

const buttonTexts = (m: MessageView) => (m.buttons ?? []).flat().map((b) => b.text);

describe("/settings", () => {
  it("shows the menu to users, admins and the owner, in their language; a stranger gets the access notice", async (t) => {
    const w = await startBotWorld(t);
    for (const p of [w.user, w.admin, w.owner]) {
      const menu = await w.say(p, "/settings");
      assert.match(
        menu.text,
        /^Settings\nSend as: media\nQuality: ask each time\nSplit files over: the account's limit \(2\.0 GiB\)\nSend to: this chat\nVideo thumbnail: a frame of the video\nLanguage: as in your Telegram app\n\nCaption preview\nLecture 01 — Introduction\.mp4\n1\.5 GiB • 1:02:03 • 720p$/,
      );
      for (const b of (menu.buttons ?? []).flat()) assert.match(b.data ?? "", new RegExp(`:${p.id}$`));
    }
    const ru = await w.say(w.russian, "/settings");
    assert.match(ru.text, /^Настройки\nОтправлять как: медиа\n/);
    const refused = await w.say(w.stranger, "/settings");
    assert.match(refused.text, /^You do not have access to this bot yet\./);
  });

  it("changes each choice with its buttons, editing the menu in place, and saves it", async (t) => {
    const w = await startBotWorld(t);
    let menu = await w.say(w.user, "/settings");
    const first = menu.id;
    ({ menu } = await press(w, w.user, menu, { text: "document" }));
    assert.match(menu.text, /\nSend as: document\n/);
    assert.ok(buttonTexts(menu).includes("✓ document"));

    ({ menu } = await press(w, w.user, menu, { text: "🎞 Quality" }));
    assert.match(menu.text, /^Quality\n/);
    assert.deepEqual(buttonTexts(menu), [
      "✓ ask each time",
      "best available",
      "1080p",
      "720p",
      "480p",
      "360p",
      "audio only",
      "⬅️ Back",
    ]);
    ({ menu } = await press(w, w.user, menu, { text: "720p" }));
    assert.match(menu.text, /\nQuality: 720p\n/);

    ({ menu } = await press(w, w.user, menu, { text: "✂️ Split size" }));
    assert.deepEqual(buttonTexts(menu), [
      "256 MiB",
      "512 MiB",
      "1.0 GiB",
      "1.5 GiB",
      "the account's limit (2.0 GiB)",
      "⬅️ Back",
    ]);
    ({ menu } = await press(w, w.user, menu, { text: "512 MiB" }));
    assert.match(menu.text, /\nSplit files over: 512 MiB\n/);

    ({ menu } = await press(w, w.user, menu, { text: "🌐 Language" }));
    ({ menu } = await press(w, w.user, menu, { text: "Русский" }));
    assert.match(menu.text, /^Настройки\n.*\nЯзык: Русский\n/s, "the menu comes back in the language chosen");
    assert.match((await w.say(w.user, "/help")).text, /^Команды\n/, "and the bot speaks it from then on");

    assert.equal(menu.id, first, "one message, edited in place");
    assert.deepEqual(await getUserSettings(w.database.db, w.user.id), {
      quality: "720",
      uploadAs: "document",
      destinationChatId: null,
      captionTemplate: null,
      splitLarge: true,
      language: "ru",
      splitBytes: 512 * 1024 * 1024,
      thumbnailPath: null,
      askQuality: false,
    });
    ({ menu } = await press(w, w.user, menu, { text: "🌐 Язык" }));
    ({ menu } = await press(w, w.user, menu, { text: "как в вашем приложении Telegram" }));
    assert.match(menu.text, /^Settings\n/, "back to the app's language (en-GB)");
    ({ menu } = await press(w, w.user, menu, { text: "✂️ Split size" }));
    ({ menu } = await press(w, w.user, menu, { text: "the account's limit (2.0 GiB)" }));
    ({ menu } = await press(w, w.user, menu, { text: "media" }));
    const s = await getUserSettings(w.database.db, w.user.id);
    assert.deepEqual([s.language, s.splitBytes, s.uploadAs], [null, null, "media"]);
  });

  it("takes a caption template as the next message: refused with the reason, saved with a live preview", async (t) => {
    const w = await startBotWorld(t);
    let menu = await w.say(w.user, "/settings");
    ({ menu } = await press(w, w.user, menu, { text: "✏️ Caption" }));
    assert.match(
      menu.text,
      /^Caption template\nSend me the new template .*\n<b>\{name\}<\/b> \{size\} • \{duration\} • \{quality\}\nPlaceholders: \{name\} /s,
    );

    const unknown = await w.say(w.user, "{name} by {author}");
    assert.match(
      unknown.text,
      /^⚠️ This template cannot be used:\n\{author\} is not a placeholder I know\. Known: \{name\}/,
    );
    const tag = await w.say(w.user, "<blink>{name}</blink>");
    assert.match(tag.text, /^⚠️ This template cannot be used:\nLine 1, column 1: /);
    const long = await w.say(w.user, `{name} ${"x".repeat(1000)}`);
    assert.match(
      long.text,
      /^⚠️ This template cannot be used:\nWith a sample file filled in it is 1030 characters long; a caption holds at most 1024\.$/,
    );
    assert.equal((await getUserSettings(w.database.db, w.user.id)).captionTemplate, null, "nothing saved");

    const saved = await w.say(w.user, "<i>{name}</i> [{size}] from {source}");
    assert.match(
      saved.text,
      /^✅ Caption template saved\.\n\nSettings\n.*\nCaption preview\nLecture 01 — Introduction\.mp4 \[1\.5 GiB\] from youtube\.com$/s,
    );
    assert.equal(
      (await getUserSettings(w.database.db, w.user.id)).captionTemplate,
      "<i>{name}</i> [{size}] from {source}",
    );
    const link = await w.say(w.user, "https://example.com/a.mp4");
    assert.match(link.text, /^Queued 1\n/, "the next message is a link again, not a template");
    await press(w, w.user, saved, { text: "✏️ Caption" });
    const forgot = await w.say(w.user, "https://example.com/b.mp4");
    assert.match(
      forgot.text,
      /^Queued 1\n/,
      "a link sent while the button waits is queued, not taken as a caption",
    );
    assert.equal(
      (await getUserSettings(w.database.db, w.user.id)).captionTemplate,
      "<i>{name}</i> [{size}] from {source}",
    );
    await press(w, w.user, saved, { text: "⬅️ Back" });

    ({ menu } = await press(w, w.user, saved, { text: "↺ Default caption" }));
    assert.match(menu.text, /\nCaption preview\nLecture 01 — Introduction\.mp4\n1\.5 GiB • 1:02:03 • 720p$/);
    assert.equal((await getUserSettings(w.database.db, w.user.id)).captionTemplate, null);
  });

  it("turns a photo sent after the button into a JPEG thumbnail of at most 320 px under 200 KB, and removes it", async (t) => {
    const w = await startBotWorld(t);
    const png = join(w.dir, "picture.png");
    await ffmpeg(["-f", "lavfi", "-i", "testsrc=size=800x600", "-frames:v", "1", png]);
    let menu = await w.say(w.user, "/settings");
    ({ menu } = await press(w, w.user, menu, { text: "🖼 Set thumbnail" }));
    assert.match(menu.text, /^Thumbnail\nSend me a photo/);

    const huge = await w.srv.server.sendPhoto(w.user.id, w.chat(w.user), {
      content: Buffer.alloc(10 * 1024 * 1024 + 1),
    });
    assert.equal(
      (await w.replyAfter(w.chat(w.user), huge.id)).text,
      "This image is too big; at most 10.0 MiB is taken. Send a smaller photo.",
    );
    const fetched = w.srv.server.counters().rpcs["upload.GetFile"] ?? 0;
    assert.equal(fetched, 0, "refused before a byte was fetched");
    const wide = join(w.dir, "wide.png");
    await ffmpeg(["-f", "lavfi", "-i", "testsrc=size=4200x200", "-frames:v", "1", wide]);
    const tooWide = await w.srv.server.sendPhoto(w.user.id, w.chat(w.user), {
      content: await readFile(wide),
    });
    assert.equal(
      (await w.replyAfter(w.chat(w.user), tooWide.id)).text,
      "This image is 4200×200; Telegram takes photos whose sides add up to at most 10000 and differ at most 20 times. Send another.",
    );
    const junk = await w.srv.server.sendPhoto(w.user.id, w.chat(w.user), {
      content: Buffer.from("not a picture"),
    });
    assert.equal(
      (await w.replyAfter(w.chat(w.user), junk.id)).text,
      "This is not a JPEG or PNG image. Send a photo.",
    );

    const sent = await w.srv.server.sendPhoto(w.user.id, w.chat(w.user), { content: await readFile(png) });
    const reply = await w.replyAfter(w.chat(w.user), sent.id);
    assert.match(
      reply.text,
      /^✅ Thumbnail saved \(320×240\)\.\n\nSettings\n.*\nVideo thumbnail: your own picture\n/s,
    );
    const path = (await getUserSettings(w.database.db, w.user.id)).thumbnailPath;
    assert.equal(path, join(w.dir, "data", "thumbnails", `${w.user.id}.jpg`));
    assert.deepEqual(await jpegSize(path), { width: 320, height: 240 });
    assert.ok((await stat(path)).size < 200_000);
    assert.ok((w.srv.server.counters().rpcs["upload.GetFile"] ?? 0) > 0, "a photo taken is fetched");

    const after = await w.srv.server.sendPhoto(w.user.id, w.chat(w.user), { content: await readFile(png) });
    assert.equal(
      (await w.replyAfter(w.chat(w.user), after.id)).text,
      "I take .txt lists of links only. Send links one per line in a .txt file.",
      "once saved, a photo is not taken again without the button",
    );

    ({ menu } = await press(w, w.user, reply, { text: "🗑 Remove thumbnail" }));
    assert.match(menu.text, /\nVideo thumbnail: a frame of the video\n/);
    assert.ok(!buttonTexts(menu).includes("🗑 Remove thumbnail"));
    await assert.rejects(stat(path), { code: "ENOENT" });
    assert.equal((await getUserSettings(w.database.db, w.user.id)).thumbnailPath, null);

    // A JPEG sent as a file is taken too.
    const jpeg = join(w.dir, "picture.jpg");
    await ffmpeg(["-f", "lavfi", "-i", "testsrc=size=200x400", "-frames:v", "1", jpeg]);
    ({ menu } = await press(w, w.user, menu, { text: "🖼 Set thumbnail" }));
    const doc = await w.sendDocument(w.user, "picture.jpg", await readFile(jpeg), "image/jpeg");
    assert.match((await w.replyAfter(w.chat(w.user), doc.id)).text, /^✅ Thumbnail saved \(160×320\)\./);
    assert.deepEqual(await jpegSize(path), { width: 160, height: 320 });
  });

  it("offers the destination channels made for the user, refuses one the bot cannot post in, and queues there", async (t) => {
    const w = await startBotWorld(t);
    const db = w.database.db;
    const news = w.srv.server.createChat({
      kind: "channel",
      title: "News",
      username: "news_here",
      creatorId: w.owner.id,
      admins: [w.botUser.id],
    });
    const mute = w.srv.server.createChat({
      kind: "channel",
      title: "Mute",
      username: "mute_here",
      creatorId: w.owner.id,
    });
    const other = w.srv.server.createChat({
      kind: "channel",
      title: "Adam's",
      username: "adams_here",
      creatorId: w.owner.id,
    });
    const id = (c: { peerId: string }) => Number(c.peerId);
    await addChat(db, {
      id: id(news),
      kind: "channel",
      purpose: "destination",
      title: "News",
      owner_id: w.user.id,
    });
    await addChat(db, {
      id: id(mute),
      kind: "channel",
      purpose: "destination",
      title: "Mute",
      owner_id: null,
    });
    await addChat(db, {
      id: id(other),
      kind: "channel",
      purpose: "destination",
      title: "Adam's",
      owner_id: w.admin.id,
    });
    // The bot learns the channels' access hashes.
    for (const name of ["@news_here", "@mute_here", "@adams_here"]) await w.gateway.resolveChat(name);
    let menu = await w.say(w.user, "/settings");
    ({ menu } = await press(w, w.user, menu, { text: "📍 Destination" }));
    const texts = buttonTexts(menu);
    assert.deepEqual(
      [texts[0], ...texts.slice(1, -1).sort(), texts.at(-1)],
      ["this chat", "Mute", "News", "⬅️ Back"],
      "not another user's channel",
    );

    const refused = await press(w, w.user, menu, { text: "Mute" });
    assert.deepEqual(refused.answer, {
      answered: true,
      message: "I cannot post in Mute: make me an admin there, then try again.",
      alert: true,
    });
    assert.equal((await getUserSettings(db, w.user.id)).destinationChatId, null);

    ({ menu } = await press(w, w.user, menu, { text: "News" }));
    assert.match(menu.text, /\nSend to: News\n/);
    await w.say(w.user, "https://example.com/a.mp4");
    const job = await db.selectFrom("jobs").select("destination_chat_id").executeTakeFirstOrThrow();
    assert.equal(job.destination_chat_id, id(news));

    // An admin gives the channel to someone else: the user's links go to their own chat again.
    await db.updateTable("chats").set({ owner_id: w.admin.id }).where("id", "=", id(news)).execute();
    await w.say(w.user, "https://example.com/b.mp4");
    const jobs = await db.selectFrom("jobs").select("destination_chat_id").orderBy("id").execute();
    assert.deepEqual(
      jobs.map((j) => j.destination_chat_id),
      [id(news), w.user.id],
    );
  });

  it("acts on nothing for a forged button or someone else's", async (t) => {
    const w = await startBotWorld(t);
    const menu = await w.say(w.user, "/settings");
    const before = await getUserSettings(w.database.db, w.user.id);
    for (const data of [
      `s:q:999:${w.user.id}`,
      `s:as:video:${w.user.id}`,
      `s:sp:300:${w.user.id}`,
      `s:dst:-100123456:${w.user.id}`,
      `s:lang:de:${w.user.id}`,
      `s:th:rm:${w.user.id}`,
      `s:xx:1:${w.user.id}`,
      `s:q:720:${w.user.id}:1`,
      `s:q:7 20:${w.user.id}`,
    ]) {
      const { answer, menu: now } = await press(w, w.user, menu, { data, forged: true });
      assert.deepEqual(
        answer,
        { answered: true, message: "This button is no longer valid.", alert: true },
        data,
      );
      assert.equal(now.text, menu.text, data);
    }
    const group = w.srv.server.createChat({
      kind: "group",
      title: "Team",
      creatorId: w.owner.id,
      members: [w.user.id, w.admin.id, w.botUser.id],
    });
    const asked = w.srv.server.sendText(w.user.id, { chat: group.id }, "/settings@medusa_bot");
    const inGroup = await w.srv.server.waitForMessage(
      { chat: group.id },
      (m) => m.fromId === w.botUser.id && m.id > asked.id,
      WAIT_MS,
    );
    const privately = await w.srv.server.pressButton(
      w.user.id,
      { chat: group.id },
      inGroup.id,
      { text: "✏️ Caption" },
      WAIT_MS,
    );
    assert.equal(privately.message, "Do this in our private chat: I take the caption or the photo there.");
    const adminMenu = await w.say(w.admin, "/settings");
    const theirs = await press(w, w.admin, adminMenu, { data: `s:as:doc:${w.user.id}`, forged: true });
    assert.equal(theirs.answer.message, "This button belongs to someone else.");
    assert.deepEqual(await getUserSettings(w.database.db, w.user.id), before);
    const rows = await w.database.db.selectFrom("user_settings").selectAll().execute();
    assert.deepEqual(rows, [], "no settings row was written");
  });
});
