/**
 * An upload cut off by SIGKILL resumes after a start from its saved file id and acknowledged parts: the server
 * receives each part about once, not twice, and the file arrives whole and once. When Telegram has forgotten the
 * saved parts, the part is uploaded afresh under a new file id.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { decodeParts, encodeParts, type SavedUpload } from "../../src/jobs/upload-resume.js";
import { makeRandomFile } from "../support/media-fixtures.js";
import { medusaChildWorld } from "./support/medusa-child.js";

const PART = 512 * 1024;
/** 48 parts (saveBigFilePart) at 1 MB/s per connection: the upload takes seconds, so the kill lands mid-way. */
// The files are named .mp4 so that the fetch step does not upload them while downloading (it leaves what may be a
// video to the deliver step, whose upload is the one that resumes); their bytes are not media, so they go as files.
const FILE_BYTES = 24 * 1024 * 1024;
const PARTS = FILE_BYTES / PART;

/** Bound on the server noticing a killed process's sockets; a loaded machine takes well under a second. */
const CLOSE_TIMEOUT_MS = 30_000;

/**
 * Resolves once the server holds no connection: a killed process's last bytes may still be in its receive queue,
 * and a part they complete counts as saved then, after the kill.
 */
async function serverIdle(w: {
  srv: { server: { counters(): { connectionsOpen: number } } };
}): Promise<void> {
  const deadline = Date.now() + CLOSE_TIMEOUT_MS;
  while (w.srv.server.counters().connectionsOpen > 0) {
    if (Date.now() > deadline) throw new Error("the killed process's connections stayed open");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function savedUpload(checkpoint: string): SavedUpload | undefined {
  return (JSON.parse(checkpoint) as { uploads?: Record<string, SavedUpload> }).uploads?.["1"];
}

describe("upload resume", () => {
  it("writes acknowledged parts as ranges and reads them back within the file's parts", () => {
    assert.equal(encodeParts([5, 0, 1, 2, 3, 7, 8, 9, 3]), "0-3,5,7-9");
    assert.equal(encodeParts([]), "");
    assert.deepEqual(decodeParts("0-3,5,7-9", 100), [0, 1, 2, 3, 5, 7, 8, 9]);
    assert.deepEqual(
      decodeParts("8-20,x,3", 10),
      [8, 9, 3],
      "beyond the file or malformed: not acknowledged",
    );
  });

  it("resumes a killed upload from its saved parts: each part saved about once, the file whole and once", async (t) => {
    const w = await medusaChildWorld(t, {
      files: async (dir) => [await makeRandomFile(path.join(dir, "big.mp4"), FILE_BYTES)],
      telegramBandwidth: 1_000_000,
    });
    const saved = () => w.srv.server.counters().rpcs["upload.SaveBigFilePart"] ?? 0;
    const crashing = w.medusa({ MEDUSA_CRASH_AT: "deliver.upload-saved:2" });
    assert.equal(await crashing.exit, "SIGKILL", `the crash point was reached\n${crashing.stderr()}`);
    await serverIdle(w);
    const firstRun = saved();
    const [row] = await w.jobRows();
    const progress = savedUpload(row?.checkpoint ?? "{}");
    assert.ok(progress, "the upload's progress is in the checkpoint");
    const acknowledged = decodeParts(progress.acked, PARTS).length;
    assert.ok(acknowledged > 0 && acknowledged < PARTS, `${acknowledged} of ${PARTS} parts acknowledged`);

    const rows = await w.runToEnd();
    assert.equal(rows[0]?.status, "done", rows[0]?.error_message ?? "");
    const secondRun = saved() - firstRun;
    assert.equal(secondRun, PARTS - acknowledged, "the second run sends only the parts not acknowledged");
    t.diagnostic(JSON.stringify({ parts: PARTS, firstRun, acknowledged, secondRun, total: saved() }));
    assert.ok(saved() < 1.5 * PARTS, `${saved()} parts saved in all for ${PARTS}`);
    assert.deepEqual(
      w.toAlice().map((m) => m.media?.sha256),
      w.hashes,
      "once, byte-identical",
    );
    assert.deepEqual(
      w.toLog().map((m) => m.media?.sha256),
      w.hashes,
      "one log copy",
    );
    const assembled = w.srv.server.documents().filter((d) => d.sha256 === w.hashes[0]);
    assert.equal(assembled.length, 1, "one file assembled");
    assert.equal(
      savedUpload(rows[0]?.checkpoint ?? "{}"),
      undefined,
      "the finished upload left the checkpoint",
    );
  });

  it("uploads afresh when Telegram forgot the saved parts, and still delivers once", async (t) => {
    const w = await medusaChildWorld(t, {
      files: async (dir) => [await makeRandomFile(path.join(dir, "big.mp4"), FILE_BYTES)],
      telegramBandwidth: 1_000_000,
    });
    const crashing = w.medusa({ MEDUSA_CRASH_AT: "deliver.upload-saved:2" });
    assert.equal(await crashing.exit, "SIGKILL", `the crash point was reached\n${crashing.stderr()}`);
    const [row] = await w.jobRows();
    const before = savedUpload(row?.checkpoint ?? "{}");
    assert.ok(before, "the upload's progress is in the checkpoint");
    assert.equal(await w.srv.server.expireUploadedParts(), 1, "the half-done upload expired");

    const rows = await w.runToEnd();
    assert.equal(rows[0]?.status, "done", rows[0]?.error_message ?? "");
    const missing = Object.keys(w.srv.server.counters().errors).filter((e) =>
      /^FILE_PART_\d+_MISSING$/.test(e),
    );
    assert.ok(missing.length > 0, "Telegram reported the parts missing");
    assert.deepEqual(
      w.toAlice().map((m) => m.media?.sha256),
      w.hashes,
      "once, byte-identical",
    );
    assert.deepEqual(
      w.toLog().map((m) => m.media?.sha256),
      w.hashes,
      "one log copy",
    );
  });
});
