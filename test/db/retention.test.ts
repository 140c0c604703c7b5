import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Db } from "../../src/db/database.js";
import { planDelivery } from "../../src/db/deliveries.js";
import { recordEvent } from "../../src/db/events.js";
import { recordFile } from "../../src/db/files.js";
import { createJob } from "../../src/db/jobs.js";
import { firstKeptDay, pruneHistory } from "../../src/db/retention.js";
import type { JobStatus } from "../../src/db/schema.js";
import { setRole } from "../../src/db/users.js";
import { testDatabase } from "./support.js";

const NOW = new Date("2026-06-30T12:00:00.000Z");

async function job(db: Db, userId: number, day: string, status: JobStatus, mib = 1) {
  const at = `${day}T10:00:00.000Z`;
  return createJob(db, {
    user_id: userId,
    request_chat_id: userId,
    destination_chat_id: userId,
    source_url: `https://example.com/${day}/${status}/${mib}`,
    status,
    bytes_total: mib * 1024 * 1024,
    upload_ms: status === "done" ? 500 : null,
    created_at: at,
    run_at: at,
    finished_at: status === "done" || status === "failed" || status === "cancelled" ? at : null,
  });
}

describe("job history retention", () => {
  it("moves whole old days into totals: v_daily and v_users read the same, recent and unfinished days stay", async (t) => {
    const { db, sqlite } = await testDatabase(t);
    await setRole(db, 1, "user", null);
    await setRole(db, 2, "user", null);
    const old = await job(db, 1, "2026-03-01", "done", 10);
    await job(db, 2, "2026-03-01", "failed");
    await job(db, 2, "2026-03-02", "done", 4);
    await job(db, 1, "2026-03-03", "cancelled");
    const stuck = await job(db, 2, "2026-03-04", "queued"); // an old day with a job still waiting
    await job(db, 2, "2026-03-04", "done");
    const recent = await job(db, 1, "2026-06-29", "done", 3);
    await planDelivery(db, { jobId: old.id, part: 1, chatId: 1, target: "destination" });
    await recordFile(db, {
      sha256: "b".repeat(64),
      size: 1,
      name: "kept.bin",
      mime_type: null,
      kind: "document",
      account: "bot",
      document_id: "1",
      access_hash: "2",
      file_reference: Buffer.from([1]),
      dc_id: 2,
      duration: null,
      width: null,
      height: null,
      source_url: old.source_url,
    });
    await recordEvent(db, { category: "admin", action: "user.added", actorId: 1, subject: 2 });
    await recordEvent(db, { category: "analytics", action: "job.done", subject: old.id });
    await db.updateTable("events").set({ at: "2026-03-01T10:00:00.000Z" }).execute();

    const views = () => ({
      daily: sqlite.prepare("SELECT * FROM v_daily").all(),
      users: sqlite.prepare("SELECT * FROM v_users").all(),
    });
    const before = views();

    const outcome = await db.transaction().execute((trx) => pruneHistory(trx, { keepDays: 30, now: NOW }));
    assert.deepEqual(outcome.days, ["2026-03-01", "2026-03-02", "2026-03-03"]);
    assert.equal(outcome.jobs, 4);
    assert.equal(outcome.events, 1, "the analytics event went; the admin audit stays");
    assert.deepEqual(views(), before);

    const left = await db.selectFrom("jobs").select("id").orderBy("id").execute();
    assert.deepEqual(
      left.map((r) => r.id),
      [stuck.id, stuck.id + 1, recent.id],
    );
    assert.equal((await db.selectFrom("deliveries").selectAll().execute()).length, 0);
    assert.equal((await db.selectFrom("files").selectAll().execute()).length, 1, "files spare re-uploads");
    assert.deepEqual(
      (await db.selectFrom("events").select("action").execute()).map((e) => e.action),
      ["user.added"],
    );

    const again = await db.transaction().execute((trx) => pruneHistory(trx, { keepDays: 30, now: NOW }));
    assert.deepEqual(again, { days: [], jobs: 0, batches: 0, events: 0 });

    // The waiting job ends; its day goes at the next prune, and the views still agree.
    await db.updateTable("jobs").set({ status: "done", upload_ms: 100 }).where("id", "=", stuck.id).execute();
    const beforeSecond = views();
    const second = await db.transaction().execute((trx) => pruneHistory(trx, { keepDays: 30, now: NOW }));
    assert.deepEqual(second.days, ["2026-03-04"]);
    assert.deepEqual(views(), beforeSecond);
  });

  it("prunes at most maxDays per call, so one transaction stays short", async (t) => {
    const { db } = await testDatabase(t);
    await setRole(db, 1, "user", null);
    for (const day of ["2026-01-01", "2026-01-02", "2026-01-03"]) await job(db, 1, day, "done");
    const first = await db
      .transaction()
      .execute((trx) => pruneHistory(trx, { keepDays: 7, now: NOW, maxDays: 2 }));
    assert.deepEqual(first.days, ["2026-01-01", "2026-01-02"]);
    const second = await db
      .transaction()
      .execute((trx) => pruneHistory(trx, { keepDays: 7, now: NOW, maxDays: 2 }));
    assert.deepEqual(second.days, ["2026-01-03"]);
    const totals = await db.selectFrom("user_totals").selectAll().execute();
    assert.deepEqual(
      totals.map(({ user_id, jobs, done, bytes_sent }) => ({ user_id, jobs, done, bytes_sent })),
      [{ user_id: 1, jobs: 3, done: 3, bytes_sent: 3 * 1024 * 1024 }],
    );
  });

  it("keeps today and the days before it that the window covers", () => {
    assert.equal(firstKeptDay(1, NOW), "2026-06-30");
    assert.equal(firstKeptDay(30, NOW), "2026-06-01");
    assert.throws(() => firstKeptDay(0, NOW), /keepDays/);
  });
});
