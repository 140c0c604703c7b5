import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { CancelledError, ToolError } from "../../src/errors.js";
import { probeMedia } from "../../src/media/probe.js";
import { splitBytes, splitFile, splitVideo } from "../../src/media/split.js";
import { makeClip, makeRandomFile, makeTempDir, type TempDir } from "../support/media-fixtures.js";

const TOOLS = { ffmpegPath: "ffmpeg", ffprobePath: "ffprobe", toolTimeoutMs: 60_000 };
/** Stream-copy cuts land on packet boundaries: the parts' durations add up to the whole within this. */
const DURATION_TOLERANCE_S = 0.3;
let dir: TempDir;

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("splitFile", () => {
  before(async () => {
    dir = await makeTempDir("medusa-split-");
  });
  after(async () => dir.remove());

  it("cuts a video into playable parts under the limit whose durations add up", async () => {
    const clip = await makeClip(path.join(dir.path, "long.mp4"), {
      seconds: 8,
      width: 320,
      height: 240,
      videoBitrate: "300k",
    });
    const whole = await probeMedia(TOOLS, clip);
    const size = (await stat(clip)).size;
    const limit = Math.ceil(size / 3.5);
    const outDir = path.join(dir.path, "video-parts");
    await mkdir(outDir);

    const parts = await splitFile(TOOLS, clip, { maxBytes: limit, outDir });
    assert.ok(parts.length >= 4, `${parts.length} parts`);
    assert.deepEqual(
      parts.map((p) => path.basename(p)),
      parts.map((_, i) => `long.part${String(i + 1).padStart(3, "0")}.mp4`),
    );
    let total = 0;
    for (const part of parts) {
      const partSize = (await stat(part)).size;
      assert.ok(partSize <= limit, `${path.basename(part)} is ${partSize} bytes, limit ${limit}`);
      const info = await probeMedia(TOOLS, part);
      assert.equal(info.kind, "video");
      assert.equal(info.videoCodec, "h264");
      assert.equal(info.audioCodec, "aac");
      total += info.duration ?? 0;
    }
    assert.ok(
      Math.abs(total - (whole.duration ?? 0)) < DURATION_TOLERANCE_S,
      `parts ${total.toFixed(3)} s, whole ${whole.duration} s`,
    );
  });

  it("re-cuts a part that container overhead pushed over the limit", async () => {
    // 60 fps video at 16 kbit/s: the mp4 index is a large share of each part, so the packet-size plan alone
    // underestimates the first part, which must be cut again, smaller (later parts use the measured overhead).
    const clip = await makeClip(path.join(dir.path, "dense.mp4"), {
      seconds: 6,
      width: 64,
      height: 48,
      fps: 60,
      gop: 6,
      videoBitrate: "16k",
    });
    const whole = await probeMedia(TOOLS, clip);
    const limit = Math.ceil((await stat(clip)).size / 4);
    const outDir = path.join(dir.path, "dense-parts");
    await mkdir(outDir);
    const cuts: number[] = [];
    const parts = await splitVideo(TOOLS, clip, {
      maxBytes: limit,
      outDir,
      onPart: (p) => cuts.push(p.cuts),
    });
    assert.equal(cuts.length, parts.length);
    assert.ok(
      cuts.some((n) => n > 1),
      `cuts per part: ${cuts.join(",")}`,
    );
    let total = 0;
    for (const part of parts) {
      assert.ok((await stat(part)).size <= limit);
      total += (await probeMedia(TOOLS, part)).duration ?? 0;
    }
    assert.ok(Math.abs(total - (whole.duration ?? 0)) < DURATION_TOLERANCE_S, `parts ${total} s`);
    assert.deepEqual(
      (await readdir(outDir)).sort(),
      parts.map((p) => path.basename(p)).sort(),
      "no stray files",
    );
  });

  it("cancel between parts removes the parts already written", async () => {
    const clip = await makeClip(path.join(dir.path, "to-cancel.mp4"), { seconds: 4, videoBitrate: "200k" });
    const outDir = path.join(dir.path, "cancel-parts");
    await mkdir(outDir);
    const controller = new AbortController();
    let finished = 0;
    const error = await splitVideo(TOOLS, clip, {
      maxBytes: Math.ceil((await stat(clip)).size / 3),
      outDir,
      signal: controller.signal,
      onPart: () => {
        finished++;
        controller.abort();
      },
    }).catch((e: unknown) => e);
    assert.ok(error instanceof CancelledError, String(error));
    assert.equal(finished, 1, "one part was complete when cancelled");
    assert.deepEqual(await readdir(outDir), []);
  });

  it("returns the file itself when it fits", async () => {
    const clip = await makeClip(path.join(dir.path, "small.mp4"), { seconds: 1 });
    assert.deepEqual(await splitFile(TOOLS, clip, { maxBytes: 50 * 1024 * 1024 }), [clip]);
  });

  it("fails cleanly when one keyframe interval alone is over the limit, and falls back to bytes", async () => {
    // One keyframe for the whole clip: no cut point exists.
    const clip = await makeClip(path.join(dir.path, "one-gop.mp4"), { seconds: 3, gop: 1000 });
    const size = (await stat(clip)).size;
    const outDir = path.join(dir.path, "gop-parts");
    await mkdir(outDir);
    const error = await splitVideo(TOOLS, clip, { maxBytes: Math.ceil(size / 2), outDir }).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof ToolError);
    assert.equal(error.code, "SPLIT_PART_TOO_BIG");
    assert.deepEqual(await readdir(outDir), [], "no part left behind");
    // splitFile still sends it: as byte parts.
    const parts = await splitFile(TOOLS, clip, { maxBytes: Math.ceil(size / 2), outDir });
    assert.deepEqual(
      parts.map((p) => path.basename(p)),
      ["one-gop.mp4.001", "one-gop.mp4.002"],
    );
    assert.equal(
      sha(Buffer.concat(await Promise.all(parts.map((p) => readFile(p))))),
      sha(await readFile(clip)),
    );
  });

  it("cuts other files into .001, .002 … that join back byte for byte", async () => {
    const blob = await makeRandomFile(path.join(dir.path, "archive.zip"), 1_000_003);
    const parts = await splitFile(TOOLS, blob, { maxBytes: 300_000 });
    assert.deepEqual(
      parts.map((p) => path.basename(p)),
      ["archive.zip.001", "archive.zip.002", "archive.zip.003", "archive.zip.004"],
    );
    const buffers = await Promise.all(parts.map((p) => readFile(p)));
    assert.deepEqual(
      buffers.map((b) => b.length),
      [300_000, 300_000, 300_000, 100_003],
    );
    assert.equal(sha(Buffer.concat(buffers)), sha(await readFile(blob)));
  });

  it("stops a byte split on cancel and removes its parts", async () => {
    const blob = await makeRandomFile(path.join(dir.path, "cancelled.bin"), 200_000);
    const controller = new AbortController();
    controller.abort();
    const error = await splitBytes(blob, { maxBytes: 50_000, signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof CancelledError);
    assert.deepEqual(
      (await readdir(dir.path)).filter((n) => n.startsWith("cancelled.bin.")),
      [],
    );
  });
});
