/**
 * The owner hears once per episode, in their language, that jobs keep failing, that the disk is filling up, and that
 * the Premium user session stopped working: not with each failure or check, and again only after a recovery.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createOwnerNotices } from "../../src/bot/owner-notices.js";
import { createOwnerWatch, type OwnerWatch } from "../../src/bot/owner-watch.js";
import { createLogger } from "../../src/logger.js";
import { openConfiguredPremium } from "../../src/telegram/user-session.js";
import { pipelineWorld } from "../jobs/support/pipeline-world.js";
import { makeRandomFile } from "../support/media-fixtures.js";

const log = createLogger({ level: "silent" });
const MIB = 1024 * 1024;

/** A pipeline whose owner is Alice (in Russian) and whose runner events feed an owner watch. */
async function watchedWorld(
  t: Parameters<typeof pipelineWorld>[0],
  options: { failedJobs?: number; diskMargin?: number; minFreeDisk?: number } = {},
) {
  let watch: OwnerWatch | undefined;
  const p = await pipelineWorld(t, { onEvent: (event) => watch?.onRunnerEvent(event) });
  await p.db.updateTable("peers").set({ lang_code: "ru" }).where("id", "=", p.world.alice.id).execute();
  const notices = createOwnerNotices({ db: p.db, gateway: p.gateway, ownerId: p.world.alice.id, log });
  const make = (diskMargin: number) =>
    createOwnerWatch({
      db: p.db,
      notices,
      log,
      dataDir: p.world.dir,
      minFreeDisk: options.minFreeDisk ?? 0,
      diskMargin,
      failedJobs: options.failedJobs ?? 3,
      failedWindowMs: 30 * 60_000,
    });
  watch = make(options.diskMargin ?? 0);
  const texts = () => p.world.srv.server.messages(p.chat).map((m) => m.text);
  const count = (pattern: RegExp) => texts().filter((text) => pattern.test(text)).length;
  return { p, watch, make, notices, count, texts };
}

describe("owner watch", () => {
  it("tells the owner once that jobs keep failing, with the top codes, and again only after they recovered", async (t) => {
    const w = await watchedWorld(t, { failedJobs: 3 });
    const { p } = w;
    const missing = (n: number) => Array.from({ length: n }, (_, i) => `${p.site.origin}/missing-${i}.bin`);
    const failuresNotice = /Не удалось выполнить задач|не удалось выполнить задач/;

    await p.enqueue(missing(4));
    await p.waitDone(4);
    await w.watch.settled();
    assert.equal(w.count(failuresNotice), 1, w.texts().join("\n---\n"));
    const notice = w.texts().find((text) => failuresNotice.test(text)) ?? "";
    assert.match(notice, /HTTP_404 × [34]/, "the top error code, counted");
    assert.match(notice, /\/health/, "and where to look next");
    // The runner saved how to word each failure for a chat: the catalog key and its params.
    const failed = await p.db.selectFrom("jobs").selectAll().where("status", "=", "failed").execute();
    for (const row of failed) {
      assert.equal(row.error_key, "err.HTTP_GONE");
      assert.deepEqual(JSON.parse(row.error_params ?? "{}"), { status: "404 Not Found" });
    }

    // A fifth failure in the same episode says nothing.
    await p.enqueue(missing(1));
    await p.waitDone(5);
    await w.watch.settled();
    assert.equal(w.count(failuresNotice), 1, "one notice per episode");

    // Three jobs done in a row end the episode (told once); the next pile of failures is a new episode.
    for (const name of ["a.bin", "b.bin", "c.bin"]) await makeRandomFile(join(p.files, name), 50_000);
    await p.enqueue(["a.bin", "b.bin", "c.bin"].map((name) => `${p.site.origin}/${name}`));
    await p.waitDone(8);
    await w.watch.settled();
    assert.equal(w.count(/Задачи снова выполняются/), 1, w.texts().join("\n---\n"));
    await p.enqueue(missing(3));
    await p.waitDone(11);
    await w.watch.settled();
    assert.equal(w.count(failuresNotice), 2, "a new episode is told again");
  });

  it("warns once when the data folder's free space falls under the margin, and once when it is back", async (t) => {
    // The floor plus a margin of a PiB sit above what any disk here has free: low. A watch with no margin: recovered.
    const w = await watchedWorld(t, { minFreeDisk: MIB, diskMargin: 2 ** 50 });
    const low = /В папке данных .* свободно только/;
    await w.watch.checkDisk();
    await w.watch.tick();
    await w.watch.checkDisk();
    assert.equal(w.count(low), 1, w.texts().join("\n---\n"));
    const notice = w.texts().find((text) => low.test(text)) ?? "";
    assert.match(notice, /меньше 1(\.0)? MiB/, "says the floor");
    assert.match(notice, /data\/backups/, "and what to do");

    await w.make(0).checkDisk();
    await w.make(0).checkDisk();
    assert.equal(w.count(/Место на диске освободилось/), 1);
    await w.watch.checkDisk();
    assert.equal(w.count(low), 2, "a new episode after the recovery");
  });

  it("tells the owner once that the user session was revoked, with the command that fixes it", async (t) => {
    const w = await watchedWorld(t);
    const { p } = w;
    const operator = p.world.srv.server.createUser({ username: "operator", premium: true, session: true });
    assert.ok(p.world.srv.server.revokeSession(operator.id) > 0);
    for (let start = 0; start < 2; start++) {
      let code: string | undefined;
      const premium = await openConfiguredPremium(
        { ...p.world.config, userSession: operator.session ?? "" },
        { db: p.db, log, onUnusable: (c) => (code = c) },
      );
      assert.equal(premium, undefined, "a revoked session is not used");
      assert.equal(code, "SESSION_REVOKED");
      await w.watch.sessionStopped(code);
    }
    const stopped = /сессия Premium перестала работать \(SESSION_REVOKED\)/;
    assert.equal(w.count(stopped), 1, w.texts().join("\n---\n"));
    assert.match(w.texts().find((text) => stopped.test(text)) ?? "", /medusa login/);
  });
});
