import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { appendFile, mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { UploadError } from "../../src/errors.js";
import { openPartSource } from "../../src/telegram/part-source.js";

describe("part source", async () => {
  const dir = await mkdtemp(join(tmpdir(), "medusa-part-source-"));
  after(() => rm(dir, { recursive: true, force: true }));

  it("reads any range of a file into a caller's buffer", async () => {
    const path = join(dir, "a.bin");
    const content = randomBytes(100_000);
    await writeFile(path, content);
    const source = await openPartSource(path);
    try {
      assert.equal(source.size, content.length);
      const target = Buffer.alloc(1000);
      await source.readInto(99_000, target);
      assert.ok(target.equals(content.subarray(99_000)));
      await assert.rejects(source.readInto(99_500, target), RangeError);
    } finally {
      await source.close();
    }
  });

  it("waits for a growing file to reach the part", async () => {
    const path = join(dir, "growing.bin");
    const content = randomBytes(50_000);
    await writeFile(path, content.subarray(0, 10_000));
    const source = await openPartSource(path, { growingToSize: content.length });
    try {
      const target = Buffer.alloc(20_000);
      const reading = source.readInto(30_000, target);
      await appendFile(path, content.subarray(10_000, 35_000));
      await new Promise((resolve) => setTimeout(resolve, 150));
      await appendFile(path, content.subarray(35_000));
      await reading;
      assert.ok(target.equals(content.subarray(30_000)));
    } finally {
      await source.close();
    }
  });

  it("reads a file written out of order only below the prefix its writer says is final", async () => {
    const path = join(dir, "sparse.bin");
    const content = randomBytes(64_000);
    // Sized up front and filled from the end first, as a segmented download does: the length says nothing.
    const handle = await open(path, "w");
    await handle.truncate(content.length);
    await handle.write(content, 32_000, 32_000, 32_000);
    let final = 0;
    const source = await openPartSource(path, { growingToSize: content.length, available: () => final });
    try {
      const target = Buffer.alloc(16_000);
      let done = false;
      const reading = source.readInto(16_000, target).then(() => {
        done = true;
      });
      await handle.write(content, 0, 32_000, 0);
      assert.equal(done, false, "the bytes are there, but the writer has not said so");
      final = 32_000;
      await reading;
      assert.ok(target.equals(content.subarray(16_000, 32_000)));
    } finally {
      await source.close();
      await handle.close();
    }
  });

  it("gives up on a growing file that stalls", async () => {
    const path = join(dir, "stalled.bin");
    await writeFile(path, randomBytes(10));
    const source = await openPartSource(path, { growingToSize: 100, stallTimeoutMs: 200 });
    try {
      await assert.rejects(
        source.readInto(0, Buffer.alloc(100)),
        (error: unknown) => error instanceof UploadError && error.code === "UPLOAD_SOURCE_STALLED",
      );
    } finally {
      await source.close();
    }
  });

  it("stops waiting when the signal aborts", async () => {
    const path = join(dir, "cancel.bin");
    await writeFile(path, randomBytes(10));
    const source = await openPartSource(path, { growingToSize: 100 });
    try {
      const controller = new AbortController();
      const reading = source.readInto(0, Buffer.alloc(100), controller.signal);
      controller.abort();
      await assert.rejects(reading, { code: "CANCELLED" });
    } finally {
      await source.close();
    }
  });
});
