/**
 * /merge end to end: a batch of tiny solid-colour videos served on 127.0.0.1 is delivered by the real runner and
 * steps through the local Telegram server, then /merge in reply to it makes one video of them. Copy when the
 * inputs agree, re-encode when they do not, list order kept (the colour on each side of a boundary), refusals,
 * and a cancel that leaves no work files.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { access, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { promisify } from "node:util";
import { batchSummaryTexts } from "../../src/bot/summary-texts.js";
import type { Job } from "../../src/db/schema.js";
import { createBatchFinisher } from "../../src/jobs/batch-finish.js";
import { storedOf } from "../../src/jobs/deliver.js";
import { createRunner, type Runner, type RunnerEvent } from "../../src/jobs/runner.js";
import { createJobSteps } from "../../src/jobs/steps.js";
import { createWorkCleanup } from "../../src/jobs/work-cleanup.js";
import { createLogger } from "../../src/logger.js";
import { FFMPEG, FFPROBE, type FileServer, ffmpeg, serveDirectory } from "../support/media-fixtures.js";
import type { MessageView } from "../support/telegram-server/server.js";
import {
  type BotWorld,
  type BotWorldOptions,
  type Person,
  startBotWorld,
  WAIT_MS,
} from "./support/bot-world.js";

const run = promisify(execFile);
const COLOURS = { red: [255, 0, 0], blue: [0, 0, 255], lime: [0, 255, 0] } as const;
type Colour = keyof typeof COLOURS;

interface Clip {
  colour: Colour;
  seconds: number;
  size?: string;
  fps?: number;
  /** Audio sample rate; 0 for none. */
  rate?: number;
}

/** A solid-colour H.264 clip with a sine tone: 160x120, 15 fps, 22.05 kHz mono unless told otherwise. */
async function makeColourClip(file: string, clip: Clip): Promise<void> {
  const size = clip.size ?? "160x120";
  const fps = clip.fps ?? 15;
  const rate = clip.rate ?? 22_050;
  const args = [
    "-f",
    "lavfi",
    "-i",
    `color=c=${clip.colour}:size=${size}:rate=${fps}:duration=${clip.seconds}`,
  ];
  if (rate > 0)
    args.push("-f", "lavfi", "-i", `sine=frequency=440:sample_rate=${rate}:duration=${clip.seconds}`);
  args.push(...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", String(fps)]);
  if (rate > 0) args.push("-c:a", "aac", "-b:a", "48k");
  await ffmpeg([...args, "-shortest", "-movflags", "+faststart", file]);
}

async function probe(file: string): Promise<{
  streams: Record<string, string | number>[];
  format: { duration: string };
}> {
  const { stdout } = await run(FFPROBE, [
    ...["-v", "error", "-count_packets", "-show_data_hash", "SHA256", "-print_format", "json"],
    ...["-show_streams", "-show_format", file],
  ]);
  return JSON.parse(stdout) as Awaited<ReturnType<typeof probe>>;
}

/** The average colour of the frame shown at `seconds`, as RGB. */
async function colourAt(file: string, seconds: number): Promise<number[]> {
  const { stdout } = await run(
    FFMPEG,
    [
      ...["-v", "error", "-ss", String(seconds), "-i", file, "-frames:v", "1"],
      ...["-vf", "scale=1:1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
    ],
    { encoding: "buffer" },
  );
  return [...stdout.subarray(0, 3)];
}

function assertColour(actual: number[], colour: Colour, what: string): void {
  const wanted = COLOURS[colour];
  for (const [i, value] of wanted.entries()) {
    assert.ok(Math.abs((actual[i] ?? -1) - value) < 40, `${what}: ${actual} is not ${colour}`);
  }
}

interface MergeWorld extends BotWorld {
  site: string;
  server: FileServer;
  workRoot: string;
  events: RunnerEvent[];
  /** The log channels every delivery is copied to. */
  logChats: number[];
  /** A runner as `medusa start` has: a new one each time, as after a restart. */
  startRunner(): Promise<void>;
  stopRunner(): Promise<void>;
  /** Resolves with the job's end event (done, failed or cancelled). */
  ended(jobId: number): Promise<RunnerEvent>;
  /** Sends the .txt list and waits for the batch to be summarised; returns the list and the summary messages. */
  batchOf(p: Person, name: string, files: string[]): Promise<{ list: MessageView; summary: MessageView }>;
  /** Replies /merge to `message` and returns the bot's answer. */
  merge(p: Person, message: MessageView): Promise<MessageView>;
  /** The merged file as delivered, fetched back from Telegram. */
  deliveredFile(job: Job): Promise<string>;
}

async function startMergeWorld(t: TestContext, options: BotWorldOptions = {}): Promise<MergeWorld> {
  const w = (await startBotWorld(t, options)) as MergeWorld;
  const db = w.database.db;
  w.site = join(w.dir, "site");
  w.workRoot = join(w.dir, "work");
  await mkdir(w.site);
  w.server = await serveDirectory(w.site);
  t.after(() => w.server.close());
  w.events = [];
  w.logChats = [];
  /** Job ends whose clean-up and batch summary are over. */
  const settled: RunnerEvent[] = [];
  const waiters = new Set<() => void>();
  const log = createLogger({ level: "silent" });
  const finisher = createBatchFinisher({
    db,
    gateway: w.gateway,
    logChats: async () => [],
    log,
    textsFor: () => batchSummaryTexts("en"),
  });
  const work = createWorkCleanup(db, w.workRoot, log);
  const newRunner = () =>
    createRunner({
      db,
      log: createLogger({
        level: "info",
        destination: {
          write: (line: string) => void w.logs.push(JSON.parse(line) as Record<string, unknown>),
        },
      }),
      pollMs: 50,
      heartbeatMs: 200, // a cancel is noticed within this
      steps: createJobSteps({
        db,
        gateway: w.gateway,
        workRoot: w.workRoot,
        source: {
          maxSize: 1e9,
          minFreeDisk: 0,
          connectTimeoutMs: 5000,
          idleTimeoutMs: 5000,
          guard: { allowPrivateNetworks: true },
          ytdlpPath: "yt-dlp",
          timeoutMs: 60_000,
          ffmpegPath: FFMPEG,
        },
        media: { ffmpegPath: FFMPEG, ffprobePath: FFPROBE, toolTimeoutMs: 60_000 },
        logChats: async () => w.logChats,
      }),
      onEvent: (event) => {
        w.events.push(event);
        if (event.type === "done" || event.type === "failed" || event.type === "cancelled") {
          // As src/main.ts does: a failed or cancelled job's folder goes; the last job ends its batch.
          const cleaned = event.type === "done" ? Promise.resolve() : work.jobEnded(event.job);
          void cleaned
            .then(() => finisher.jobEnded(event.job))
            .then(() => {
              settled.push(event);
              for (const wake of waiters) wake();
            });
        }
      },
    });
  let runner: Runner | undefined;
  t.after(() => runner?.stop());
  w.startRunner = async () => {
    runner = newRunner();
    await runner.start();
  };
  w.stopRunner = async () => {
    await runner?.stop();
    runner = undefined;
  };
  const until = <T>(what: string, found: () => Promise<T | undefined> | T | undefined) =>
    new Promise<T>((resolve, reject) => {
      const check = async () => {
        const value = await found();
        if (value === undefined) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${what}: not within ${WAIT_MS} ms; events ${w.events.map((e) => e.type)}`));
      }, WAIT_MS * 2);
      waiters.add(check);
      void check();
    });
  w.ended = (jobId) => until(`job ${jobId} ended`, () => settled.find((e) => e.job.id === jobId));
  w.batchOf = async (p, name, files) => {
    const list = await w.sendDocument(p, name, files.map((f) => `${w.server.origin}/${f}`).join("\n"));
    await w.replyAfter(w.chat(p), list.id);
    const batch = await db
      .selectFrom("jobs")
      .select("batch_id")
      .where("request_message_id", "=", list.id)
      .executeTakeFirstOrThrow();
    const summary = await until(`batch ${batch.batch_id} summarised`, async () => {
      const row = await db
        .selectFrom("batch_summaries")
        .selectAll()
        .where("batch_id", "=", batch.batch_id!)
        .where("target", "=", "chat")
        .where("message_id", "is not", null)
        .executeTakeFirst();
      return row ? w.srv.server.messages(w.chat(p)).find((m) => m.id === row.message_id) : undefined;
    });
    return { list, summary };
  };
  w.merge = (p, message) => w.say(p, "/merge", message.id);
  w.deliveredFile = async (job) => {
    const file = await db
      .selectFrom("deliveries as d")
      .innerJoin("files as f", "f.id", "d.file_id")
      .selectAll("f")
      .where("d.job_id", "=", job.id)
      .where("d.target", "=", "destination")
      .executeTakeFirstOrThrow();
    const out = join(w.dir, `delivered-${job.id}${file.name.slice(file.name.lastIndexOf("."))}`);
    await w.gateway.downloadDocument(storedOf(file), out);
    return out;
  };
  return w;
}

const jobIdOf = (reply: MessageView) => Number(/Merge #(\d+)/.exec(reply.text)?.[1]);

async function jobRow(w: BotWorld, id: number): Promise<Job> {
  return w.database.db.selectFrom("jobs").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

describe("/merge", () => {
  it("joins a batch's videos by stream copy when their codec parameters agree, in list order", async (t) => {
    const w = await startMergeWorld(t);
    await makeColourClip(join(w.site, "a.mp4"), { colour: "red", seconds: 2 });
    await makeColourClip(join(w.site, "b.mp4"), { colour: "blue", seconds: 3 });
    await writeFile(join(w.site, "notes.pdf"), "%PDF-1.4 not a video");
    const logChannel = w.srv.server.createChat({
      kind: "channel",
      title: "Uploads log",
      username: "uploads_log",
      creatorId: w.owner.id,
      admins: [w.botUser.id],
    });
    w.logChats.push((await w.gateway.resolveChat("@uploads_log")).id);
    await w.startRunner();
    const { summary } = await w.batchOf(w.user, "course.txt", ["a.mp4", "notes.pdf", "b.mp4"]);

    const reply = await w.merge(w.user, summary);
    const id = jobIdOf(reply);
    assert.match(reply.text, /^Merge #\d+: 2 videos of batch #\d+ into one file, in list order\.\n/);
    assert.match(reply.text, /\nLeft out: 1 files that are not videos\.$/);
    const end = await w.ended(id);
    assert.equal(end.type, "done", JSON.stringify(end.job.error_message));

    const job = await jobRow(w, id);
    assert.match(job.source_url, /^merge:\d+$/);
    assert.equal(job.name, "course (merged).mp4");
    assert.equal((JSON.parse(job.checkpoint) as { merge: { mode: string } }).merge.mode, "copy");
    assert.ok(
      w.logs.some((l) => l.msg === "merging by stream copy: the inputs' codec parameters agree"),
      "the log says it was a stream copy",
    );
    const [video] = w.srv.server
      .messages(w.chat(w.user))
      .filter((m) => m.media && m.id > reply.id && m.fromId === w.botUser.id);
    assert.equal(video?.media?.name, "course (merged).mp4");
    const attributes = video.media.attributes.find((a) => a.type === "video");
    assert.deepEqual(
      { ...attributes, duration: Math.round(Number(attributes?.duration)) },
      { type: "video", duration: 5, w: 160, h: 120, supportsStreaming: true },
    );
    assert.ok(video.media.hasThumb, "with a thumbnail");
    const copy = w.srv.server
      .messages({ chat: logChannel.id })
      .find((m) => m.media?.name === "course (merged).mp4");
    assert.equal(copy?.media?.sha256, video.media.sha256, "a copy went to the log channel");
    assert.doesNotMatch(copy.text, /merge:/, "its card names no merge:<id> link");

    const merged = await w.deliveredFile(job);
    assert.equal(
      createHash("sha256")
        .update(await readFile(merged))
        .digest("hex"),
      video.media.sha256,
    );
    const [out, a, b] = await Promise.all([merged, join(w.site, "a.mp4"), join(w.site, "b.mp4")].map(probe));
    assert.ok(Math.abs(Number(out!.format.duration) - 5) < 0.2, `duration ${out!.format.duration}`);
    for (const [index, stream] of out!.streams.entries()) {
      const input = a!.streams[index]!;
      // Stream copy: the very codec parameters of the inputs, and every packet of both.
      for (const key of [
        "codec_name",
        "profile",
        "width",
        "height",
        "pix_fmt",
        "sample_rate",
        "extradata_hash",
      ]) {
        assert.equal(stream[key], input[key], `${stream.codec_type} ${key}`);
      }
      assert.equal(
        Number(stream.nb_read_packets),
        Number(input.nb_read_packets) + Number(b!.streams[index]!.nb_read_packets),
        `${stream.codec_type} packets`,
      );
    }
    assertColour(await colourAt(merged, 1.8), "red", "before the boundary");
    assertColour(await colourAt(merged, 2.2), "blue", "after the boundary");
    assertColour(await colourAt(merged, 4.8), "blue", "at the end");
    assert.deepEqual(await readdir(w.workRoot), [], "no work files left");
  });

  it("re-encodes to H.264/AAC mp4 when the videos differ, keeping their order", async (t) => {
    const w = await startMergeWorld(t);
    await makeColourClip(join(w.site, "one.mp4"), {
      colour: "lime",
      seconds: 2,
      size: "320x240",
      fps: 25,
      rate: 0,
    });
    await makeColourClip(join(w.site, "two.mp4"), { colour: "red", seconds: 2 });
    await w.startRunner();
    const { list } = await w.batchOf(w.user, "mixed.txt", ["one.mp4", "two.mp4"]);

    const reply = await w.merge(w.user, list); // in reply to the .txt this time
    const id = jobIdOf(reply);
    assert.equal(reply.text, `Merge #${id}: 2 videos of batch #1 into one file, in list order.`);
    const end = await w.ended(id);
    assert.equal(end.type, "done", JSON.stringify(end.job.error_message));
    const job = await jobRow(w, id);
    const record = (JSON.parse(job.checkpoint) as { merge: { mode: string; reason: string } }).merge;
    assert.equal(record.mode, "reencode");
    assert.match(record.reason, /^input 2: video width 160 ≠ 320$/, "the first difference that says why");

    const merged = await w.deliveredFile(job);
    const out = await probe(merged);
    const video = out.streams.find((s) => s.codec_type === "video")!;
    const audio = out.streams.find((s) => s.codec_type === "audio")!;
    assert.deepEqual(
      [video.codec_name, video.width, video.height, video.pix_fmt],
      ["h264", 320, 240, "yuv420p"],
    );
    assert.deepEqual([audio.codec_name, audio.sample_rate, audio.channels], ["aac", "48000", 2]);
    assert.ok(Math.abs(Number(out.format.duration) - 4) < 0.25, `duration ${out.format.duration}`);
    assertColour(await colourAt(merged, 1.7), "lime", "the first video first");
    assertColour(await colourAt(merged, 2.3), "red", "the second after it");
  });

  it("refuses what it cannot merge, each with a reply that says why", async (t) => {
    const w = await startMergeWorld(t, { fileLimit: 4096 });
    await makeColourClip(join(w.site, "a.mp4"), { colour: "red", seconds: 1 });
    await makeColourClip(join(w.site, "b.mp4"), { colour: "blue", seconds: 1 });
    await writeFile(join(w.site, "notes.pdf"), "%PDF-1.4 not a video");

    assert.equal(
      (await w.say(w.user, "/merge")).text,
      "Reply /merge to a batch: the .txt list that started it, or its summary.",
    );
    const hello = w.send(w.user, "hello");
    await w.replyAfter(w.chat(w.user), hello.id);
    assert.equal(
      (await w.merge(w.user, hello)).text,
      "The message you replied to is not one of a batch I know. Reply to the .txt list or to the batch's summary.",
    );
    // The runner is not started yet: the batch is still running.
    const pending = await w.sendDocument(
      w.user,
      "one.txt",
      `${w.server.origin}/a.mp4\n${w.server.origin}/notes.pdf`,
    );
    await w.replyAfter(w.chat(w.user), pending.id);
    assert.equal(
      (await w.merge(w.user, pending)).text,
      "Batch #1 is still running. Merge it once its summary has arrived.",
    );
    await w.startRunner();
    const one = await w.batchOf(w.user, "one-again.txt", ["a.mp4", "notes.pdf"]);
    assert.equal(
      (await w.merge(w.user, one.summary)).text,
      "Batch #2 has 1 delivered videos; a merge needs at least two.",
    );
    const two = await w.batchOf(w.user, "two.txt", ["a.mp4", "b.mp4"]);
    assert.match(
      (await w.merge(w.user, two.summary)).text,
      /^The videos of batch #3 add up to .+; at most 16\.0 KiB are merged \(the file would go out in more than 4 parts\)\.$/,
    );
    // Someone else's batch: refused to a user, taken from an admin.
    await w.database.db.updateTable("batches").set({ user_id: w.admin.id }).where("id", "=", 3).execute();
    assert.equal(
      (await w.merge(w.user, two.summary)).text,
      "Batch #3 is someone else's: only they (or an admin) can merge it.",
    );
    const jobs = await w.database.db.selectFrom("jobs").select("source_url").execute();
    assert.ok(!jobs.some((j) => j.source_url.startsWith("merge:")), "no merge job was queued");
  });

  it("can be cancelled while it fetches the videos, and leaves no work files", async (t) => {
    const w = await startMergeWorld(t);
    await makeColourClip(join(w.site, "a.mp4"), { colour: "red", seconds: 3, size: "320x240" });
    await makeColourClip(join(w.site, "b.mp4"), { colour: "blue", seconds: 3, size: "320x240" });
    await w.startRunner();
    const { summary } = await w.batchOf(w.user, "slow.txt", ["a.mp4", "b.mp4"]);
    // Telegram answers slowly now (each file request takes seconds): the merge is still fetching at the cancel.
    w.srv.server.faults.setConditions({ latencyMs: 3000 });
    const merge = w.send(w.user, "/merge", summary.id);
    const workDir = join(w.workRoot, "job-3");
    const started = Date.now();
    for (;;) {
      const job = await w.database.db.selectFrom("jobs").selectAll().where("id", "=", 3).executeTakeFirst();
      if (job?.status === "downloading" && job.source_url.startsWith("merge:")) break;
      assert.ok(Date.now() - started < WAIT_MS, `the merge did not start fetching: ${job?.status}`);
      await new Promise((resolve) => setTimeout(resolve, 50)); // polls a row; no fixed wait for the outcome
    }
    await access(workDir);
    const cancel = w.send(w.user, "/cancel 3");
    const end = await w.ended(3);
    assert.equal(end.type, "cancelled");
    w.srv.server.faults.setConditions({ latencyMs: 0 });
    await w.barrier();
    const texts = w.botMessages(w.chat(w.user), merge.id).map((m) => m.text);
    assert.ok(texts.includes("Merge #3: 2 videos of batch #1 into one file, in list order."), `${texts}`);
    assert.ok(
      w.botMessages(w.chat(w.user), cancel.id).some((m) => /#3/.test(m.text)),
      "the cancel is answered",
    );
    await assert.rejects(access(workDir), { code: "ENOENT" });
    assert.deepEqual(await readdir(w.workRoot), [], "no work files left");
    const videos = w.srv.server
      .messages(w.chat(w.user))
      .filter((m) => m.media && m.id > merge.id && m.fromId === w.botUser.id);
    assert.equal(videos.length, 0, "nothing was delivered");
  });
  it("survives a restart mid-fetch: the videos already fetched are kept, the rest fetched, one file delivered", async (t) => {
    const w = await startMergeWorld(t);
    await makeColourClip(join(w.site, "a.mp4"), { colour: "red", seconds: 2 });
    await makeColourClip(join(w.site, "b.mp4"), { colour: "blue", seconds: 2 });
    await w.startRunner();
    const { summary } = await w.batchOf(w.user, "restart.txt", ["a.mp4", "b.mp4"]);
    w.srv.server.faults.setConditions({ latencyMs: 1500 });
    w.send(w.user, "/merge", summary.id);
    // The first video is on disk, the second still on its way: Medusa stops here.
    const first = join(w.workRoot, "job-3", "in-001.mp4");
    const size = (await stat(join(w.site, "a.mp4"))).size;
    const started = Date.now();
    while ((await stat(first).catch(() => undefined))?.size !== size) {
      assert.ok(Date.now() - started < WAIT_MS * 2, "the first video never arrived");
      await new Promise((resolve) => setTimeout(resolve, 50)); // polls a file; no fixed wait for the outcome
    }
    await w.stopRunner();
    assert.equal((await jobRow(w, 3)).status, "downloading", "left to resume");
    w.srv.server.faults.setConditions({ latencyMs: 0 });
    await w.startRunner();
    const end = await w.ended(3);
    assert.equal(end.type, "done", JSON.stringify(end.job.error_message));
    assert.ok(
      w.logs.some((l) => l.msg === "merge inputs kept from an earlier attempt" && l.kept === 1 && l.of === 2),
      "the video fetched before the stop was not fetched again",
    );
    const merged = await w.deliveredFile(await jobRow(w, 3));
    const out = await probe(merged);
    assert.ok(Math.abs(Number(out.format.duration) - 4) < 0.2, `duration ${out.format.duration}`);
    assertColour(await colourAt(merged, 1.8), "red", "before the boundary");
    assertColour(await colourAt(merged, 2.2), "blue", "after the boundary");
    const delivered = w.srv.server
      .messages(w.chat(w.user))
      .filter((m) => m.media?.name === "restart (merged).mp4" && m.fromId === w.botUser.id);
    assert.equal(delivered.length, 1, "delivered once");
  });
});
