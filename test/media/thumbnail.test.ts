import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { jpegSize, makeThumbnail, THUMB_MAX_BYTES, THUMB_MAX_SIDE } from "../../src/media/thumbnail.js";
import { ffmpeg, makeClip, makeTempDir, type TempDir } from "../support/media-fixtures.js";

const TOOLS = { ffmpegPath: "ffmpeg", ffprobePath: "ffprobe", toolTimeoutMs: 60_000 };
let dir: TempDir;

async function assertJpeg(file: string): Promise<void> {
  const bytes = await readFile(file);
  assert.equal(bytes.readUInt16BE(0), 0xffd8, "JPEG start-of-image marker");
  assert.ok(bytes.length < THUMB_MAX_BYTES, `${bytes.length} bytes`);
}

describe("makeThumbnail", () => {
  before(async () => {
    dir = await makeTempDir("medusa-thumb-");
  });
  after(async () => dir.remove());

  it("scales a wide video down to 320 px on the long side, keeping the aspect ratio", async () => {
    const clip = await makeClip(path.join(dir.path, "wide.mp4"), { seconds: 2, width: 640, height: 360 });
    const thumb = await makeThumbnail(TOOLS, clip, path.join(dir.path, "wide.jpg"), { duration: 2 });
    assert.deepEqual([thumb.width, thumb.height], [320, 180]);
    assert.deepEqual(await jpegSize(thumb.path), { width: 320, height: 180 });
    await assertJpeg(thumb.path);
  });

  it("applies rotation and never upscales a small video", async () => {
    const clip = await makeClip(path.join(dir.path, "turned.mp4"), {
      seconds: 1,
      width: 160,
      height: 120,
      rotate: 90,
    });
    const thumb = await makeThumbnail(TOOLS, clip, path.join(dir.path, "turned.jpg"), { duration: 1 });
    assert.deepEqual([thumb.width, thumb.height], [120, 160]);
    await assertJpeg(thumb.path);
  });

  it("falls back to the first frame when the 10 % point is past the end", async () => {
    const clip = await makeClip(path.join(dir.path, "short.mp4"), { seconds: 1 });
    // A wrong duration from the site: 10 % of 500 s is far past this clip's end.
    const thumb = await makeThumbnail(TOOLS, clip, path.join(dir.path, "short.jpg"), { duration: 500 });
    await assertJpeg(thumb.path);
    assert.equal(thumb.width, 160);
  });

  it("lowers the JPEG quality until a detailed frame fits the size limit", async () => {
    // Full-colour noise (~110 KB as 4:2:0 JPEG at the best quality) against a tighter limit than Telegram's.
    const limit = 100_000;
    const noise = path.join(dir.path, "noise.mkv");
    const source = "nullsrc=s=320x320:r=5:d=1,geq=lum='random(1)*255':cb='random(2)*255':cr='random(3)*255'";
    await ffmpeg([
      "-f",
      "lavfi",
      "-i",
      source,
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-qp",
      "0",
      "-pix_fmt",
      "yuv444p",
      noise,
    ]);
    const best = path.join(dir.path, "noise-best.jpg");
    await ffmpeg([
      "-i",
      noise,
      "-frames:v",
      "1",
      "-vf",
      "format=yuvj420p",
      "-q:v",
      "2",
      "-f",
      "image2",
      "-update",
      "1",
      best,
    ]);
    assert.ok((await readFile(best)).length >= limit, "the premise: the best quality is too big");
    const thumb = await makeThumbnail(TOOLS, noise, path.join(dir.path, "noise.jpg"), {
      duration: 1,
      maxBytes: limit,
    });
    await assertJpeg(thumb.path);
    assert.ok(thumb.size < limit, `${thumb.size} bytes`);
    assert.ok(Math.max(thumb.width, thumb.height) <= THUMB_MAX_SIDE);
  });

  it("leaves no temporary files behind", async () => {
    const names = await readdir(dir.path);
    assert.deepEqual(
      names.filter((n) => n.includes(".tmp")),
      [],
    );
  });
});
