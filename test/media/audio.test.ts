import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { UserError } from "../../src/errors.js";
import { extractAudio } from "../../src/media/audio.js";
import { probeMedia } from "../../src/media/probe.js";
import { ffmpeg, makeClip, makeTempDir, type TempDir } from "../support/media-fixtures.js";

const TOOLS = { ffmpegPath: "ffmpeg", ffprobePath: "ffprobe", toolTimeoutMs: 60_000 };
let dir: TempDir;

/** A short testsrc video with a sine in the given audio codec, in Matroska (which holds any codec). */
async function videoWithAudio(name: string, codecArgs: string[]): Promise<string> {
  const file = path.join(dir.path, name);
  await ffmpeg([
    ...["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=2"],
    ...["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2"],
    ...["-c:v", "libx264", "-preset", "ultrafast", ...codecArgs, "-shortest", file],
  ]);
  return file;
}

describe("extractAudio", () => {
  before(async () => {
    dir = await makeTempDir("medusa-audio-");
  });
  after(async () => dir.remove());

  it("copies AAC into m4a", async () => {
    const clip = await makeClip(path.join(dir.path, "clip.mp4"), { seconds: 2 });
    const audio = await extractAudio(TOOLS, clip);
    assert.equal(audio.path, path.join(dir.path, "clip.m4a"));
    assert.deepEqual([audio.codec, audio.copied], ["aac", true]);
    const info = await probeMedia(TOOLS, audio.path);
    assert.equal(info.kind, "audio");
    assert.equal(info.videoCodec, undefined);
    assert.ok(Math.abs((info.duration ?? 0) - 2) < 0.1);
  });

  it("copies MP3 into mp3", async () => {
    const file = await videoWithAudio("mp3.mkv", ["-c:a", "libmp3lame"]);
    const audio = await extractAudio(TOOLS, file, { outDir: dir.path });
    assert.equal(path.extname(audio.path), ".mp3");
    assert.deepEqual([audio.codec, audio.copied], ["mp3", true]);
    assert.equal((await probeMedia(TOOLS, audio.path)).audioCodec, "mp3");
  });

  it("encodes other codecs to AAC in m4a", async () => {
    const file = await videoWithAudio("pcm.mkv", ["-c:a", "pcm_s16le"]);
    const audio = await extractAudio(TOOLS, file);
    assert.equal(path.extname(audio.path), ".m4a");
    assert.deepEqual([audio.codec, audio.copied], ["aac", false]);
    assert.equal((await probeMedia(TOOLS, audio.path)).audioCodec, "aac");
  });

  it("refuses a video without sound, leaving nothing behind", async () => {
    const silent = await makeClip(path.join(dir.path, "silent.mp4"), { seconds: 1, audio: false });
    const error = await extractAudio(TOOLS, silent).catch((e: unknown) => e);
    assert.ok(error instanceof UserError);
    assert.equal(error.code, "NO_AUDIO");
    assert.deepEqual(
      (await readdir(dir.path)).filter((n) => n.startsWith("silent") || n.includes(".tmp")),
      ["silent.mp4"],
    );
  });
});
