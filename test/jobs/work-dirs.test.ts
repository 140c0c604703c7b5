import assert from "node:assert/strict";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { openAndMigrate } from "../../src/db/database.js";
import { enqueueJobs, requestCancel } from "../../src/db/job-queue.js";
import { touchUser } from "../../src/db/users.js";
import { createWorkCleanup } from "../../src/jobs/work-cleanup.js";
import { createLogger } from "../../src/logger.js";
import { tempDir } from "../support/temp-dir.js";

describe("work folder sweep", () => {
  it("removes the folders of finished and vanished jobs, keeps those of unfinished ones and anything else", async (t) => {
    const dir = tempDir(t, "medusa-work-dirs-");
    const database = await openAndMigrate(path.join(dir, "medusa.db"));
    t.after(() => database.close());
    const db = database.db;
    await touchUser(db, { id: 7, firstName: "Alice" });
    const [waiting, cancelled] = await db.transaction().execute((trx) =>
      enqueueJobs(
        trx,
        ["http://127.0.0.1/a.zip", "http://127.0.0.1/b.zip"].map((source_url) => ({
          user_id: 7,
          request_chat_id: 7,
          destination_chat_id: 7,
          source_url,
        })),
        { perUserQueued: 10, totalQueued: 10 },
      ),
    );
    await requestCancel(db, cancelled?.id ?? 0);
    const work = path.join(dir, "work");
    for (const name of [`job-${waiting?.id}`, `job-${cancelled?.id}`, "job-999999", "notes"]) {
      await mkdir(path.join(work, name), { recursive: true });
      await writeFile(path.join(work, name, ".medusa-download.part"), "partial");
    }
    const removed = await createWorkCleanup(db, work, createLogger({ level: "silent" })).sweep();
    assert.equal(removed, 2);
    assert.deepEqual((await readdir(work)).sort(), [`job-${waiting?.id}`, "notes"].sort());
    assert.equal(
      await createWorkCleanup(db, path.join(dir, "nowhere"), createLogger({ level: "silent" })).sweep(),
      0,
    );
  });
});
