/** /usage: the user's own counts per period and what is left of each limit, stored limits read defensively. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Db } from "../../src/db/database.js";
import { setBotSetting } from "../../src/db/settings.js";
import { startBotWorld } from "./support/bot-world.js";

const DAY = 86_400_000;

async function job(
  db: Db,
  userId: number,
  ageMs: number,
  status: "done" | "failed" | "queued",
  bytes: number,
) {
  await db
    .insertInto("jobs")
    .values({
      user_id: userId,
      request_chat_id: userId,
      destination_chat_id: userId,
      source_url: "https://example.com/f",
      status,
      bytes_total: bytes,
      created_at: new Date(Date.now() - ageMs).toISOString(),
    })
    .execute();
}

describe("/usage", () => {
  it("counts the user's jobs and bytes today, this week and in all, and what is left of each limit", async (t) => {
    const w = await startBotWorld(t, { limits: { queuedJobsPerUser: 5, ratePerMinute: 4 } });
    const db = w.database.db;
    const u = w.user.id;
    // Today's are made "now" (a few ms ago): the day cannot have turned between them and the command.
    await job(db, u, 5, "done", 1024 * 1024);
    await job(db, u, 5, "queued", 999);
    await job(db, u, 3 * DAY, "done", 2 * 1024 * 1024);
    await job(db, u, 3 * DAY, "failed", 5000);
    await job(db, u, 30 * DAY, "done", 4 * 1024 * 1024);
    await job(db, w.admin.id, 5, "done", 1); // someone else's
    await setBotSetting(
      db,
      "limits",
      { jobsPerDay: 3, bytesPerWeek: 10 * 1024 * 1024, maxFileSize: 5e8, note: "x" },
      null,
    );

    const reply = await w.say(w.user, "/usage");
    assert.equal(
      reply.text,
      [
        "Your usage",
        "Today (UTC): 2 jobs, 1.0 MiB delivered",
        "Last 7 days: 4 jobs, 3.0 MiB delivered",
        "In all: 5 jobs, 7.0 MiB delivered",
        "",
        "Limits",
        "Unfinished jobs: 1 of 5 (4 left)",
        "Requests this minute: 2 of 4 (2 left)",
        "jobsPerDay: 2 of 3 (1 left)",
        "bytesPerWeek: 3.0 MiB of 10.0 MiB (7.0 MiB left)",
        "maxFileSize: 477 MiB",
      ].join("\n"),
    );
    assert.match(
      (await w.say(w.russian, "/usage")).text,
      /^Ваше использование\nСегодня \(UTC\): задач 0, доставлено 0 B\n/,
    );
    const admin = await w.say(w.admin, "/usage");
    assert.match(
      admin.text,
      /^Your usage\nToday \(UTC\): 1 jobs, 1 B delivered\n.*\nAs admin you have no queue or rate limit\.\njobsPerDay: 3\n/s,
    );
    assert.match((await w.say(w.stranger, "/usage")).text, /^You do not have access to this bot yet\./);

    for (const garbage of [[1, 2], "limits", null, { jobsPerDay: "3", bytesPerDay: -1, x: { y: 1 } }]) {
      await setBotSetting(db, "limits", garbage, null);
      const text = (await w.say(w.user, "/usage")).text;
      assert.match(text, /\nRequests this minute: \d of 4 \(\d left\)$/, JSON.stringify(garbage));
    }
  });
});
