import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { UploadStore } from "../support/telegram-server/uploads.js";

const PART = 512 * 1024;

describe("the local server's upload store", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "tg-uploads-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("keeps a big file whole when a late resend of a part arrives while a send assembles it", async () => {
    const parts = 8;
    const data = randomBytes(PART * parts);
    const sha = createHash("sha256").update(data).digest("hex");
    // The resend lands at every point of the assembly in turn: waiting on writes, truncating, closing, hashing.
    for (let turns = 0; turns < 24; turns++) {
      const store = new UploadStore(await mkdtemp(path.join(dir, "store-")));
      const id = String(turns);
      for (let p = 0; p < parts; p++) {
        await store.saveBigPart(1, id, p, parts, data.subarray(p * PART, (p + 1) * PART), false);
      }
      const assembling = store.assemble(1, { big: true, id, parts });
      for (let i = 0; i < turns; i++) await nextTurn();
      await store.saveBigPart(1, id, 3, parts, data.subarray(3 * PART, 4 * PART), false);
      const file = await assembling;
      assert.equal(file.sha256, sha, `resend after ${turns} turns`);
      const onDisk = await readFile(file.path);
      assert.ok(onDisk.equals(data), `file on disk after ${turns} turns`);
      // A second send of the same file gets the same assembly.
      assert.equal(await store.assemble(1, { big: true, id, parts }), file);
      await store.close();
    }
  });
});
