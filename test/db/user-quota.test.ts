/** The counts behind the per-user limits and /health, and access removal, on a real SQLite file. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Db } from "../../src/db/database.js";
import { recentErrorCodes } from "../../src/db/job-errors.js";
import type { JobStatus } from "../../src/db/schema.js";
import { deliveredBytesSince, jobsCreatedSince } from "../../src/db/user-quota.js";
import { getUser, listUsers, listUsersPage, removeUserAccess, setRole } from "../../src/db/users.js";
import { testDatabase } from "./support.js";

async function job(
  db: Db,
  row: { user: number; at: string; status?: JobStatus; bytes?: number; finished?: string; error?: string },
): Promise<void> {
  await db
    .insertInto("jobs")
    .values({
      user_id: row.user,
      request_chat_id: row.user,
      destination_chat_id: row.user,
      source_url: "https://example.com/x",
      created_at: row.at,
      updated_at: row.finished ?? row.at,
      status: row.status ?? "queued",
      bytes_total: row.bytes ?? null,
      finished_at: row.finished ?? null,
      error_code: row.error ?? null,
    })
    .execute();
}

describe("user quota", () => {
  it("counts a user's jobs since a time, with the oldest, and delivered bytes of done jobs only", async (t) => {
    const { db } = await testDatabase(t);
    await setRole(db, 1, "user", null);
    await setRole(db, 2, "user", null);
    await job(db, { user: 1, at: "2026-01-01T09:00:00.000Z" });
    await job(db, {
      user: 1,
      at: "2026-01-01T10:15:00.000Z",
      status: "done",
      bytes: 100,
      finished: "2026-01-01T10:20:00.000Z",
    });
    await job(db, {
      user: 1,
      at: "2026-01-01T10:30:00.000Z",
      status: "done",
      bytes: 50,
      finished: "2026-01-02T00:00:00.000Z",
    });
    await job(db, {
      user: 1,
      at: "2026-01-01T10:40:00.000Z",
      status: "failed",
      bytes: 999,
      finished: "2026-01-01T10:41:00.000Z",
    });
    await job(db, {
      user: 2,
      at: "2026-01-01T10:45:00.000Z",
      status: "done",
      bytes: 7,
      finished: "2026-01-01T10:46:00.000Z",
    });
    assert.deepEqual(await jobsCreatedSince(db, 1, "2026-01-01T10:00:00.000Z"), {
      count: 3,
      oldest: "2026-01-01T10:15:00.000Z",
    });
    assert.deepEqual(await jobsCreatedSince(db, 3, "2026-01-01T10:00:00.000Z"), { count: 0, oldest: null });
    assert.equal(await deliveredBytesSince(db, 1, "2026-01-01T00:00:00.000Z"), 150);
    assert.equal(
      await deliveredBytesSince(db, 1, "2026-01-02T00:00:00.000Z"),
      50,
      "the next day counts its own",
    );
    assert.equal(await deliveredBytesSince(db, 3, "2026-01-01T00:00:00.000Z"), 0);

    await job(db, {
      user: 2,
      at: "2026-01-01T11:00:00.000Z",
      status: "failed",
      finished: "2026-01-01T11:01:00.000Z",
      error: "HTTP_404",
    });
    await job(db, {
      user: 2,
      at: "2026-01-01T11:02:00.000Z",
      status: "failed",
      finished: "2026-01-01T11:03:00.000Z",
      error: "HTTP_404",
    });
    await job(db, {
      user: 2,
      at: "2026-01-01T11:04:00.000Z",
      status: "failed",
      finished: "2026-01-01T11:05:00.000Z",
      error: "DISK_FULL",
    });
    assert.deepEqual(await recentErrorCodes(db, "2026-01-01T00:00:00.000Z"), [
      { code: "DISK_FULL", count: 1, lastAt: "2026-01-01T11:05:00.000Z" },
      { code: "HTTP_404", count: 2, lastAt: "2026-01-01T11:03:00.000Z" },
    ]);
    assert.deepEqual(await recentErrorCodes(db, "2026-01-01T11:04:00.000Z"), [
      { code: "DISK_FULL", count: 1, lastAt: "2026-01-01T11:05:00.000Z" },
    ]);
  });

  it("removes access keeping the row, never the owner's or a banned person's; a new role gives it back", async (t) => {
    const { db } = await testDatabase(t);
    await setRole(db, 1, "owner", null);
    await setRole(db, 2, "admin", 1);
    await setRole(db, 3, "banned", 1);
    await setRole(db, 4, "user", 1);
    assert.equal(await removeUserAccess(db, 1), false);
    assert.equal(await removeUserAccess(db, 3), false);
    assert.equal(await removeUserAccess(db, 9), false);
    assert.equal(await removeUserAccess(db, 2), true);
    assert.equal(await removeUserAccess(db, 2), false, "once");
    const removed = await getUser(db, 2);
    assert.equal(removed?.role, "user", "an admin's role goes with the access");
    assert.ok(removed?.removed_at);
    assert.deepEqual(
      (await listUsers(db)).map((u) => u.id),
      [1, 3, 4],
    );
    const page = await listUsersPage(db, { offset: 0, limit: 2 });
    assert.equal(page.total, 3);
    assert.deepEqual(
      page.users.map((u) => [u.id, u.role]),
      [
        [1, "owner"],
        [4, "user"],
      ],
    );
    assert.deepEqual(
      (await listUsersPage(db, { offset: 2, limit: 2 })).users.map((u) => u.id),
      [3],
    );
    await setRole(db, 2, "user", 1);
    assert.equal((await getUser(db, 2))?.removed_at, null);
  });
});
