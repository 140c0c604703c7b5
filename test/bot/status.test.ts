/**
 * The live status board through the real pieces: jobs run by the runner with real steps from a throttled local HTTP
 * server to the local Telegram server, the board edits its message there, and users press its buttons.
 */
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, it, type TestContext } from "node:test";
import { createStatusBoard, type StatusBoard } from "../../src/bot/status.js";
import {
  CANCEL_ALL_DATA,
  cancelJobData,
  pageData,
  pauseJobData,
  resumeJobData,
} from "../../src/bot/status-render.js";
import { listDeliveries } from "../../src/db/deliveries.js";
import { enqueueJobs } from "../../src/db/job-queue.js";
import { getJob } from "../../src/db/jobs.js";
import type { Job } from "../../src/db/schema.js";
import { touchUser } from "../../src/db/users.js";
import { createRunner, type Runner, type RunnerEvent } from "../../src/jobs/runner.js";
import { createJobSteps } from "../../src/jobs/steps.js";
import { createLogger } from "../../src/logger.js";
import type { TelegramGateway } from "../../src/telegram/gateway.js";
import { FFMPEG, FFPROBE, makeRandomFile, serveDirectory, YTDLP } from "../support/media-fixtures.js";
import type { MessageRecord } from "../support/telegram-server/world.js";
import { startGatewayWorld } from "../telegram/support/gateway-world.js";

const WAIT_MS = 90_000;
const KIB = 1024;

interface WorldOptions {
  intervalMs?: number;
  /** Bytes per second per download. */
  rate?: number;
  serverFaults?: Parameters<typeof startGatewayWorld>[1];
  /** Start the runner (false: jobs stay queued). @default true */
  run?: boolean;
}

async function boardWorld(t: TestContext, options: WorldOptions = {}) {
  const world = await startGatewayWorld(t, options.serverFaults ?? {});
  const server = world.srv.server;
  const bob = server.createUser({ username: "bob", firstName: "Bob" });
  const alice = world.alice;
  const chat = { user: alice.id, peer: world.bot.id };
  const logLines: Array<{ level: number; msg: string }> = [];
  const log = createLogger({
    level: "info",
    destination: new Writable({
      write(chunk, _enc, done) {
        for (const line of chunk.toString().split("\n").filter(Boolean)) logLines.push(JSON.parse(line));
        done();
      },
    }),
  });
  let board: StatusBoard | undefined;
  let gateway: TelegramGateway | undefined;
  const answers: Array<{ data: string; from: number; text: string; alert: boolean }> = [];
  gateway = await world.open(async (incoming) => {
    if (incoming.kind !== "callback" || !board || !gateway) return;
    const answer = await board.handleCallback(
      incoming.data,
      incoming.from.id,
      incoming.chatId,
      incoming.messageId,
    );
    answers.push({ data: incoming.data, from: incoming.from.id, ...answer });
    await gateway.answerCallback(incoming.queryId, answer);
  });
  server.sendText(alice.id, chat, "/start"); // the bot learns Alice's access hash
  server.sendText(bob.id, { user: bob.id, peer: world.bot.id }, "/start");
  await world.waitForReceived(2);
  const db = world.database.db;
  await touchUser(db, { id: alice.id });
  await touchUser(db, { id: bob.id });

  const channel = server.createChat({
    kind: "channel",
    title: "Uploads",
    username: "medusa_uploads",
    creatorId: alice.id,
    admins: [world.bot.id],
  });
  const channelChat = await gateway.resolveChat("@medusa_uploads");

  const files = join(world.dir, "site");
  await mkdir(files);
  const site = await serveDirectory(files, options.rate ? { bytesPerSecond: options.rate } : {});
  t.after(() => site.close());

  const events: Array<RunnerEvent & { at: number }> = [];
  // The HTML the board hands the gateway (the server keeps only the visible text, not the links).
  const html: string[] = [];
  const real = gateway;
  const recording: Pick<TelegramGateway, "sendText" | "editText"> = {
    sendText: (chatId, text, textOptions) => {
      html.push(text);
      return real.sendText(chatId, text, textOptions);
    },
    editText: (chatId, messageId, text, textOptions) => {
      html.push(text);
      return real.editText(chatId, messageId, text, textOptions);
    },
  };
  /** A board on this world (as a restarted Medusa makes one); button presses go to the newest. */
  const newBoard = () => {
    const made = createStatusBoard({
      db,
      gateway: recording,
      log: log.child({ module: "status" }),
      onResumed: () => runner.wake(),
      ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
    });
    board = made;
    t.after(() => made.stop());
    return made;
  };
  board = newBoard();
  const runner: Runner = createRunner({
    db,
    log: createLogger({ level: "silent" }),
    pollMs: 50,
    leaseMs: 4000, // a heartbeat each second: a cancel reaches a running step within about a second
    fetchConcurrency: 10,
    steps: createJobSteps({
      db,
      gateway,
      workRoot: join(world.dir, "work"),
      source: {
        maxSize: 1e9,
        minFreeDisk: 0,
        connectTimeoutMs: 5000,
        idleTimeoutMs: 10_000,
        guard: { allowPrivateNetworks: true },
        ytdlpPath: YTDLP,
        timeoutMs: 60_000,
        ffmpegPath: FFMPEG,
      },
      media: { ffmpegPath: FFMPEG, ffprobePath: FFPROBE, toolTimeoutMs: 60_000 },
      logChats: async () => [],
    }),
    onEvent: (event) => {
      events.push({ ...event, at: Date.now() });
      board?.onRunnerEvent(event);
    },
  });
  if (options.run ?? true) await runner.start();
  t.after(() => runner.stop());

  /** Each send and edit of a board message (a bot message without a file), as the server saw it. */
  const calls: Array<{ type: "message" | "edit"; at: number; messageId: number; text: string }> = [];
  const isBoard = (m: MessageRecord) => m.fromId === world.bot.id && !m.document && m.buttons !== undefined;
  server.world.on("event", (e) => {
    if ((e.type === "message" || e.type === "edit") && (isBoard(e.message) || e.type === "edit")) {
      if (e.message.fromId !== world.bot.id || e.message.document) return;
      calls.push({ type: e.type, at: Date.now(), messageId: e.message.id, text: e.message.text });
    }
  });

  async function file(name: string, bytes: number): Promise<string> {
    await makeRandomFile(join(files, name), bytes);
    return `${site.origin}/${name}`;
  }

  async function enqueue(
    urls: string[],
    who: { userId: number; chatId: number; destination?: number } = {
      userId: alice.id,
      chatId: alice.id,
    },
  ): Promise<Job[]> {
    const jobs = await db.transaction().execute((trx) =>
      enqueueJobs(
        trx,
        urls.map((source_url) => ({
          user_id: who.userId,
          request_chat_id: who.chatId,
          destination_chat_id: who.destination ?? who.chatId,
          source_url,
        })),
        { perUserQueued: 100, totalQueued: 100 },
      ),
    );
    runner.wake();
    return jobs;
  }

  const first = board;
  return {
    world,
    server,
    db,
    alice,
    bob,
    chat,
    channel,
    channelChat,
    board: first,
    runner,
    events,
    calls,
    html,
    answers,
    logLines,
    file,
    enqueue,
    newBoard,
  };
}

/** Resolves with what `check` returns once it is truthy; checks every 50 ms, fails after `timeoutMs`. */
async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const settled = (events: RunnerEvent[], n: number) =>
  events.filter((e) => e.type === "done" || e.type === "failed" || e.type === "cancelled").length >= n;

function gaps(times: number[]): number[] {
  return times.slice(1).map((at, i) => at - times[i]!);
}

describe("status board: one live message per chat", () => {
  it("edits the board of 10 running jobs at most once per 5 s and ends on their final states", async (t) => {
    const w = await boardWorld(t, { rate: 24 * KIB });
    const urls = await Promise.all(Array.from({ length: 10 }, (_, i) => w.file(`f${i}.bin`, 200 * KIB)));
    await w.enqueue(urls);
    w.board.track(w.alice.id);
    await until("10 jobs settled", () => settled(w.events, 10));
    const final = await until("the final state", () =>
      w.calls.find((c) => c.text.startsWith("All jobs finished")),
    );
    await until("the board to stop", () => w.board.activeChats().length === 0);

    const boardIds = new Set(w.calls.map((c) => c.messageId));
    assert.equal(boardIds.size, 1, "one status message for the chat, not one per job");
    assert.equal(w.calls[0]?.type, "message");
    const edits = w.calls.filter((c) => c.type === "edit");
    assert.ok(edits.length >= 2, `the board was edited while the jobs ran: ${edits.length} edits`);
    const spacing = gaps(w.calls.map((c) => c.at));
    t.diagnostic(`${edits.length} edits for 10 jobs; gaps between board calls ${spacing.join(", ")} ms`);
    assert.ok(
      spacing.every((ms) => ms >= 5000),
      `edits no more than once per 5 s; gaps ${spacing.join(", ")} ms`,
    );
    assert.ok(
      w.calls.some((c) => /Downloading · [█░]{10} \d+%/.test(c.text) && c.text.includes("/s")),
      "progress with a bar, percent and speed was shown",
    );
    assert.equal(final.text.match(/✅ Done/g)?.length, 10);
    assert.ok(final.text.match(/Your jobs|Queued|Downloading/) === null);
    const message = w.server.messages(w.chat).find((m) => m.id === final.messageId);
    assert.deepEqual(message?.buttons ?? [], [], "no buttons on the final state");
    assert.equal(w.logLines.filter((l) => l.level >= 40).length, 0, JSON.stringify(w.logLines));
  });

  it("waits out a 20 s FLOOD_WAIT on edits without slowing the jobs, then shows their final state", async (t) => {
    const w = await boardWorld(t, {
      intervalMs: 1000,
      rate: 64 * KIB,
      serverFaults: {
        faults: {
          methodFaults: [{ method: "messages.EditMessage", code: 420, message: "FLOOD_WAIT_20", times: 1 }],
        },
      },
    });
    const urls = await Promise.all(Array.from({ length: 3 }, (_, i) => w.file(`g${i}.bin`, 160 * KIB)));
    await w.enqueue(urls);
    w.board.track(w.alice.id);
    const flooded = await until("the first edit to be refused", () =>
      (w.server.counters().errors.FLOOD_WAIT_20 ?? 0) >= 1 ? Date.now() : undefined,
    );
    await until("3 jobs settled", () => settled(w.events, 3));
    const doneAt = Math.max(...w.events.filter((e) => e.type === "done").map((e) => e.at));
    const final = await until("the final state", () =>
      w.calls.find((c) => c.text.startsWith("All jobs finished")),
    );
    const edits = w.calls.filter((c) => c.type === "edit");
    t.diagnostic(
      `refused at 0 ms; jobs done at ${doneAt - flooded} ms; final state shown at ${final.at - flooded} ms`,
    );
    assert.equal(edits.length, 1, "nothing was edited during the wait; then the latest state, once");
    assert.equal(edits[0], final);
    assert.ok(
      doneAt < final.at,
      `the jobs finished (${doneAt - flooded} ms after the refusal) while the board still waited`,
    );
    assert.ok(
      final.at - flooded >= 19_000,
      `the board waited as asked: ${final.at - flooded} ms after the refusal`,
    );
    assert.equal(w.events.filter((e) => e.type === "done").length, 3);
  });

  it("takes MESSAGE_NOT_MODIFIED as no error", async (t) => {
    const w = await boardWorld(t, {
      intervalMs: 1000,
      rate: 64 * KIB,
      serverFaults: {
        faults: {
          methodFaults: [
            { method: "messages.EditMessage", code: 400, message: "MESSAGE_NOT_MODIFIED", times: 2 },
          ],
        },
      },
    });
    const urls = await Promise.all(Array.from({ length: 2 }, (_, i) => w.file(`h${i}.bin`, 200 * KIB)));
    await w.enqueue(urls);
    w.board.track(w.alice.id);
    await until("2 jobs settled", () => settled(w.events, 2));
    await until("the final state", () => w.calls.find((c) => c.text.startsWith("All jobs finished")));
    assert.equal(w.server.counters().errors.MESSAGE_NOT_MODIFIED, 2, "both answers were given");
    assert.deepEqual(
      w.logLines.filter((l) => l.level >= 40),
      [],
      "no warning or error was logged",
    );
  });

  it("cancels only the job whose Cancel was pressed, and links the delivered messages", async (t) => {
    const w = await boardWorld(t, { intervalMs: 1000, rate: 48 * KIB });
    const small = await Promise.all([w.file("a.bin", 96 * KIB), w.file("c.bin", 96 * KIB)]);
    const big = await w.file("b.bin", 4096 * KIB); // about 85 s at this rate: it cannot finish before the press
    const [first, victim, third] = await w.enqueue([small[0]!, big, small[1]!], {
      userId: w.alice.id,
      chatId: w.alice.id,
      destination: w.channelChat.id,
    });
    w.board.track(w.alice.id);
    const message = await until("the board with its buttons", () =>
      w.server
        .messages(w.chat)
        .find((m) => m.buttons?.flat().some((b) => b.data?.toString() === cancelJobData(victim?.id ?? 0))),
    );
    const answer = await w.server.pressButton(
      w.alice.id,
      w.chat,
      message.id,
      { data: cancelJobData(victim?.id ?? 0) },
      30_000,
    );
    assert.deepEqual(answer, { answered: true, message: "Cancelled.", alert: false });
    await until("3 jobs settled", () => settled(w.events, 3));
    const states = await Promise.all([first, victim, third].map((j) => getJob(w.db, j?.id ?? 0)));
    assert.deepEqual(
      states.map((j) => j?.status),
      ["done", "cancelled", "done"],
    );
    const final = await until("the final state", () =>
      w.calls.find((c) => c.text.startsWith("All jobs finished")),
    );
    assert.match(final.text, new RegExp(`#${victim?.id} \\S*b\\.bin\\n🚫 Cancelled`));
    assert.ok(
      w.server.messages(w.chat).some((m) => m.id === final.messageId),
      "the board is in Alice's chat",
    );
    const finalHtml = w.html.at(-1) ?? "";
    for (const job of [first, third]) {
      const [delivery] = await listDeliveries(w.db, job?.id ?? 0);
      assert.ok(delivery?.message_id, "delivered to the channel");
      assert.match(final.text, new RegExp(`#${job?.id} .*\\n✅ Done · open`));
      assert.ok(
        finalHtml.includes(`<a href="https://t.me/medusa_uploads/${delivery.message_id}">open</a>`),
        `a link to the delivered message in ${finalHtml}`,
      );
    }
    assert.equal(
      w.server.messages({ chat: w.channel.id }).filter((m) => m.media).length,
      2,
      "only the two jobs not cancelled posted a file",
    );
  });

  it("refuses a Cancel from someone who does not own the job, and forged or stale button data", async (t) => {
    const w = await boardWorld(t, { intervalMs: 1000, rate: 16 * KIB });
    const group = w.server.createChat({
      kind: "group",
      title: "Friends",
      creatorId: w.alice.id,
      members: [w.bob.id, w.world.bot.id],
    });
    const groupId = -group.id;
    w.server.sendText(w.alice.id, { chat: group.id }, "hello"); // the bot learns the group
    await w.world.waitForReceived(3);
    const alices = await w.enqueue([await w.file("slow.bin", 2048 * KIB)], {
      userId: w.alice.id,
      chatId: groupId,
      destination: w.alice.id,
    });
    const bobs = await w.enqueue([await w.file("bob.bin", 2048 * KIB)], {
      userId: w.bob.id,
      chatId: groupId,
      destination: w.bob.id,
    });
    const aliceJob = alices[0]!;
    const bobJob = bobs[0]!;
    w.board.track(groupId);
    const message = await until("the group's board", () =>
      w.server
        .messages({ chat: group.id })
        .find((m) => m.buttons?.flat().some((b) => b.data?.toString() === cancelJobData(aliceJob.id))),
    );
    const refused = await w.server.pressButton(
      w.bob.id,
      { chat: group.id },
      message.id,
      { data: cancelJobData(aliceJob.id) },
      30_000,
    );
    assert.deepEqual(refused, { answered: true, message: "That is not your job.", alert: true });
    assert.equal((await getJob(w.db, aliceJob.id))?.cancel_requested, 0, "Alice's job goes on");

    // Bob's Cancel all cancels his job only.
    const all = await w.server.pressButton(
      w.bob.id,
      { chat: group.id },
      message.id,
      { data: CANCEL_ALL_DATA },
      30_000,
    );
    assert.deepEqual(all, { answered: true, message: "Cancelled 1 job.", alert: false });
    await until("Bob's job cancelled", async () => (await getJob(w.db, bobJob.id))?.status === "cancelled");
    assert.equal((await getJob(w.db, aliceJob.id))?.cancel_requested, 0);

    // Data no board button carries: another chat's job, garbage, too long.
    for (const [data, chatId] of [
      [cancelJobData(aliceJob.id), w.bob.id],
      ["st:c:0", groupId],
      ["st:c:abc", groupId],
      ["st:c:99999999", groupId],
      ["st:p:-1", groupId],
      [`st:c:${"9".repeat(80)}`, groupId],
      ["st:x", groupId],
    ] as const) {
      const answer = await w.board.handleCallback(data, w.alice.id, chatId);
      assert.deepEqual(answer, { text: "This button is out of date.", alert: false }, data);
    }
    assert.equal((await getJob(w.db, aliceJob.id))?.cancel_requested, 0, "nothing forged cancelled it");
    const mine = await w.server.pressButton(
      w.alice.id,
      { chat: group.id },
      message.id,
      { data: cancelJobData(aliceJob.id) },
      30_000,
    );
    assert.equal(mine.message, "Cancelled.");
    await until("the final state", () =>
      w.calls.find((c) => c.messageId === message.id && c.text.startsWith("All jobs finished")),
    );
  });

  it("pages a long board with Prev and Next, and Cancel all ends it", async (t) => {
    const w = await boardWorld(t, { intervalMs: 1000, run: false });
    const urls = Array.from({ length: 25 }, (_, i) => `https://example.com/file-${i + 1}.bin`);
    const jobs = await w.enqueue(urls);
    w.board.track(w.alice.id);
    const first = await until("page 1", () => w.calls.find((c) => c.text.includes("Page 1 of 3")));
    const shownIds = (text: string) => [...text.matchAll(/^#(\d+) /gm)].map((m) => Number(m[1]));
    assert.deepEqual(
      shownIds(first.text),
      jobs.slice(0, 10).map((j) => j.id),
    );
    const message = () => w.server.messages(w.chat).find((m) => m.id === first.messageId)!;
    const buttonData = () =>
      message()
        .buttons?.flat()
        .map((b) => b.data?.toString()) ?? [];
    assert.ok(buttonData().includes(pageData(1)));
    assert.ok(!buttonData().includes(pageData(-1)));

    const answer = await w.server.pressButton(
      w.alice.id,
      w.chat,
      first.messageId,
      { data: pageData(1) },
      30_000,
    );
    assert.equal(answer.message, "Page 2");
    const second = await until("page 2", () => w.calls.find((c) => c.text.includes("Page 2 of 3")));
    assert.deepEqual(
      shownIds(second.text),
      jobs.slice(10, 20).map((j) => j.id),
    );
    assert.ok(buttonData().includes(pageData(0)) && buttonData().includes(pageData(2)));
    assert.ok(buttonData().includes(cancelJobData(jobs[10]!.id)));
    assert.ok(!buttonData().includes(cancelJobData(jobs[0]!.id)), "cancel buttons for the page shown only");

    const all = await w.server.pressButton(
      w.alice.id,
      w.chat,
      first.messageId,
      { data: CANCEL_ALL_DATA },
      30_000,
    );
    assert.equal(all.message, "Cancelled 25 jobs.");
    const final = await until("the final state", () =>
      w.calls.find((c) => c.text.startsWith("All jobs finished")),
    );
    assert.equal(final.text.match(/🚫 Cancelled/g)?.length, 10);
    await until("the board to stop", () => w.board.activeChats().length === 0);
    // The finished board can still be paged: its rows know its jobs.
    await w.server.pressButton(w.alice.id, w.chat, first.messageId, { data: pageData(2) }, 30_000);
    const last = await until("page 3 of the finished board", () =>
      w.calls.find((c) => c.text.startsWith("All jobs finished") && c.text.includes("Page 3 of 3")),
    );
    assert.deepEqual(
      shownIds(last.text),
      jobs.slice(20).map((j) => j.id),
    );
    const spacing = gaps(w.calls.map((c) => c.at));
    assert.ok(
      spacing.every((ms) => ms >= 1000),
      `edits at most once per interval: ${spacing.join(", ")}`,
    );
  });

  it("posts a new message with the same jobs when the old one is gone", async (t) => {
    const w = await boardWorld(t, {
      intervalMs: 1000,
      rate: 48 * KIB,
      serverFaults: {
        faults: {
          methodFaults: [
            { method: "messages.EditMessage", code: 400, message: "MESSAGE_ID_INVALID", times: 1 },
          ],
        },
      },
    });
    const jobs = await w.enqueue(await Promise.all([w.file("q.bin", 96 * KIB), w.file("r.bin", 192 * KIB)]));
    w.board.track(w.alice.id);
    await until("2 jobs settled", () => settled(w.events, 2));
    const final = await until("the final state", () =>
      w.calls.find((c) => c.text.startsWith("All jobs finished")),
    );
    const posted = w.calls.filter((c) => c.type === "message");
    assert.equal(posted.length, 2, "the first message, then its replacement");
    assert.equal(final.messageId, posted[1]?.messageId);
    assert.equal(final.text.match(/✅ Done/g)?.length, 2, "both jobs on the new message");
    for (const job of jobs) assert.equal((await getJob(w.db, job.id))?.status_message_id, final.messageId);
  });

  it("stays silent in a chat that refuses the bot's messages, and the jobs go on", async (t) => {
    const w = await boardWorld(t, {
      intervalMs: 1000,
      serverFaults: {
        faults: { methodFaults: [{ method: "messages.SendMessage", code: 403, message: "USER_IS_BLOCKED" }] },
      },
    });
    await w.enqueue(await Promise.all([w.file("s.bin", 64 * KIB), w.file("u.bin", 64 * KIB)]));
    w.board.track(w.alice.id);
    await until("2 jobs settled", () => settled(w.events, 2));
    await until("the board to stop", () => w.board.activeChats().length === 0);
    assert.equal(w.server.counters().rpcs["messages.SendMessage"], 1, "asked once, not every interval");
    assert.equal(w.events.filter((e) => e.type === "done").length, 2);
  });

  it("resumes a chat's board on its own message after a restart", async (t) => {
    const w = await boardWorld(t, { intervalMs: 1000, run: false });
    const jobs = await w.enqueue(["https://example.com/one.bin", "https://example.com/two.bin"]);
    w.board.track(w.alice.id);
    const first = await until("the board", () => w.calls.find((c) => c.type === "message"));
    await w.board.stop();
    const restarted = w.newBoard();
    await restarted.resumeAll();
    assert.deepEqual(restarted.activeChats(), [w.alice.id]);
    const answer = await restarted.handleCallback(CANCEL_ALL_DATA, w.alice.id, w.alice.id);
    assert.equal(answer.text, "Cancelled 2 jobs.");
    const final = await until("the final state", () =>
      w.calls.find((c) => c.text.startsWith("All jobs finished")),
    );
    assert.equal(final.messageId, first.messageId, "the same message, edited");
    assert.equal(w.calls.filter((c) => c.type === "message").length, 1);
    for (const job of jobs) assert.equal((await getJob(w.db, job.id))?.status, "cancelled");
  });

  it("pauses a running job: it stops, keeps its place unclaimed while others run, and finishes once resumed", async (t) => {
    const w = await boardWorld(t, { intervalMs: 1000, rate: 32 * KIB });
    const [paused] = await w.enqueue([await w.file("long.bin", 384 * KIB)]);
    const id = paused!.id;
    w.board.track(w.alice.id);
    const message = await until("the board with a Pause button while it downloads", async () => {
      const job = await getJob(w.db, id);
      if (job?.status !== "downloading") return undefined;
      return w.server
        .messages(w.chat)
        .find((m) => m.buttons?.flat().some((b) => b.data?.toString() === pauseJobData(id)));
    });
    const answer = await w.server.pressButton(
      w.alice.id,
      w.chat,
      message.id,
      { data: pauseJobData(id) },
      30_000,
    );
    assert.equal(answer.message, "Paused. It keeps its place; press ▶ to go on.");
    const stopped = await until("the job to stop", () => w.events.find((e) => e.type === "paused"));
    assert.equal(stopped.job.id, id);
    const row = await getJob(w.db, id);
    assert.equal(row?.paused, 1);
    assert.equal(row?.locked_by, null, "no worker holds it");

    const [other] = await w.enqueue([await w.file("short.bin", 32 * KIB)]);
    await until("the other job done", () =>
      w.events.find((e) => e.type === "done" && e.job.id === other!.id),
    );
    const claimsWhilePaused = w.events.filter(
      (e) => e.type === "claimed" && e.job.id === id && e.at > stopped.at,
    );
    assert.deepEqual(
      claimsWhilePaused,
      [],
      "not claimed while paused, though the runner claimed another job",
    );
    await until("the board to show it paused", () =>
      w.calls.find((c) => new RegExp(`#${id} \\S+\\n⏸ Paused`).test(c.text)),
    );
    assert.deepEqual(w.board.activeChats(), [w.alice.id], "a paused job keeps the board open");

    const resumed = await w.server.pressButton(
      w.alice.id,
      w.chat,
      message.id,
      { data: resumeJobData(id) },
      30_000,
    );
    assert.equal(resumed.message, "Resumed.");
    await until("the resumed job done", () => w.events.find((e) => e.type === "done" && e.job.id === id));
    const final = await until("the final state", () =>
      w.calls.find((c) => c.text.startsWith("All jobs finished")),
    );
    assert.equal(final.text.match(/✅ Done/g)?.length, 2);
    assert.equal(
      w.server.messages(w.chat).filter((m) => m.media).length,
      2,
      "both files delivered, once each",
    );
    await until("the board to stop", () => w.board.activeChats().length === 0);
  });
});
