import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { openDatabase } from "../src/db/database.js";
import { createJob } from "../src/db/jobs.js";
import { getUser, setRole } from "../src/db/users.js";
import { startHousekeeping } from "../src/housekeeping.js";
import { createLogger } from "../src/logger.js";
import { testDatabase } from "./db/support.js";
import { tempDir } from "./support/temp-dir.js";

const HOUR = 60 * 60 * 1000;
const log = createLogger({ level: "silent" });

describe("housekeeping", () => {
  it("backs up at start when none is recent, then once per interval, keeping the newest and nothing else touched", async (t) => {
    const database = await testDatabase(t);
    await setRole(database.db, 5, "admin", null);
    const dir = path.join(tempDir(t), "backups");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "notes.txt"), "mine");
    fs.writeFileSync(path.join(dir, "medusa-before-upgrade.db"), "mine too");
    let clock = Date.now();
    const housekeeping = startHousekeeping({
      database,
      backupsDir: dir,
      backupEveryHours: 24,
      backupKeep: 2,
      historyDays: 0,
      log,
      now: () => new Date(clock),
    });
    t.after(() => housekeeping.stop());
    await housekeeping.settled();
    const ours = () =>
      fs
        .readdirSync(dir)
        .filter((n) => /^medusa-\d{4}/.test(n))
        .sort();
    assert.equal(ours().length, 1, "the first backup is taken at start");

    const restored = openDatabase(path.join(dir, ours()[0] ?? ""), { readonly: true });
    assert.equal((await getUser(restored.db, 5))?.role, "admin");
    await restored.close();

    assert.equal((await housekeeping.runOnce()).backup, undefined, "not due an hour later");
    for (let day = 1; day <= 3; day++) {
      clock += 24 * HOUR + 1000;
      assert.ok((await housekeeping.runOnce()).backup);
      // The next one is due a day after the newest file's time.
      const newest = path.join(dir, ours().at(-1) ?? "");
      fs.utimesSync(newest, new Date(clock), new Date(clock));
    }
    assert.equal(ours().length, 2, "BACKUP_KEEP newest are kept");
    assert.deepEqual(
      fs
        .readdirSync(dir)
        .filter((n) => !/^medusa-\d{4}/.test(n))
        .sort(),
      ["medusa-before-upgrade.db", "notes.txt"],
      "files the schedule did not write stay, and no partial file is left",
    );
  });

  it("prunes job history past HISTORY_DAYS at start", async (t) => {
    const database = await testDatabase(t);
    await setRole(database.db, 1, "user", null);
    const old = "2020-01-01T00:00:00.000Z";
    await createJob(database.db, {
      user_id: 1,
      request_chat_id: 1,
      destination_chat_id: 1,
      source_url: "https://example.com/a",
      status: "done",
      created_at: old,
      run_at: old,
    });
    const housekeeping = startHousekeeping({
      database,
      backupsDir: path.join(tempDir(t), "backups"),
      backupEveryHours: 0,
      backupKeep: 1,
      historyDays: 30,
      log,
    });
    t.after(() => housekeeping.stop());
    await housekeeping.settled();
    assert.equal((await database.db.selectFrom("jobs").selectAll().execute()).length, 0);
    const daily = database.sqlite.prepare("SELECT day, jobs, done FROM v_daily").all();
    assert.deepEqual(daily, [{ day: "2020-01-01", jobs: 1, done: 1 }]);
  });
});
