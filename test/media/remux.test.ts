import assert from "node:assert/strict";
import { readdir, readFile, stat, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { CancelledError, ToolError } from "../../src/errors.js";
import { probeMedia } from "../../src/media/probe.js";
import { ensureFaststart, needsFaststart, readTopLevelAtoms } from "../../src/media/remux.js";
import { makeClip, makeTempDir, type TempDir } from "../support/media-fixtures.js";

const TOOLS = { ffmpegPath: "ffmpeg", ffprobePath: "ffprobe", toolTimeoutMs: 60_000 };
let dir: TempDir;

const order = async (file: string) => (await readTopLevelAtoms(file)).map((a) => a.type);

describe("faststart remux", () => {
  before(async () => {
    dir = await makeTempDir("medusa-remux-");
  });
  after(async () => dir.remove());

  it("detects the index after the media data and moves it to the front, streams intact", async () => {
    const clip = await makeClip(path.join(dir.path, "late-index.mp4"), { seconds: 2 });
    const atoms = await order(clip);
    assert.ok(atoms.indexOf("mdat") < atoms.indexOf("moov"), `premise: ffmpeg wrote ${atoms.join(",")}`);
    assert.equal(await needsFaststart(clip), true);
    const before = await probeMedia(TOOLS, clip);

    assert.equal(await ensureFaststart(TOOLS, clip), true);
    const after = await order(clip);
    assert.ok(after.indexOf("moov") < after.indexOf("mdat"), after.join(","));
    assert.equal(await needsFaststart(clip), false);
    const probed = await probeMedia(TOOLS, clip);
    assert.equal(probed.videoCodec, before.videoCodec);
    assert.equal(probed.audioCodec, before.audioCodec);
    assert.equal(probed.width, before.width);
    assert.ok(Math.abs((probed.duration ?? 0) - (before.duration ?? 0)) < 0.05);
    assert.deepEqual(
      (await readdir(dir.path)).filter((n) => n.includes(".tmp")),
      [],
    );
  });

  it("leaves a file with the index first untouched", async () => {
    const clip = await makeClip(path.join(dir.path, "early-index.mp4"), { seconds: 1, faststart: true });
    const bytes = await readFile(clip);
    assert.equal(await ensureFaststart(TOOLS, clip), false);
    assert.ok(bytes.equals(await readFile(clip)));
  });

  it("cancel leaves the original as it was and no temporary file", async () => {
    const clip = await makeClip(path.join(dir.path, "cancelled.mp4"), { seconds: 1 });
    const bytes = await readFile(clip);
    const error = await ensureFaststart(TOOLS, clip, { signal: AbortSignal.abort() }).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof CancelledError);
    assert.ok(bytes.equals(await readFile(clip)));
    assert.deepEqual(
      (await readdir(dir.path)).filter((n) => n.includes(".tmp")),
      [],
    );
  });

  it("ignores files that are not mp4", async () => {
    // "This…" reads as a 4-character atom type ("s is") after a huge size: only the first-atom check rejects it.
    const blob = path.join(dir.path, "notes.txt");
    await writeFile(blob, "This is not a video at all, only text.\n".repeat(100));
    assert.deepEqual(await readTopLevelAtoms(blob), []);
    assert.equal(await ensureFaststart(TOOLS, blob), false);
  });

  it("keeps the original and no temporary file when ffmpeg fails", async () => {
    const clip = await makeClip(path.join(dir.path, "broken.mp4"), { seconds: 2 });
    const atoms = await readTopLevelAtoms(clip);
    const moov = atoms.find((a) => a.type === "moov")!;
    await truncate(clip, moov.offset + 16); // the index header survives, its content does not
    const size = (await stat(clip)).size;
    const error = await ensureFaststart(TOOLS, clip).catch((e: unknown) => e);
    assert.ok(error instanceof ToolError, String(error));
    assert.ok(error.stderrTail.length > 0, "stderr tail kept");
    assert.equal((await stat(clip)).size, size);
    assert.deepEqual(
      (await readdir(dir.path)).filter((n) => n.includes(".tmp")),
      [],
    );
  });
});
