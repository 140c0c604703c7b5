import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { sql } from "kysely";
import { addChat, getChat, listChats, removeChat } from "../../src/db/chats.js";
import { backupDatabase, openDatabase } from "../../src/db/database.js";
import { listDeliveries, markDelivered, planDelivery } from "../../src/db/deliveries.js";
import { listEvents, recordEvent } from "../../src/db/events.js";
import { findFileByContent, findFileBySource, recordFile } from "../../src/db/files.js";
import {
  batchProgress,
  canTransition,
  countUnfinishedForUser,
  createBatch,
  createJob,
  finishBatchIfDone,
  getJob,
  listUnfinished,
  recordProgress,
  transitionJob,
} from "../../src/db/jobs.js";
import {
  DEFAULT_SETTINGS,
  getBotSetting,
  getUserSettings,
  setBotSetting,
  updateUserSettings,
} from "../../src/db/settings.js";
import { ensureOwner, getUser, isAuthorised, listUsers, setRole, touchUser } from "../../src/db/users.js";
import { tempDir } from "../support/temp-dir.js";
import { engineDatabase, engines } from "./support.js";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

for (const engine of engines()) {
  describe(engine.name, { skip: engine.skip }, () => {
    describe("users", () => {
      it("records a profile without changing the role, and updates names later", async (t) => {
        const { db } = await engineDatabase(t, engine.name);
        const first = await touchUser(db, { id: 42, username: "alice", firstName: "Alice" });
        assert.equal(first.role, "user");
        assert.match(first.created_at, ISO);
        await setRole(db, 42, "admin", null);
        const again = await touchUser(db, { id: 42, username: "alice2", firstName: "Alice" });
        assert.equal(again.role, "admin", "touching keeps the role");
        assert.equal(again.username, "alice2");
      });

      it("keeps exactly one owner: the configured one", async (t) => {
        const { db } = await engineDatabase(t, engine.name);
        await db.transaction().execute((trx) => ensureOwner(trx, 1));
        await db.transaction().execute((trx) => ensureOwner(trx, 2));
        assert.equal((await getUser(db, 1))?.role, "admin", "the old owner steps down to admin");
        assert.equal((await getUser(db, 2))?.role, "owner");
        assert.deepEqual(
          (await listUsers(db, ["owner"])).map((u) => u.id),
          [2],
        );
      });

      it("bans and remembers who did it", async (t) => {
        const { db } = await engineDatabase(t, engine.name);
        await db.transaction().execute((trx) => ensureOwner(trx, 1));
        const banned = await setRole(db, 9, "banned", 1);
        assert.equal(banned.added_by, 1);
        assert.equal(isAuthorised(banned), false);
        assert.equal(isAuthorised(await getUser(db, 1)), true);
        assert.equal(isAuthorised(undefined), false);
      });
    });

    describe("settings", () => {
      it("returns defaults until changed, then the stored values", async (t) => {
        const { db } = await engineDatabase(t, engine.name);
        await touchUser(db, { id: 5 });
        assert.deepEqual(await getUserSettings(db, 5), DEFAULT_SETTINGS);
        await addChat(db, {
          id: -100777,
          kind: "channel",
          purpose: "destination",
          title: "Films",
          owner_id: 5,
        });
        await updateUserSettings(db, 5, { quality: "720", destinationChatId: -100777 });
        const next = await updateUserSettings(db, 5, { splitLarge: false });
        assert.deepEqual(next, {
          ...DEFAULT_SETTINGS,
          quality: "720",
          destinationChatId: -100777,
          splitLarge: false,
        });
        assert.deepEqual(await getUserSettings(db, 5), next);
      });

      it("falls back to the user's own chat when the destination is removed", async (t) => {
        const { db } = await engineDatabase(t, engine.name);
        await touchUser(db, { id: 5 });
        await addChat(db, { id: -100777, kind: "channel", purpose: "destination" });
        await updateUserSettings(db, 5, { destinationChatId: -100777 });
        assert.equal(await removeChat(db, -100777), true);
        assert.equal((await getUserSettings(db, 5)).destinationChatId, null);
      });

      it("stores bot-wide settings as JSON", async (t) => {
        const { db } = await engineDatabase(t, engine.name);
        assert.equal(await getBotSetting(db, "maintenance", false), false);
        await setBotSetting(db, "maintenance", true, null);
        await setBotSetting(db, "limits", { perUser: 3 }, null);
        assert.equal(await getBotSetting(db, "maintenance", false), true);
        assert.deepEqual(await getBotSetting(db, "limits", {}), { perUser: 3 });
      });
    });

    describe("chats", () => {
      it("adds, updates, lists by purpose and removes", async (t) => {
        const { db } = await engineDatabase(t, engine.name);
        await addChat(db, { id: -1001, kind: "channel", purpose: "log", title: "Log" });
        await addChat(db, { id: -1002, kind: "group", purpose: "destination", title: "Group" });
        await addChat(db, { id: -1001, kind: "channel", purpose: "log", title: "Log renamed" });
        assert.deepEqual(
          (await listChats(db, "log")).map((c) => [c.id, c.title]),
          [[-1001, "Log renamed"]],
        );
        assert.equal((await listChats(db)).length, 2);
        assert.equal(await removeChat(db, -1002), true);
        assert.equal(await removeChat(db, -1002), false);
        assert.equal(await getChat(db, -1002), undefined);
      });
    });

    const job = (userId: number, url: string) => ({
      user_id: userId,
      request_chat_id: userId,
      destination_chat_id: userId,
      source_url: url,
    });

    describe("jobs and batches", () => {
      it("moves a job forward step by step and stamps the times", async (t) => {
        const { db } = await engineDatabase(t, engine.name);
        await touchUser(db, { id: 7 });
        const created = await createJob(db, job(7, "https://example.com/a.mp4"));
        assert.equal(created.status, "queued");
        const downloading = await transitionJob(db, created.id, "downloading", { work_dir: "/tmp/w" });
        assert.match(downloading.started_at ?? "", ISO);
        await recordProgress(db, created.id, 50, 100);
        assert.equal((await getJob(db, created.id))?.bytes_done, 50);
        await transitionJob(db, created.id, "uploading");
        const done = await transitionJob(db, created.id, "done", { upload_ms: 1200 });
        assert.match(done.finished_at ?? "", ISO);
        assert.equal(done.work_dir, "/tmp/w");
      });

      it("refuses to move a job backwards or out of a final state", async (t) => {
        const { db } = await engineDatabase(t, engine.name);
        await touchUser(db, { id: 7 });
        const created = await createJob(db, job(7, "https://example.com/a.mp4"));
        await transitionJob(db, created.id, "uploading");
        await assert.rejects(transitionJob(db, created.id, "downloading"), { code: "JOB_STATE" });
        await transitionJob(db, created.id, "cancelled");
        await assert.rejects(transitionJob(db, created.id, "uploading"), { code: "JOB_STATE" });
        await assert.rejects(transitionJob(db, 999, "uploading"), { code: "JOB_NOT_FOUND" });
        assert.equal(canTransition("failed", "queued"), true, "a failed job may be retried");
        assert.equal(canTransition("done", "queued"), false);
      });

      it("lists unfinished jobs for a restart and counts them per user", async (t) => {
        const { db } = await engineDatabase(t, engine.name);
        await touchUser(db, { id: 7 });
        await touchUser(db, { id: 8 });
        const a = await createJob(db, job(7, "https://a"));
        const b = await createJob(db, job(7, "https://b"));
        const c = await createJob(db, job(8, "https://c"));
        await transitionJob(db, a.id, "downloading");
        await transitionJob(db, b.id, "failed", { error_code: "HTTP_404", error_message: "Not found" });
        assert.deepEqual(
          (await listUnfinished(db)).map((j) => [j.id, j.status]),
          [
            [a.id, "downloading"],
            [c.id, "queued"],
          ],
        );
        assert.equal(await countUnfinishedForUser(db, 7), 1);
        const retried = await transitionJob(db, b.id, "queued");
        assert.equal(retried.error_code, null, "a retry clears the old error");
        assert.equal(await countUnfinishedForUser(db, 7), 2);
      });

      it("creates a batch with its jobs atomically and tracks its progress", async (t) => {
        const { db } = await engineDatabase(t, engine.name);
        await touchUser(db, { id: 7 });
        const { batch, jobs } = await db.transaction().execute((trx) =>
          createBatch(trx, {
            userId: 7,
            chatId: 7,
            sourceName: "links.txt",
            jobs: [job(7, "https://a"), job(7, "https://b"), job(7, "https://c")],
          }),
        );
        assert.deepEqual(
          jobs.map((j) => [j.batch_id, j.position]),
          [
            [batch.id, 1],
            [batch.id, 2],
            [batch.id, 3],
          ],
        );
        await transitionJob(db, jobs[0]!.id, "done");
        await transitionJob(db, jobs[1]!.id, "failed");
        assert.deepEqual(await batchProgress(db, batch.id), {
          total: 3,
          done: 1,
          failed: 1,
          cancelled: 0,
          pending: 1,
        });
        assert.equal(await finishBatchIfDone(db, batch.id), undefined);
        await transitionJob(db, jobs[2]!.id, "cancelled");
        assert.equal((await finishBatchIfDone(db, batch.id))?.status, "done");
        assert.equal(await finishBatchIfDone(db, batch.id), undefined, "finishes once");
      });

      it("rolls back a batch whose job is invalid", async (t) => {
        const { db } = await engineDatabase(t, engine.name);
        await touchUser(db, { id: 7 });
        await assert.rejects(
          db.transaction().execute((trx) =>
            createBatch(trx, {
              userId: 7,
              chatId: 7,
              sourceName: null,
              jobs: [job(7, "https://a"), job(999, "https://b")],
            }),
          ),
          /FOREIGN KEY|foreign key/,
        );
        assert.equal((await db.selectFrom("batches").selectAll().execute()).length, 0);
        assert.equal((await db.selectFrom("jobs").selectAll().execute()).length, 0);
      });
    });

    describe("transactions owned by the caller", () => {
      it("commits two repository calls together", async (t) => {
        const { db } = await engineDatabase(t, engine.name);
        await touchUser(db, { id: 7 });
        const single = await createJob(db, job(7, "https://single"));
        await db.transaction().execute(async (trx) => {
          await transitionJob(trx, single.id, "downloading");
          await createBatch(trx, { userId: 7, chatId: 7, sourceName: null, jobs: [job(7, "https://b")] });
        });
        assert.equal((await getJob(db, single.id))?.status, "downloading");
        assert.equal((await db.selectFrom("batches").selectAll().execute()).length, 1);
      });

      it("rolls back both calls when the second fails", async (t) => {
        const { db } = await engineDatabase(t, engine.name);
        await touchUser(db, { id: 7 });
        const single = await createJob(db, job(7, "https://single"));
        await assert.rejects(
          db.transaction().execute(async (trx) => {
            await transitionJob(trx, single.id, "downloading");
            await planDelivery(trx, { jobId: single.id, part: 1, chatId: 7, target: "destination" });
            await transitionJob(trx, single.id, "queued"); // backwards: refused, so everything above is undone
          }),
          { name: "StoreError", code: "JOB_STATE" },
        );
        assert.equal((await getJob(db, single.id))?.status, "queued");
        assert.equal((await db.selectFrom("deliveries").selectAll().execute()).length, 0);
      });

      it("keeps one random_id per (job, part, chat) however often it is planned", async (t) => {
        const { db } = await engineDatabase(t, engine.name);
        await touchUser(db, { id: 7 });
        const j = await createJob(db, job(7, "https://a"));
        const planned = await Promise.all(
          Array.from({ length: 5 }, () =>
            planDelivery(db, { jobId: j.id, part: 1, chatId: 7, target: "log" }),
          ),
        );
        assert.equal(new Set(planned.map((d) => d.random_id)).size, 1);
        assert.equal((await db.selectFrom("deliveries").selectAll().execute()).length, 1);
      });
    });

    describe("files and deliveries", () => {
      const file = {
        sha256: "a".repeat(64),
        size: 1234,
        name: "clip.mp4",
        mime_type: "video/mp4",
        kind: "video" as const,
        account: "bot" as const,
        document_id: "5012345678901234567",
        access_hash: "-8012345678901234567",
        file_reference: Buffer.from([1, 2, 3]),
        dc_id: 2,
        duration: 12.5,
        width: 1280,
        height: 720,
        source_url: "https://example.com/clip.mp4",
      };

      it("finds an uploaded file by content and by link, keeping 64-bit ids exact", async (t) => {
        const { db } = await engineDatabase(t, engine.name);
        const stored = await recordFile(db, file);
        const found = await findFileByContent(db, file.sha256, file.size, "bot");
        assert.equal(found?.id, stored.id);
        assert.equal(found?.document_id, "5012345678901234567");
        assert.deepEqual([...(found?.file_reference ?? [])], [1, 2, 3]);
        assert.equal((await findFileBySource(db, file.source_url, "bot"))?.id, stored.id);
        assert.equal(await findFileByContent(db, file.sha256, file.size, "user"), undefined, "per account");
        const refreshed = await recordFile(db, { ...file, file_reference: Buffer.from([9]) });
        assert.equal(
          refreshed.id,
          stored.id,
          "same content updates the reference instead of a duplicate row",
        );
        assert.deepEqual([...refreshed.file_reference], [9]);
      });

      it("plans a delivery once, with a stable random_id, and records the message", async (t) => {
        const { db } = await engineDatabase(t, engine.name);
        await touchUser(db, { id: 7 });
        const j = await createJob(db, {
          user_id: 7,
          request_chat_id: 7,
          destination_chat_id: 7,
          source_url: "u",
        });
        const first = await planDelivery(db, { jobId: j.id, part: 1, chatId: 7, target: "destination" });
        const again = await planDelivery(db, { jobId: j.id, part: 1, chatId: 7, target: "destination" });
        assert.equal(again.random_id, first.random_id, "a resend after a crash reuses the random_id");
        assert.match(first.random_id, /^-?\d+$/);
        const log = await planDelivery(db, { jobId: j.id, part: 1, chatId: -1001, target: "log" });
        assert.notEqual(log.random_id, first.random_id);
        await markDelivered(db, first.id, 55, null);
        const all = await listDeliveries(db, j.id);
        assert.deepEqual(
          all.map((d) => [d.chat_id, d.message_id]),
          [
            [7, 55],
            [-1001, null],
          ],
        );
      });
    });

    describe("events and views", () => {
      it("records audit events and answers the operator's views", async (t) => {
        const { db } = await engineDatabase(t, engine.name);
        await db.transaction().execute((trx) => ensureOwner(trx, 1));
        await recordEvent(db, {
          category: "admin",
          action: "user.added",
          actorId: 1,
          subject: 7,
          data: { role: "user" },
        });
        await touchUser(db, { id: 7, username: "bob" });
        const done = await createJob(db, {
          user_id: 7,
          request_chat_id: 7,
          destination_chat_id: 7,
          source_url: "u1",
        });
        await transitionJob(db, done.id, "done", { bytes_total: 10 * 1048576, upload_ms: 2000 });
        const queued = await createJob(db, {
          user_id: 7,
          request_chat_id: 7,
          destination_chat_id: 7,
          source_url: "u2",
        });
        await recordProgress(db, queued.id, 25, 100);

        const [event] = await listEvents(db, { category: "admin" });
        assert.equal(event?.action, "user.added");
        assert.deepEqual(JSON.parse(event?.data ?? "{}"), { role: "user" });

        const daily = await sql`SELECT jobs, done, users, mib_sent, upload_mib_s FROM v_daily`.execute(db);
        assert.deepEqual(daily.rows, [{ jobs: 2, done: 1, users: 1, mib_sent: 10, upload_mib_s: 5 }]);
        const users = await sql`SELECT id, username, jobs, done FROM v_users WHERE id = 7`.execute(db);
        assert.deepEqual(users.rows, [{ id: 7, username: "bob", jobs: 2, done: 1 }]);
        const queue = await sql`SELECT id, status, percent FROM v_queue`.execute(db);
        assert.deepEqual(queue.rows, [{ id: queued.id, status: "queued", percent: 25 }]);
      });

      it("backs up a live SQLite database to a file that opens on its own; PostgreSQL is pg_dump's", async (t) => {
        const opened = await engineDatabase(t, engine.name);
        await touchUser(opened.db, { id: 3, username: "carol" });
        const copy = path.join(tempDir(t), "backup.db");
        if (opened.engine === "postgres") {
          await assert.rejects(backupDatabase(opened, copy), {
            code: "BACKUP_UNSUPPORTED",
            message: /pg_dump/,
          });
          return;
        }
        await backupDatabase(opened, copy);
        const restored = openDatabase(copy, { readonly: true });
        t.after(() => restored.close());
        assert.equal((await getUser(restored.db, 3))?.username, "carol");
      });
    });
  });
}
