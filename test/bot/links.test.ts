/** Links into jobs: renames, the bound per message, the limits (one reply for a flood), /queue and /cancel. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { listEvents } from "../../src/db/events.js";
import { startBotWorld } from "./support/bot-world.js";

const jobsOf = (w: Awaited<ReturnType<typeof startBotWorld>>, userId: number) =>
  w.database.db.selectFrom("jobs").selectAll().where("user_id", "=", userId).orderBy("id").execute();

/** A clock that stands still: every request of a test falls in one rate window, however slow the machine is. */
function frozenClock(): () => number {
  const at = Date.now();
  return () => at;
}

describe("links", () => {
  it("queues every link of a message, renames with “| name”, and says each one's place", async (t) => {
    const w = await startBotWorld(t);
    const reply = await w.say(
      w.user,
      "https://example.com/a.mp4 | Lecture one\nsee https://example.com/b.mp4, thanks\nhttps://[nope]/",
    );
    const jobs = await jobsOf(w, w.user.id);
    assert.deepEqual(
      jobs.map((j) => [j.source_url, j.name, j.status, j.request_chat_id, j.destination_chat_id]),
      [
        ["https://example.com/a.mp4", "Lecture one", "queued", w.user.id, w.user.id],
        ["https://example.com/b.mp4", null, "queued", w.user.id, w.user.id],
      ],
    );
    assert.equal(
      reply.text,
      [
        "Queued 2",
        `#${jobs[0]!.id} · Lecture one · place 1`,
        `#${jobs[1]!.id} · https://example.com/b.mp4 · place 2`,
        "Not queued: https://[nope]/ — That is not a valid link.",
      ].join("\n"),
    );
    assert.equal(w.wakes, 1, "the runner is woken once per message");
  });

  it("in a group, queues links for the group and quotes the message; chatter and unknown commands get nothing", async (t) => {
    const w = await startBotWorld(t);
    const group = w.srv.server.createChat({
      kind: "group",
      title: "Team",
      creatorId: w.owner.id,
      members: [w.user.id, w.botUser.id],
    });
    const chat = { chat: group.id };
    w.srv.server.sendText(w.user.id, chat, "hello");
    w.srv.server.sendText(w.user.id, chat, "/frobnicate");
    const sent = w.srv.server.sendText(w.user.id, chat, "https://example.com/g.mp4 | Group file");
    const reply = await w.srv.server.waitForMessage(chat, (m) => m.fromId === w.botUser.id, 30_000);
    assert.equal(reply.replyToMsgId, sent.id);
    assert.match(reply.text, /^Queued 1\n#\d+ · Group file · place 1$/);
    const [job] = await jobsOf(w, w.user.id);
    assert.equal(job?.request_chat_id, -group.id);
    assert.equal(job?.destination_chat_id, -group.id);
  });

  it("does not queue a message's links twice when its update comes again after a crash", async (t) => {
    const w = await startBotWorld(t);
    const sent = w.send(w.user, "https://example.com/a.mp4\nhttps://example.com/b.mp4");
    await w.replyAfter(w.chat(w.user), sent.id);
    const first = w.received.find((u) => u.kind === "message" && u.messageId === sent.id);
    assert.ok(first);
    // What the gateway hands over when the process died inside the handler of this update.
    await w.bot.handle({ ...first, redelivered: true });
    const jobs = await jobsOf(w, w.user.id);
    assert.equal(jobs.length, 2);
    const again = w.botMessages(w.chat(w.user)).at(-1);
    assert.equal(again?.text, `These links were queued already: #${jobs[0]!.id}, #${jobs[1]!.id}.`);
  });

  it("renders a hostile name literally: HTML, Markdown, bidi marks and 300 characters", async (t) => {
    const w = await startBotWorld(t);
    const name = `<b>bold</b> *star* _under_ [x](https://evil.example) \u202Egnp.exe ${"y".repeat(300)}`;
    const reply = await w.say(w.user, `https://example.com/v.mp4 | ${name}`);
    const [job] = await jobsOf(w, w.user.id);
    assert.equal(job?.name, name, "the name is kept as written (the download sanitises it)");
    const shown = `<b>bold</b> *star* _under_ [x](https://evil.example) gnp.exe ${"y".repeat(300)}`;
    assert.ok(reply.text.includes(`#${job!.id} · ${shown.slice(0, 299)}…`), reply.text);
    assert.ok(!reply.text.includes("\u202E"));
  });

  it("takes at most 20 links from one message and says how many were left out", async (t) => {
    const w = await startBotWorld(t);
    const links = Array.from({ length: 25 }, (_, i) => `https://example.com/${i}.mp4`).join("\n");
    const reply = await w.say(w.admin, links);
    assert.equal((await jobsOf(w, w.admin.id)).length, 20);
    assert.match(reply.text, /Only the first 20 links of a message are taken; 5 were left out\./);
  });

  it("answers a flood with one reply that names the rate limit and when it resets", async (t) => {
    const w = await startBotWorld(t, { limits: { ratePerMinute: 3 }, clock: frozenClock() });
    const sent = [];
    for (let i = 0; i < 8; i++) sent.push(w.send(w.user, `https://example.com/${i}.mp4`));
    await w.barrier();
    const replies = w.botMessages(w.chat(w.user), sent[0]!.id);
    assert.equal((await jobsOf(w, w.user.id)).length, 3);
    assert.equal(replies.length, 4, replies.map((r) => r.text).join("\n---\n"));
    const notice = replies.at(-1)!.text;
    assert.match(
      notice,
      /^You reached the limit of 3 requests a minute\. It resets at \d\d:\d\d:\d\d UTC \(in 60 s\); send the rest then\.$/,
    );
    const hits = await listEvents(w.database.db, { action: "limit.rate" });
    assert.equal(hits.length, 1, "the limit was hit and told once");
    const more = await w.say(w.admin, "https://example.com/x.mp4\nhttps://example.com/y.mp4");
    assert.match(more.text, /^Queued 2/, "admins have no rate limit");
  });

  it("queues what fits under the rate limit, says the rest went over it, and counts a batch once", async (t) => {
    const w = await startBotWorld(t, { limits: { ratePerMinute: 3 }, clock: frozenClock() });
    const links = ["a", "b", "c", "d", "e"].map((n) => `https://example.com/${n}.mp4`).join("\n");
    const reply = await w.say(w.user, links);
    assert.equal((await jobsOf(w, w.user.id)).length, 3);
    assert.match(
      reply.text,
      /\n\n3 of 5 queued; the rest went over a limit:\nYou reached the limit of 3 requests a minute\. It resets at /,
    );
    const list = await w.sendDocument(
      w.russian,
      "ten.txt",
      Array.from({ length: 10 }, (_, i) => `https://e.com/${i}`).join("\n"),
    );
    assert.match(
      (await w.replyAfter(w.chat(w.russian), list.id)).text,
      /^Пакет #\d+: в очереди 10 ссылок из ten\.txt\.$/,
    );
    assert.equal(
      (await w.say(w.russian, "https://e.com/x\nhttps://e.com/y")).text.split("\n")[0],
      "В очереди: 2",
    );
    const over = await w.sendDocument(w.russian, "more.txt", "https://e.com/z\n");
    assert.match(
      (await w.replyAfter(w.chat(w.russian), over.id)).text,
      /^Достигнут предел: 3 запросов в минуту\. Он сбросится в \d\d:\d\d:\d\d UTC/,
      "the list, the two links and this list are four requests",
    );
  });

  it("queues what fits under the per-user cap and says the rest went over it", async (t) => {
    const w = await startBotWorld(t, { limits: { queuedJobsPerUser: 2 } });
    const links = ["a", "b", "c"].map((n) => `https://example.com/${n}.mp4`).join("\n");
    const reply = await w.say(w.user, links);
    const jobs = await jobsOf(w, w.user.id);
    assert.equal(jobs.length, 2);
    assert.equal(
      reply.text,
      [
        "Queued 2",
        `#${jobs[0]!.id} · https://example.com/a.mp4 · place 1`,
        `#${jobs[1]!.id} · https://example.com/b.mp4 · place 2`,
        "",
        "2 of 3 queued; the rest went over a limit:",
        "You have 2 unfinished jobs; the limit is 2. The limit frees up as your jobs finish: see /queue.",
      ].join("\n"),
    );
  });

  it("/queue lists the user's jobs with places; /cancel takes an id or all, and never someone else's", async (t) => {
    const w = await startBotWorld(t);
    await w.say(w.user, "https://example.com/u1.mp4\nhttps://example.com/u2.mp4");
    await w.say(w.russian, "https://example.com/r1.mp4");
    const [u1, u2] = await jobsOf(w, w.user.id);
    const [r1] = await jobsOf(w, w.russian.id);
    assert.equal(
      (await w.say(w.user, "/queue")).text,
      [
        "Your queue · 0 running, 3 waiting in all",
        `#${u1!.id} · https://example.com/u1.mp4 · place 1`,
        `#${u2!.id} · https://example.com/u2.mp4 · place 3`,
      ].join("\n"),
    );
    assert.match(
      (await w.say(w.russian, "/queue")).text,
      new RegExp(`^Ваша очередь.*\n#${r1!.id} · .* · место 2$`),
    );
    assert.equal(
      (await w.say(w.user, `/cancel ${r1!.id}`)).text,
      `You have no unfinished job #${r1!.id}. /queue lists yours.`,
    );
    assert.equal(
      (await w.say(w.user, "/cancel")).text,
      "/cancel 12 cancels job 12; /cancel all cancels all of yours.",
    );
    assert.equal((await w.say(w.user, `/cancel ${u1!.id}`)).text, `Cancelled: #${u1!.id}.`);
    assert.equal((await w.say(w.user, "/cancel all")).text, `Cancelled: #${u2!.id}.`);
    assert.equal((await w.say(w.user, "/cancel all")).text, "Nothing of yours to cancel.");
    assert.equal(
      (await w.say(w.user, "/queue")).text,
      "Nothing of yours is queued or running. Send a link to start.",
    );
    const statuses = (
      await w.database.db.selectFrom("jobs").select(["id", "status"]).orderBy("id").execute()
    ).map((j) => j.status);
    assert.deepEqual(statuses, ["cancelled", "cancelled", "queued"]);

    assert.equal(
      (await w.say(w.admin, "/queue all")).text,
      [
        "Queue · 0 running, 1 waiting",
        `#${r1!.id} · https://example.com/r1.mp4 · place 1 · user ${w.russian.id}`,
      ].join("\n"),
    );
    assert.equal(
      (await w.say(w.user, "/queue all")).text,
      "Nothing of yours is queued or running. Send a link to start.",
      "a user's /queue all shows their own",
    );
    assert.equal((await w.say(w.admin, `/cancel ${r1!.id}`)).text, `Cancelled: #${r1!.id}.`);
    const [event] = await listEvents(w.database.db, { category: "admin" });
    assert.deepEqual(
      [event?.action, event?.actor_id, event?.subject],
      ["job.cancelled", w.admin.id, String(r1!.id)],
    );
  });
});
