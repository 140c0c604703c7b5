import assert from "node:assert/strict";
import path from "node:path";
import { describe, it, type TestContext } from "node:test";
import { openAndMigrate } from "../../src/db/database.js";
import { findPeerByUsername, getPeer, savePeers } from "../../src/db/peers.js";
import {
  claimUpdate,
  finishUpdate,
  getUpdateState,
  pruneHandledUpdates,
  saveUpdateState,
} from "../../src/db/update-state.js";
import { tempDir } from "../support/temp-dir.js";

async function testDatabase(t: TestContext) {
  const opened = await openAndMigrate(path.join(tempDir(t), "medusa.db"));
  t.after(() => opened.close());
  return opened;
}

describe("update state", () => {
  it("keeps one state per account and replaces it", async (t) => {
    const { db } = await testDatabase(t);
    assert.equal(await getUpdateState(db, "bot"), undefined);
    await saveUpdateState(db, "bot", { pts: 5, qts: 0, date: 100, seq: 1 });
    await saveUpdateState(db, "user", { pts: 9, qts: 2, date: 200, seq: 0 });
    await saveUpdateState(db, "bot", { pts: 7, qts: 0, date: 150, seq: 2 });
    assert.deepEqual(await getUpdateState(db, "bot"), { pts: 7, qts: 0, date: 150, seq: 2 });
    assert.deepEqual(await getUpdateState(db, "user"), { pts: 9, qts: 2, date: 200, seq: 0 });
  });

  it("claims an update once: new, then again while unfinished, then done for good", async (t) => {
    const { db } = await testDatabase(t);
    assert.equal(await claimUpdate(db, "bot", "msg:1:1"), "new");
    assert.equal(await claimUpdate(db, "bot", "msg:1:1"), "again", "the first handling never finished");
    await finishUpdate(db, "bot", "msg:1:1");
    assert.equal(await claimUpdate(db, "bot", "msg:1:1"), "done");
    assert.equal(await claimUpdate(db, "user", "msg:1:1"), "new", "each account has its own keys");
    const row = await db
      .selectFrom("handled_updates")
      .selectAll()
      .where("account", "=", "bot")
      .executeTakeFirst();
    assert.equal(row?.attempts, 2);
  });

  it("forgets handled keys older than the cut-off", async (t) => {
    const { db } = await testDatabase(t);
    await claimUpdate(db, "bot", "old");
    await db.updateTable("handled_updates").set({ handled_at: "2020-01-01T00:00:00.000Z" }).execute();
    await claimUpdate(db, "bot", "new");
    assert.equal(await pruneHandledUpdates(db, "2021-01-01T00:00:00.000Z"), 1);
    assert.equal(await claimUpdate(db, "bot", "new"), "again");
  });
});

describe("peers", () => {
  it("remembers access hashes and never erases one with a later update that lacks it", async (t) => {
    const { db } = await testDatabase(t);
    await savePeers(db, [
      { id: 42, kind: "user", access_hash: "-123", username: "Alice", title: "Alice A", lang_code: "ru" },
      { id: -1001234, kind: "channel", access_hash: "777", username: null, title: "Uploads" },
    ]);
    await savePeers(db, [{ id: 42, kind: "user", access_hash: null, username: "alice2", title: "Alice" }]);
    const alice = await getPeer(db, 42);
    assert.equal(alice?.access_hash, "-123");
    assert.equal(alice?.username, "alice2");
    assert.equal(alice?.lang_code, "ru");
    assert.equal((await findPeerByUsername(db, "@ALICE2"))?.id, 42);
    assert.equal((await getPeer(db, -1001234))?.access_hash, "777");
  });
});
