/** .txt lists into batches: bad lines reported by number, /batch with a range and a destination, refusals. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addChat } from "../../src/db/chats.js";
import { startBotWorld } from "./support/bot-world.js";

const LIST = [
  "# lectures",
  "Lecture 1: https://example.com/1.mp4",
  "just some words",
  "https://example.com/2.mp4",
  "Again: https://example.com/1.mp4",
  "ftp://example.com/3.mp4",
  "",
  "Lecture <b>4</b>: https://example.com/4.mp4",
].join("\n");

describe("batches", () => {
  it("queues a .txt list as one batch and lists the rejected lines with their numbers and why", async (t) => {
    const w = await startBotWorld(t);
    const sent = await w.sendDocument(w.user, "lectures.txt", LIST);
    const reply = await w.replyAfter(w.chat(w.user), sent.id);
    const batch = await w.database.db.selectFrom("batches").selectAll().executeTakeFirstOrThrow();
    const jobs = await w.database.db.selectFrom("jobs").selectAll().orderBy("id").execute();
    assert.deepEqual(
      jobs.map((j) => [j.source_url, j.name, j.batch_id, j.position]),
      [
        ["https://example.com/1.mp4", "Lecture 1", batch.id, 1],
        ["https://example.com/2.mp4", null, batch.id, 2],
        ["https://example.com/4.mp4", "Lecture <b>4</b>", batch.id, 3],
      ],
    );
    assert.equal(batch.source_name, "lectures.txt");
    assert.equal(batch.total, 3);
    assert.equal(
      reply.text,
      [
        `Batch #${batch.id}: 3 links from lectures.txt queued.`,
        "",
        "Not queued",
        "Line 3: no link found (expected “name: https://…” or a link)",
        "Line 5: the same link as line 2",
        "Line 6: only http and https links, not ftp",
      ].join("\n"),
    );
    assert.equal(w.wakes, 1);
  });

  it("/batch 2-3 in reply to a list takes those links only; without a reply it says how", async (t) => {
    const w = await startBotWorld(t);
    const list = ["https://example.com/a", "https://example.com/b", "https://example.com/c"].join("\n");
    await w.barrier(); // the list below is answered by itself; the /batch reply comes after that answer
    const doc = await w.sendDocument(w.user, "abc.txt", list);
    const first = await w.replyAfter(w.chat(w.user), doc.id);
    assert.match(first.text, /^Batch #\d+: 3 links from abc\.txt queued\.$/);
    const reply = await w.say(w.user, "/batch 2-3", doc.id);
    assert.match(reply.text, /^Batch #\d+: 2 links from abc\.txt queued\.$/);
    const second = await w.database.db
      .selectFrom("jobs")
      .select(["source_url"])
      .where("batch_id", "=", Number(/#(\d+)/.exec(reply.text)![1]))
      .orderBy("id")
      .execute();
    assert.deepEqual(
      second.map((j) => j.source_url),
      ["https://example.com/b", "https://example.com/c"],
    );
    assert.equal(
      (await w.say(w.user, "/batch 2-3")).text,
      "Reply /batch to a .txt list (for example /batch 3-10 @channel).",
    );
    const text = w.send(w.user, "not a list");
    await w.replyAfter(w.chat(w.user), text.id);
    assert.equal(
      (await w.say(w.user, "/batch", text.id)).text,
      "The message you replied to holds no .txt list.",
    );
    assert.equal(
      (await w.say(w.user, "/batch 9-", doc.id)).text,
      "⚠️ The list has only 3 links; the range starts at 9.",
    );
  });

  it("sends a batch to a destination only where the user may send and the bot may post", async (t) => {
    const w = await startBotWorld(t);
    const posting = w.srv.server.createChat({
      kind: "channel",
      title: "Uploads",
      username: "uploads_here",
      creatorId: w.owner.id,
      admins: [w.botUser.id],
    });
    w.srv.server.createChat({
      kind: "channel",
      title: "Closed",
      username: "closed_one",
      creatorId: w.owner.id,
    });
    const doc = await w.sendDocument(w.admin, "one.txt", "https://example.com/x.mp4\n");
    await w.replyAfter(w.chat(w.admin), doc.id);
    assert.equal(
      (await w.say(w.admin, "/batch @closed_one", doc.id)).text,
      "⚠️ I cannot post in Closed: make me an admin there, then try again.",
    );
    assert.equal(
      (await w.say(w.admin, "/batch @no_such_chat", doc.id)).text,
      "⚠️ I cannot find the chat @no_such_chat. Check the name, or make me a member first.",
    );
    assert.match((await w.say(w.admin, "/batch @uploads_here", doc.id)).text, /^Batch #\d+: 1 links/);
    const last = await w.database.db
      .selectFrom("jobs")
      .selectAll()
      .orderBy("id", "desc")
      .executeTakeFirstOrThrow();
    assert.equal(last.destination_chat_id, Number(posting.peerId));

    const mine = await w.sendDocument(w.user, "one.txt", "https://example.com/y.mp4\n");
    await w.replyAfter(w.chat(w.user), mine.id);
    assert.equal(
      (await w.say(w.user, "/batch @uploads_here", mine.id)).text,
      "⚠️ You may send files only here or to a chat an admin added for you.",
    );
    await addChat(w.database.db, {
      id: Number(posting.peerId),
      kind: "channel",
      purpose: "destination",
      title: "Uploads",
      owner_id: null,
    });
    assert.match((await w.say(w.user, "/batch @uploads_here", mine.id)).text, /^Batch #\d+: 1 links/);
  });

  it("refuses other documents and lists over the size cap without fetching them", async (t) => {
    const w = await startBotWorld(t);
    const photo = await w.sendDocument(w.user, "movie.mp4", Buffer.alloc(100), "video/mp4");
    assert.equal(
      (await w.replyAfter(w.chat(w.user), photo.id)).text,
      "I take .txt lists of links only. Send links one per line in a .txt file.",
    );
    const before = w.srv.server.counters().rpcs["upload.GetFile"] ?? 0;
    const big = await w.sendDocument(w.user, "huge.txt", Buffer.alloc(1024 * 1024 + 1, "a"));
    assert.equal(
      (await w.replyAfter(w.chat(w.user), big.id)).text,
      "The list is 1.0 MiB; at most 1.0 MiB are accepted. Split it into several files.",
    );
    assert.equal(w.srv.server.counters().rpcs["upload.GetFile"] ?? 0, before, "not a byte fetched");
    const empty = await w.sendDocument(w.user, "empty.txt", "# nothing\n\n");
    assert.equal((await w.replyAfter(w.chat(w.user), empty.id)).text, "The list has no link I can take.");
    assert.deepEqual(await w.database.db.selectFrom("jobs").selectAll().execute(), []);
  });
});
