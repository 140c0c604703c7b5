/** /forgetme: a confirm button bound to the user and expiring; then nothing that names them is left. */
import assert from "node:assert/strict";
import { mkdir, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { encodeForget } from "../../src/bot/callback-data.js";
import type { Db } from "../../src/db/database.js";
import type { NewJob } from "../../src/db/schema.js";
import { updateUserSettings } from "../../src/db/settings.js";
import { type BotWorld, startBotWorld, WAIT_MS } from "./support/bot-world.js";

async function job(db: Db, row: Partial<NewJob> & Pick<NewJob, "user_id">): Promise<number> {
  const inserted = await db
    .insertInto("jobs")
    .values({
      request_chat_id: row.user_id,
      destination_chat_id: row.user_id,
      source_url: "https://example.com/f",
      ...row,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return inserted.id;
}

async function file(db: Db, sha: string): Promise<number> {
  const row = await db
    .insertInto("files")
    .values({
      sha256: sha.repeat(64),
      size: 1,
      name: "secret plans.pdf",
      kind: "document",
      account: "bot",
      document_id: "1",
      access_hash: "2",
      file_reference: Buffer.from("r"),
      dc_id: 2,
      source_url: "https://example.com/secret",
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

/** The user's history: two delivered jobs (one file theirs alone, one shared), a failure, a batch, settings and a thumbnail. */
async function history(w: BotWorld) {
  const db = w.database.db;
  const u = w.user.id;
  await w.say(w.user, "https://example.com/queued-by-hand.mp4"); // a real request: its event names the user
  const batch = await db
    .insertInto("batches")
    .values({ user_id: u, chat_id: u, source_name: "mine.txt", total: 1 })
    .returning("id")
    .executeTakeFirstOrThrow();
  const own = await file(db, "a");
  const shared = await file(db, "b");
  const delivered = await job(db, { user_id: u, status: "done", name: "mine.pdf", batch_id: batch.id });
  const alsoDelivered = await job(db, { user_id: u, status: "done", name: "shared.pdf" });
  await job(db, { user_id: u, status: "failed", error_message: "404 on https://example.com/secret" });
  const theirs = await job(db, { user_id: w.admin.id, status: "done", name: "admin's.pdf" });
  let random = 1;
  for (const [jobId, fileId] of [
    [delivered, own],
    [alsoDelivered, shared],
    [theirs, shared],
  ] as const) {
    await db
      .insertInto("deliveries")
      .values({
        job_id: jobId,
        file_id: fileId,
        chat_id: u,
        target: "destination",
        random_id: String(random++),
        message_id: 5,
      })
      .execute();
  }
  const thumbnail = join(w.dir, "data", "thumbnails", `${u}.jpg`);
  await mkdir(dirname(thumbnail), { recursive: true });
  await writeFile(thumbnail, Buffer.from([0xff, 0xd8, 0xff, 0xe0]));
  await updateUserSettings(db, u, {
    uploadAs: "document",
    thumbnailPath: thumbnail,
    captionTemplate: "{name}",
  });
  return { own, shared, theirs, thumbnail };
}

const count = async (db: Db, table: "jobs" | "batches" | "user_settings" | "deliveries" | "files") =>
  Number(
    (
      await db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe("/forgetme", () => {
  it("deletes nothing when kept, when the button expired, or when someone else presses it", async (t) => {
    const w = await startBotWorld(t);
    const db = w.database.db;
    await history(w);
    const before = await Promise.all(
      (["jobs", "batches", "user_settings", "deliveries", "files"] as const).map((x) => count(db, x)),
    );
    const ask = await w.say(w.user, "/forgetme");
    assert.match(
      ask.text,
      /^Forget me\nThis deletes your job history, .*\nThe button works for 10 minutes\.$/s,
    );
    assert.deepEqual(
      ask.buttons?.flat().map((b) => b.text),
      ["🗑 Yes, forget me", "Keep my data"],
    );
    const stale = encodeForget("yes", Date.now() - 11 * 60_000, w.user.id);
    await w.srv.server.pressButton(w.user.id, w.chat(w.user), ask.id, { data: stale, forged: true }, WAIT_MS);
    assert.equal(
      w.srv.server.messages(w.chat(w.user)).find((m) => m.id === ask.id)?.text,
      "This confirmation expired. Send /forgetme again.",
    );

    const adminAsk = await w.say(w.admin, "/forgetme");
    const foreign = encodeForget("yes", Date.now(), w.user.id);
    const answer = await w.srv.server.pressButton(
      w.admin.id,
      w.chat(w.admin),
      adminAsk.id,
      { data: foreign, forged: true },
      WAIT_MS,
    );
    assert.equal(answer.message, "This button belongs to someone else.");

    const again = await w.say(w.user, "/forgetme");
    await w.srv.server.pressButton(w.user.id, w.chat(w.user), again.id, { text: "Keep my data" }, WAIT_MS);
    const kept = w.srv.server.messages(w.chat(w.user)).find((m) => m.id === again.id);
    assert.equal(kept?.text, "Nothing was deleted.");
    assert.deepEqual(kept?.buttons ?? [], [], "the buttons are gone");
    const after = await Promise.all(
      (["jobs", "batches", "user_settings", "deliveries", "files"] as const).map((x) => count(db, x)),
    );
    assert.deepEqual(after, before);
    assert.match((await w.say(w.stranger, "/forgetme")).text, /^You do not have access to this bot yet\./);
  });

  it("cancels running jobs first, then leaves no row of the user's jobs and nothing that names them", async (t) => {
    const w = await startBotWorld(t);
    const db = w.database.db;
    const u = w.user.id;
    const made = await history(w);
    const running = await job(db, {
      user_id: u,
      status: "downloading",
      locked_by: "worker-1",
      locked_until: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const ask = await w.say(w.user, "/forgetme");
    await w.srv.server.pressButton(w.user.id, w.chat(w.user), ask.id, { text: "🗑 Yes, forget me" }, WAIT_MS);
    const done = w.srv.server.messages(w.chat(w.user)).find((m) => m.id === ask.id);
    assert.equal(
      done?.text,
      "Done: 4 jobs and 1 batches deleted, your settings reset.\n1 unfinished jobs are stopping; they are deleted as soon as they stop.",
    );
    const flagged = await db
      .selectFrom("jobs")
      .select(["id", "cancel_requested"])
      .where("user_id", "=", u)
      .execute();
    assert.deepEqual(flagged, [{ id: running, cancel_requested: 1 }], "the running job was told to stop");

    // Its worker stops it, as the runner does on cancel_requested; the follow-up then deletes it and its batch.
    await db
      .updateTable("jobs")
      .set({
        status: "cancelled",
        locked_by: null,
        locked_until: null,
        finished_at: new Date().toISOString(),
      })
      .where("id", "=", running)
      .execute();
    const deadline = Date.now() + WAIT_MS;
    while ((await db.selectFrom("jobs").select("id").where("user_id", "=", u).execute()).length > 0) {
      assert.ok(Date.now() < deadline, "the stopped job was deleted in time");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    assert.deepEqual(await db.selectFrom("batches").selectAll().where("user_id", "=", u).execute(), []);
    assert.deepEqual(await db.selectFrom("user_settings").selectAll().where("user_id", "=", u).execute(), []);
    const deliveries = await db.selectFrom("deliveries").select("job_id").execute();
    assert.deepEqual(deliveries, [{ job_id: made.theirs }], "only the other user's delivery is left");
    const files = (await db.selectFrom("files").select("id").execute()).map((f) => f.id);
    assert.deepEqual(
      files,
      [made.shared],
      "the file only the user's jobs delivered is gone; the shared one stays",
    );
    await assert.rejects(stat(made.thumbnail), { code: "ENOENT" });
    const naming = await db
      .selectFrom("events")
      .selectAll()
      .where((eb) =>
        eb.or([eb("actor_id", "=", u), eb("subject", "=", String(u)), eb("data", "like", `%${u}%`)]),
      )
      .execute();
    assert.deepEqual(naming, [], "no event names the user");
    const audit = await db.selectFrom("events").selectAll().where("action", "=", "user.forgotten").execute();
    assert.equal(audit.length, 1);
    assert.deepEqual([audit[0]?.actor_id, audit[0]?.subject], [null, null]);
    assert.deepEqual(JSON.parse(audit[0]?.data ?? ""), { jobs: 4, batches: 1, deliveries: 2 });
    const user = await db.selectFrom("users").selectAll().where("id", "=", u).executeTakeFirstOrThrow();
    assert.deepEqual([user.username, user.first_name, user.last_name, user.role], [null, null, null, "user"]);
    assert.equal(await db.selectFrom("peers").select("id").where("id", "=", u).executeTakeFirst(), undefined);
    assert.equal(
      (await db.selectFrom("jobs").select("id").where("id", "=", made.theirs).execute()).length,
      1,
    );

    assert.match((await w.say(w.user, "/start")).text, /^Hello, Ursula!/, "they keep their access");
  });
});
