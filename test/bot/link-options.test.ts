/**
 * Per-link options: the grammar after the bar, the specific refusals in the chat, and what arrives with the real
 * runner — a trimmed video (stream copy), the sound alone of a direct video, a site's subtitles embedded or sent
 * as a file (real yt-dlp reads a page whose <video> has a WebVTT <track>), and link dedupe keeping options apart.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { parseParts } from "../../src/bot/link-options.js";
import { createRunner, type RunnerEvent } from "../../src/jobs/runner.js";
import { createJobSteps } from "../../src/jobs/steps.js";
import { createLogger } from "../../src/logger.js";
import { FFMPEG, FFPROBE, makeClip, serveDirectory, YTDLP } from "../support/media-fixtures.js";
import type { ChatSpec } from "../support/telegram-server/server.js";
import { type BotWorld, startBotWorld } from "./support/bot-world.js";

const run = promisify(execFile);

async function streams(file: string): Promise<string[]> {
  const { stdout } = await run(FFPROBE, [
    "-v",
    "error",
    "-show_entries",
    "stream=codec_type",
    "-of",
    "csv=p=0",
    file,
  ]);
  return stdout.trim().split(/\s+/).sort();
}

describe("link options grammar", () => {
  it("reads options in any order beside a new name, and refuses what is not exactly an option", () => {
    assert.deepEqual(parseParts([" trim 0:10-1:02:03.5 ", " subs file ", " Clip one "]), {
      ok: true,
      name: "Clip one",
      options: { trim: { start: 10, end: 3723.5 }, subtitles: "file" },
    });
    assert.deepEqual(parseParts(["subs"]), { ok: true, name: undefined, options: { subtitles: "embed" } });
    assert.deepEqual(parseParts(["trim 90-"]), {
      ok: true,
      name: undefined,
      options: { trim: { start: 90 } },
    });
    assert.deepEqual(parseParts(["name: audio notes"]), { ok: true, name: "audio notes", options: {} });
    assert.deepEqual(parseParts(["Audio-book.mp3"]), { ok: true, name: "Audio-book.mp3", options: {} });
    const code = (parts: string[]) => {
      const parsed = parseParts(parts);
      return parsed.ok ? "ok" : parsed.error.code;
    };
    assert.equal(code(["audio book"]), "audio");
    assert.equal(code(["subs srt"]), "subs");
    assert.equal(code(["trim 1:00"]), "trim");
    assert.equal(code(["trim 1:75-2:00"]), "trim");
    assert.equal(code(["TRIM 2:00-1:00"]), "trimOrder");
    assert.equal(code(["one", "two"]), "twoNames");
    assert.equal(code(["audio", "subs"]), "audioSubs");
    assert.equal(code(["name:"]), "emptyName");
  });

  it("replies to a bad option with what was wrong and what is accepted, and queues the rest", async (t) => {
    const w = await startBotWorld(t);
    const reply = await w.say(
      w.user,
      ["https://example.com/a.mp4 | audio book", "https://example.com/b.mp4 | trim 0:10-0:20 | Part B"].join(
        "\n",
      ),
    );
    assert.match(reply.text, /^Queued 1\n#\d+ · Part B · place 1/);
    assert.match(
      reply.text,
      /Not queued: https:\/\/example\.com\/a\.mp4 — “audio book”: audio takes nothing after it \(to name a file so, write “name: audio book”\)\nAfter a link: \| audio, \| subs, \| subs file, \| trim 1:00-2:30, \| new name \(or \| name: …\), several separated by \|\./,
    );
    const ru = await w.say(w.russian, "https://example.com/a.mp4 | trim 2:00-1:00");
    assert.match(ru.text, /«trim 2:00-1:00»: конец обрезки должен быть позже начала\nПосле ссылки:/);
    const jobs = await w.database.db.selectFrom("jobs").selectAll().execute();
    assert.equal(jobs.length, 1);
    assert.deepEqual(JSON.parse(jobs[0]!.options), { trim: { start: 10, end: 20 } });
  });
});

describe("link options on delivered files", () => {
  it("trims, takes the sound alone, embeds or sends subtitles, and keeps deliveries with other options apart", async (t) => {
    const w = await startBotWorld(t);
    const db = w.database.db;
    const site = join(w.dir, "site");
    await mkdir(site);
    await makeClip(join(site, "talk.mp4"), { seconds: 4, faststart: true });
    await writeFile(
      join(site, "en.vtt"),
      "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nHello there\n\n00:00:02.000 --> 00:00:04.000\nSecond line\n",
    );
    await writeFile(
      join(site, "subbed.html"),
      '<html><head><title>Subbed talk</title></head><body><video src="talk.mp4"><track kind="subtitles" src="en.vtt" srclang="en" label="English"></video></body></html>',
    );
    const server = await serveDirectory(site);
    t.after(() => server.close());
    const settled = await startRunner(t, w);
    const delivered = (chat: ChatSpec) =>
      w.srv.server.messages(chat).filter((m) => m.media && m.fromId === w.botUser.id);
    const chat = w.chat(w.user);

    await w.say(w.user, `${server.origin}/talk.mp4 | trim 0:01-0:03`);
    await settled(1);
    const [trimmed] = delivered(chat);
    assert.equal(trimmed?.media?.name, "talk.mp4");
    const attribute = trimmed?.media?.attributes.find((a) => a.type === "video") as
      | { duration: number }
      | undefined;
    assert.equal(
      Math.round(attribute?.duration ?? 0),
      2,
      "2 s of the 4 (the start is a keyframe: stream copy)",
    );

    await w.say(w.user, `${server.origin}/talk.mp4 | audio`);
    await settled(2);
    const audio = delivered(chat)[1]!;
    assert.equal(audio.media?.name, "talk.m4a");
    assert.ok(
      audio.media?.attributes.some((a) => a.type === "audio"),
      "sent as audio",
    );
    assert.deepEqual(await streams(audio.media!.path), ["audio"]);

    // The same link with other options is other content; with the same options it is sent again by reference.
    await w.say(w.user, `${server.origin}/talk.mp4`);
    await settled(3);
    await w.say(w.user, `${server.origin}/talk.mp4 | trim 0:01-0:03`);
    await settled(4);
    const [first, , whole, again] = delivered(chat);
    assert.notEqual(whole?.media?.sha256, first?.media?.sha256, "untrimmed: another file");
    assert.equal(again?.media?.sha256, first?.media?.sha256, "the same trim: the same file");
    const reused = await db
      .selectFrom("jobs")
      .select(["id", "download_ms"])
      .orderBy("id", "desc")
      .executeTakeFirstOrThrow();
    assert.equal(reused.download_ms, 0, "sent by reference, not fetched again");

    await w.say(w.user, `${server.origin}/subbed.html | subs`);
    await settled(5);
    const embedded = delivered(chat)[4]!;
    assert.deepEqual(await streams(embedded.media!.path), ["audio", "subtitle", "video"]);

    await w.say(w.user, `${server.origin}/subbed.html | subs file | Talk`);
    await settled(6);
    const [video, subtitles] = delivered(chat).slice(5);
    // The same bytes as the whole talk above: that upload is reused, under the caption's new name.
    assert.match(video?.text ?? "", /^Talk\.mp4\n/);
    assert.doesNotMatch(video?.text ?? "", /part \d/, "a subtitle file is not a part of the video");
    assert.deepEqual(await streams(video!.media!.path), ["audio", "video"]);
    assert.equal(subtitles?.media?.name, "Talk.en.srt");
    assert.doesNotMatch(subtitles?.text ?? "", /part \d/);
    assert.match(
      await (await import("node:fs/promises")).readFile(subtitles!.media!.path, "utf8"),
      /Hello there/,
    );
  });
});

/** The real runner and steps on the world's database; resolves `settled(n)` once n jobs ended. */
async function startRunner(t: Parameters<typeof startBotWorld>[0], w: BotWorld) {
  const events: RunnerEvent[] = [];
  const waiters = new Set<() => void>();
  const runner = createRunner({
    db: w.database.db,
    log: createLogger({ level: "silent" }),
    pollMs: 50,
    steps: createJobSteps({
      db: w.database.db,
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
  return (n: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        const ended = events.filter((e) => e.type === "done" || e.type === "failed");
        if (ended.length < n) return;
        clearTimeout(timer);
        waiters.delete(check);
        const failed = ended.filter((e) => e.type === "failed");
        if (failed.length > 0)
          reject(
            new Error(`failed: ${failed.map((e) => String((e as { error?: unknown }).error)).join("; ")}`),
          );
        else resolve();
      };
      const timer = setTimeout(
        () => reject(new Error(`jobs not settled: ${events.map((e) => e.type)}`)),
        120_000,
      );
      waiters.add(check);
      check();
    });
}
