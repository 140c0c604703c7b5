import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { ToolError } from "../../src/errors.js";
import { probeMedia } from "../../src/media/probe.js";
import {
  ffmpeg,
  makeClip,
  makeRandomFile,
  makeTempDir,
  makeTone,
  type TempDir,
} from "../support/media-fixtures.js";

const TOOLS = { ffmpegPath: "ffmpeg", ffprobePath: "ffprobe", toolTimeoutMs: 60_000 };
let dir: TempDir;

describe("probeMedia", () => {
  before(async () => {
    dir = await makeTempDir("medusa-probe-");
  });
  after(async () => dir.remove());

  it("reads duration, size, codecs, bitrate and container of a video", async () => {
    const clip = await makeClip(path.join(dir.path, "clip.mp4"), { seconds: 3, width: 160, height: 120 });
    const info = await probeMedia(TOOLS, clip);
    assert.equal(info.kind, "video");
    assert.equal(info.width, 160);
    assert.equal(info.height, 120);
    assert.equal(info.rotation, 0);
    assert.equal(info.videoCodec, "h264");
    assert.equal(info.audioCodec, "aac");
    assert.match(info.container ?? "", /mp4/);
    assert.ok(Math.abs((info.duration ?? 0) - 3) < 0.1, `duration ${info.duration}`);
    assert.ok((info.bitrate ?? 0) > 0);
    assert.ok((info.size ?? 0) > 0);
  });

  it("swaps width and height of a video rotated by 90 degrees", async () => {
    const clip = await makeClip(path.join(dir.path, "rotated.mp4"), {
      seconds: 1,
      width: 160,
      height: 120,
      rotate: 90,
    });
    const info = await probeMedia(TOOLS, clip);
    assert.equal(info.kind, "video");
    assert.equal(info.rotation % 180, 90, `rotation ${info.rotation}`);
    assert.equal(info.width, 120);
    assert.equal(info.height, 160);
  });

  it("tells audio from video", async () => {
    const tone = await makeTone(path.join(dir.path, "tone.mp3"), 2);
    const info = await probeMedia(TOOLS, tone);
    assert.equal(info.kind, "audio");
    assert.equal(info.audioCodec, "mp3");
    assert.equal(info.videoCodec, undefined);
    assert.equal(info.width, undefined);
    assert.ok(Math.abs((info.duration ?? 0) - 2) < 0.1, `duration ${info.duration}`);
  });

  it("calls pictures and non-media files other", async () => {
    const png = path.join(dir.path, "picture.png");
    await ffmpeg(["-f", "lavfi", "-i", "testsrc=size=64x48", "-frames:v", "1", png]);
    assert.equal((await probeMedia(TOOLS, png)).kind, "other");
    const blob = await makeRandomFile(path.join(dir.path, "blob.bin"), 4096);
    assert.equal((await probeMedia(TOOLS, blob)).kind, "other");
    // ffprobe opens a text file of some size as "tty" art with a video stream; it is still a document.
    const notes = path.join(dir.path, "notes.txt");
    await writeFile(notes, "Meeting notes, one line of text.\n".repeat(150));
    assert.equal((await probeMedia(TOOLS, notes)).kind, "other");
  });

  it("fails with ffprobe's stderr for a missing file", async () => {
    const error = await probeMedia(TOOLS, path.join(dir.path, "missing.mp4")).catch((e: unknown) => e);
    assert.ok(error instanceof ToolError);
    assert.equal(error.tool, "ffprobe");
    assert.match(error.stderrTail, /No such file or directory/);
  });

  it("times out on input that never arrives", async () => {
    // A FIFO nobody writes to: ffprobe waits forever, so only the timeout can end it.
    const fifo = path.join(dir.path, "never.fifo");
    await promisify(execFile)("mkfifo", [fifo]);
    const error = await probeMedia({ ...TOOLS, toolTimeoutMs: 500 }, fifo).catch((e: unknown) => e);
    assert.ok(error instanceof ToolError);
    assert.equal(error.code, "TOOL_TIMEOUT");
  });
});
