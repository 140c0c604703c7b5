/** Migration 0008: the /settings columns on user_settings — existing rows keep their choices, CHECKs hold, and down undoes it. */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { Migrator } from "kysely";
import { migrateToLatest, openDatabase } from "../../src/db/database.js";
import * as m0001 from "../../src/db/migrations/0001_initial.js";
import * as m0002 from "../../src/db/migrations/0002_updates.js";
import * as m0003 from "../../src/db/migrations/0003_job_queue.js";
import * as m0008 from "../../src/db/migrations/0008_user_preferences.js";
import * as m0009 from "../../src/db/migrations/0009_link_prompts.js";
import { getAwaitedInput, getUserSettings, setAwaitedInput } from "../../src/db/settings.js";
import { tempDir } from "../support/temp-dir.js";

describe("migration 0008_user_preferences", () => {
  it("adds language, split size, thumbnail and the awaited input to rows that exist, with CHECKs", async (t) => {
    const opened = openDatabase(path.join(tempDir(t), "medusa.db"));
    t.after(() => opened.close());
    const before = new Migrator({
      db: opened.db,
      provider: {
        getMigrations: async () => ({
          "0001_initial": m0001,
          "0002_updates": m0002,
          "0003_job_queue": m0003,
        }),
      },
    });
    assert.equal((await before.migrateToLatest()).error, undefined);
    opened.sqlite.prepare("INSERT INTO users (id) VALUES (7)").run();
    opened.sqlite
      .prepare("INSERT INTO user_settings (user_id, upload_as, quality) VALUES (7, 'document', '720')")
      .run();

    const outcome = await migrateToLatest(opened.db);
    assert.equal(outcome.error, undefined);
    assert.ok(outcome.applied.includes("0008_user_preferences"));
    const settings = await getUserSettings(opened.db, 7);
    assert.deepEqual(
      [settings.uploadAs, settings.quality, settings.language, settings.splitBytes, settings.thumbnailPath],
      ["document", "720", null, null, null],
    );
    for (const bad of [
      "UPDATE user_settings SET language = 'de'",
      "UPDATE user_settings SET split_bytes = 0",
      "UPDATE user_settings SET awaiting = 'name'",
    ]) {
      assert.throws(() => opened.sqlite.prepare(bad).run(), /CHECK constraint failed/, bad);
    }

    const now = "2026-12-01T10:00:00.000Z";
    await setAwaitedInput(opened.db, 7, { kind: "caption", until: "2026-12-01T10:05:00.000Z" });
    assert.deepEqual(await getAwaitedInput(opened.db, 7, now), {
      kind: "caption",
      until: "2026-12-01T10:05:00.000Z",
    });
    assert.equal(await getAwaitedInput(opened.db, 7, "2026-12-01T10:05:00.001Z"), undefined, "expired");
    await setAwaitedInput(opened.db, 7, null);
    assert.equal(await getAwaitedInput(opened.db, 7, now), undefined);

    await m0009.down(opened.db as never); // 0009 added ask_quality to the same table
    await m0008.down(opened.db as never);
    const columns = (
      opened.sqlite.prepare("PRAGMA table_info(user_settings)").all() as { name: string }[]
    ).map((c) => c.name);
    assert.deepEqual(columns, [
      "user_id",
      "quality",
      "upload_as",
      "destination_chat_id",
      "caption_template",
      "split_large",
      "updated_at",
    ]);
  });
});
