/**
 * What /settings changes, seen on the delivered files, with the real runner and steps: a video with the user's own
 * thumbnail and caption template in the channel they chose, then the same kind of link as a plain document in their
 * chat once they switched.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { addChat } from "../../src/db/chats.js";
import { getUserSettings, updateUserSettings } from "../../src/db/settings.js";
import { createRunner, type RunnerEvent } from "../../src/jobs/runner.js";
import { createJobSteps } from "../../src/jobs/steps.js";
import { createLogger } from "../../src/logger.js";
import { FFMPEG, FFPROBE, ffmpeg, makeClip, serveDirectory, YTDLP } from "../support/media-fixtures.js";
import type { ChatSpec, MessageView } from "../support/telegram-server/server.js";
import { type BotWorld, type Person, startBotWorld, WAIT_MS } from "./support/bot-world.js";

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

async function press(w: BotWorld, p: Person, menu: MessageView, text: string): Promise<MessageView> {
  const answer = await w.srv.server.pressButton(p.id, w.chat(p), menu.id, { text }, WAIT_MS);
  assert.equal(answer.message, null, `${text}: no alert`);
  return w.srv.server.messages(w.chat(p)).find((m) => m.id === menu.id)!;
}

describe("settings seen on delivered files", () => {
  it("delivers with the user's thumbnail and caption to their channel, then as a document to their chat", async (t) => {
    const w = await startBotWorld(t);
    const db = w.database.db;
    const site = join(w.dir, "site");
    await mkdir(site);
    const server = await serveDirectory(site);
    t.after(() => server.close());
    const events: RunnerEvent[] = [];
    const waiters = new Set<() => void>();
    const runner = createRunner({
      db,
      log: createLogger({ level: "silent" }),
      pollMs: 50,
      steps: createJobSteps({
        db,
        gateway: w.gateway,
        workRoot: join(w.dir, "work"),
        source: {
          maxSize: 1e9,
          minFreeDisk: 0,
          connectTimeoutMs: 5000,
          idleTimeoutMs: 5000,
          guard: { allowPrivateNetworks: true },
          ytdlpPath: YTDLP,
          timeoutMs: 60_000,
          ffmpegPath: FFMPEG,
        },
        media: { ffmpegPath: FFMPEG, ffprobePath: FFPROBE, toolTimeoutMs: 60_000 },
        logChats: async () => [],
      }),
      onEvent: (event) => {
        events.push(event);
        for (const wake of waiters) wake();
      },
    });
    await runner.start();
    t.after(() => runner.stop());
    const settled = (n: number) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (events.filter((e) => e.type === "done" || e.type === "failed").length < n) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(
          () => reject(new Error(`jobs not settled: ${events.map((e) => e.type)}`)),
          90_000,
        );
        waiters.add(check);
        check();
      });
    const delivered = (chat: ChatSpec) =>
      w.srv.server.messages(chat).filter((m) => m.media && m.fromId === w.botUser.id);

    const channel = w.srv.server.createChat({
      kind: "channel",
      title: "Ursula's uploads",
      username: "ursula_uploads",
      creatorId: w.user.id,
      admins: [w.botUser.id],
    });
    const channelId = Number(channel.peerId);
    await w.gateway.resolveChat("@ursula_uploads");
    await addChat(db, {
      id: channelId,
      kind: "channel",
      purpose: "destination",
      title: "Ursula's uploads",
      owner_id: w.user.id,
    });

    let menu = await w.say(w.user, "/settings");
    menu = await press(w, w.user, menu, "✏️ Caption");
    const saved = await w.say(w.user, "🎬 <b>{name}</b> · {duration}");
    assert.match(saved.text, /^✅ Caption template saved\./);
    menu = await press(w, w.user, saved, "🖼 Set thumbnail");
    const picture = join(w.dir, "picture.png");
    await ffmpeg(["-f", "lavfi", "-i", "color=c=red:size=640x360", "-frames:v", "1", picture]);
    const photo = await w.srv.server.sendPhoto(w.user.id, w.chat(w.user), {
      content: await readFile(picture),
    });
    menu = await w.replyAfter(w.chat(w.user), photo.id);
    assert.match(menu.text, /^✅ Thumbnail saved \(320×180\)\./);
    menu = await press(w, w.user, menu, "📍 Destination");
    menu = await press(w, w.user, menu, "Ursula's uploads");
    assert.match(menu.text, /\nSend to: Ursula's uploads\n/);

    await makeClip(join(site, "talk.mp4"), { seconds: 2, width: 320, height: 240, faststart: true });
    await w.say(w.user, `${server.origin}/talk.mp4 | Talk one.mp4`);
    await settled(1);
    const [video] = delivered({ chat: channel.id });
    assert.ok(video?.media, "delivered to the channel chosen");
    assert.equal(delivered(w.chat(w.user)).length, 0, "not to the user's chat");
    assert.deepEqual(
      video.media.attributes.find((a) => a.type === "video"),
      { type: "video", duration: 2, w: 320, h: 240, supportsStreaming: true },
    );
    const thumbnail = (await getUserSettings(db, w.user.id)).thumbnailPath!;
    assert.ok(video.media.thumbPath, "the video has a thumbnail");
    assert.equal(
      sha256(await readFile(video.media.thumbPath)),
      sha256(await readFile(thumbnail)),
      "and it is the user's own",
    );
    assert.equal(video.text, "🎬 Talk one.mp4 · 0:02", "the caption template applied");

    menu = await press(w, w.user, menu, "document");
    menu = await press(w, w.user, menu, "📍 Destination");
    menu = await press(w, w.user, menu, "this chat");
    await makeClip(join(site, "talk2.mp4"), { seconds: 3, width: 320, height: 240, faststart: true });
    await w.say(w.user, `${server.origin}/talk2.mp4`);
    await settled(2);
    const [file] = delivered(w.chat(w.user));
    assert.ok(file?.media, "delivered to the user's chat");
    assert.equal(file.media.kind, "document");
    assert.equal(
      file.media.attributes.some((a) => a.type === "video"),
      false,
      "sent as a document, not as a video",
    );
    assert.equal(file.media.sha256, sha256(await readFile(join(site, "talk2.mp4"))));
    assert.equal(file.text, "🎬 talk2.mp4 · 0:03", "the template still applies");

    // The split size: the menu offers sizes from 256 MiB; a small one set directly keeps the test file small.
    menu = await press(w, w.user, menu, "media");
    await updateUserSettings(db, w.user.id, { splitBytes: 200 * 1024 });
    const long = await makeClip(join(site, "long.mp4"), {
      seconds: 8,
      width: 320,
      height: 240,
      videoBitrate: "400k",
      faststart: true,
    });
    assert.ok((await stat(long)).size > 300 * 1024);
    await w.say(w.user, `${server.origin}/long.mp4`);
    await settled(3);
    const parts = delivered(w.chat(w.user)).slice(1);
    assert.ok(parts.length >= 2, `split in ${parts.length} parts`);
    for (const [i, part] of parts.entries()) {
      assert.ok((part.media?.size ?? Infinity) <= 200 * 1024, `part ${i + 1} within the split size`);
      assert.match(part.text, new RegExp(`\\npart ${i + 1}/${parts.length}$`));
    }
  });
});
