/** Migration 0009 and the link questions' repository: compare-and-set moves and the due list a restart reads. */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { openAndMigrate } from "../../src/db/database.js";
import { duePrompts, insertPrompt, movePrompt, nextPromptDeadline } from "../../src/db/link-prompts.js";
import * as m0009 from "../../src/db/migrations/0009_link_prompts.js";
import { getUserSettings, updateUserSettings } from "../../src/db/settings.js";
import { ensureOwner } from "../../src/db/users.js";
import { tempDir } from "../support/temp-dir.js";

describe("migration 0009_link_prompts", () => {
  it("asks by default, moves a question once, lists what is due, and goes down cleanly", async (t) => {
    const opened = await openAndMigrate(path.join(tempDir(t), "medusa.db"));
    t.after(() => opened.close());
    const db = opened.db;
    await db.transaction().execute((trx) => ensureOwner(trx, 7));
    assert.equal((await getUserSettings(db, 7)).askQuality, true, "no row: ask each time");
    await updateUserSettings(db, 7, { quality: "720", askQuality: false });
    assert.equal((await getUserSettings(db, 7)).askQuality, false);

    const row = {
      user_id: 7,
      chat_id: 7,
      request_message_id: 3,
      request: "{}",
      created_at: "2026-12-01T10:00:00.000Z",
    };
    await insertPrompt(db, { ...row, id: "AAAAAAAA", state: "asking", deadline: "2026-12-01T10:01:00.000Z" });
    await insertPrompt(db, {
      ...row,
      id: "BBBBBBBB",
      state: "confirming",
      deadline: "2026-12-01T10:05:00.000Z",
    });
    assert.equal(await nextPromptDeadline(db), "2026-12-01T10:01:00.000Z");
    assert.deepEqual(
      (await duePrompts(db, "2026-12-01T10:02:00.000Z")).map((p) => p.id),
      ["AAAAAAAA"],
    );
    assert.equal(await movePrompt(db, "AAAAAAAA", ["asking"], "queued"), true);
    assert.equal(await movePrompt(db, "AAAAAAAA", ["asking"], "queued"), false, "only once");
    assert.equal(await nextPromptDeadline(db), "2026-12-01T10:05:00.000Z");

    await m0009.down(db as never);
    const tables = opened.sqlite
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'link_prompts'")
      .all();
    assert.deepEqual(tables, []);
  });
});
