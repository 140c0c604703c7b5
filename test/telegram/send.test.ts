/** sendFile against the local Telegram server: attributes, thumbnail, caption, random_id de-duplication. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { TelegramClient } from "telegram";
import { CancelledError, UploadError } from "../../src/errors.js";
import { randomLong } from "../../src/lib/ids.js";
import { installGramjsPatches } from "../../src/telegram/gramjs-patches.js";
import { sendFile } from "../../src/telegram/send.js";
import { type UploadedFile, uploadFile } from "../../src/telegram/uploader.js";
import type { RunningTelegramServer } from "../support/telegram-server/index.js";
import { writePatternFile } from "./support/files.js";
import { startUserPair, type UserPair } from "./support/user-pair.js";

const JPEG_START = Buffer.from([0xff, 0xd8, 0xff, 0xe0]);

describe("sendFile against the local Telegram server", () => {
  let srv: RunningTelegramServer;
  let client: TelegramClient;
  let dir: string;
  let alice: { id: number };
  let bob: { id: number; accessHash: string };
  let video: UploadedFile;
  let videoSha: string;

  let pair: UserPair;

  before(async () => {
    // As the composition root does: before any client exists, so uploads run on the patched gramjs.
    installGramjsPatches();
    pair = await startUserPair("medusa-send-");
    ({ srv, client, dir, alice, bob } = pair);
    const path = join(dir, "clip.mp4");
    videoSha = await writePatternFile(path, 12 * 1024 * 1024 + 7);
    video = await uploadFile(client, path);
  });

  after(() => pair.close());

  const bobPeer = () => pair.bobPeer();
  const chat = () => ({ user: alice.id, peer: bob.id });

  it("sends a video with its attributes, a JPEG thumbnail and a caption", async () => {
    const thumbnail = join(dir, "thumb.jpg");
    await writeFile(thumbnail, Buffer.concat([JPEG_START, randomBytes(5000)]));
    const sent = await sendFile(client, {
      peer: bobPeer(),
      file: video,
      randomId: randomLong(),
      caption: "A clip",
      mimeType: "video/mp4",
      video: { durationSeconds: 42, width: 1280, height: 720, supportsStreaming: true },
      thumbnailPath: thumbnail,
    });
    assert.equal(sent.duplicate, false);
    const message = srv.server.messages(chat()).find((m) => m.id === sent.messageId);
    assert.equal(message?.text, "A clip");
    assert.equal(message?.media?.sha256, videoSha);
    assert.equal(message?.media?.mimeType, "video/mp4");
    assert.equal(message?.media?.hasThumb, true);
    assert.deepEqual(
      message?.media?.attributes.find((a) => a.type === "video"),
      { type: "video", duration: 42, w: 1280, h: 720, supportsStreaming: true },
    );
    assert.deepEqual(
      message?.media?.attributes.find((a) => a.type === "filename"),
      { type: "filename", fileName: "clip.mp4" },
    );
  });

  it("is dropped by Telegram when re-sent with the same random_id (a crash between send and record)", async () => {
    const randomId = randomLong();
    const first = await sendFile(client, { peer: bobPeer(), file: video, randomId, caption: "once" });
    const before = srv.server.messages(chat()).length;
    const again = await sendFile(client, { peer: bobPeer(), file: video, randomId, caption: "once" });
    assert.equal(first.duplicate, false);
    assert.equal(again.duplicate, true);
    assert.equal(again.messageId, undefined);
    assert.equal(srv.server.messages(chat()).length, before);
  });

  it("sends audio attributes", async () => {
    const sent = await sendFile(client, {
      peer: bobPeer(),
      file: video,
      randomId: randomLong(),
      mimeType: "audio/mpeg",
      fileName: "song.mp3",
      audio: { durationSeconds: 180, title: "Song", performer: "Band" },
    });
    const message = srv.server.messages(chat()).find((m) => m.id === sent.messageId);
    assert.deepEqual(
      message?.media?.attributes.find((a) => a.type === "audio"),
      { type: "audio", duration: 180, title: "Song", performer: "Band" },
    );
  });

  it("refuses a thumbnail that is not a JPEG before uploading anything", async () => {
    const png = join(dir, "thumb.png");
    await writeFile(png, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), randomBytes(100)]));
    const saves = srv.server.counters().rpcs["upload.SaveFilePart"] ?? 0;
    await assert.rejects(
      sendFile(client, { peer: bobPeer(), file: video, randomId: randomLong(), thumbnailPath: png }),
      (error: unknown) => error instanceof UploadError && error.code === "THUMBNAIL_INVALID",
    );
    assert.equal(srv.server.counters().rpcs["upload.SaveFilePart"] ?? 0, saves);
  });

  it("checks random_id and attributes up front", async () => {
    await assert.rejects(
      sendFile(client, { peer: bobPeer(), file: video, randomId: 0n }),
      /Expected `randomId` to be a non-zero signed 64-bit integer, got 0/,
    );
    await assert.rejects(
      sendFile(client, {
        peer: bobPeer(),
        file: video,
        randomId: randomLong(),
        video: { durationSeconds: -1, width: 1, height: 1, supportsStreaming: false },
      }),
      /Expected `video.durationSeconds` to be a non-negative number, got -1/,
    );
  });
});

describe("a send whose answer never comes", () => {
  it("fails with SEND_TIMEOUT after timeoutMs, and at once when its signal aborts", async (t) => {
    installGramjsPatches();
    const pair = await startUserPair("medusa-send-lost-");
    t.after(() => pair.close());
    const path = join(pair.dir, "small.bin");
    await writeFile(path, randomBytes(10_000));
    const file = await uploadFile(pair.client, path);
    // Connections are accepted and read, never answered: gramjs reconnects into it and waits.
    await pair.srv.server.startOutage({ mode: "blackhole" });
    t.after(() => pair.srv.server.endOutage());

    let started = performance.now();
    await assert.rejects(
      sendFile(pair.client, { peer: pair.bobPeer(), file, randomId: randomLong(), timeoutMs: 1500 }),
      (error: unknown) => error instanceof UploadError && error.code === "SEND_TIMEOUT",
    );
    const waited = performance.now() - started;
    assert.ok(waited >= 1400 && waited < 5000, `gave up after ${Math.round(waited)} ms`);

    const controller = new AbortController();
    started = performance.now();
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(
      sendFile(pair.client, {
        peer: pair.bobPeer(),
        file,
        randomId: randomLong(),
        signal: controller.signal,
      }),
      (error: unknown) => error instanceof CancelledError,
    );
    assert.ok(performance.now() - started < 1000, "stopped when the signal aborted");
  });
});
