/**
 * A link to delivered messages through the real pieces: a local HTTP server, ffmpeg, the runner and its steps,
 * the gateway and the local Telegram server. The user's chat gets the file, the log channel a copy by reference.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { listDeliveries } from "../../src/db/deliveries.js";
import { enqueueJobs } from "../../src/db/job-queue.js";
import { getJob } from "../../src/db/jobs.js";
import { touchUser } from "../../src/db/users.js";
import { createRunner, type RunnerEvent } from "../../src/jobs/runner.js";
import { createJobSteps } from "../../src/jobs/steps.js";
import { createLogger } from "../../src/logger.js";
import {
  FFMPEG,
  FFPROBE,
  makeClip,
  makeRandomFile,
  serveDirectory,
  YTDLP,
} from "../support/media-fixtures.js";
import { startGatewayWorld } from "../telegram/support/gateway-world.js";

const log = createLogger({ level: "silent" });
const WAIT_MS = 60_000;

async function pipelineWorld(t: TestContext) {
  const world = await startGatewayWorld(t);
  const chat = { user: world.alice.id, peer: world.bot.id };
  const gateway = await world.open();
  world.srv.server.sendText(world.alice.id, chat, "/start"); // the bot learns Alice's access hash
  await world.waitForReceived(1);
  const channel = world.srv.server.createChat({
    kind: "channel",
    title: "Log",
    username: "medusa_log",
    creatorId: world.alice.id,
    admins: [world.bot.id],
  });
  const logChat = await gateway.resolveChat("@medusa_log");
  const files = join(world.dir, "site");
  const { mkdir } = await import("node:fs/promises");
  await mkdir(files);
  const site = await serveDirectory(files);
  t.after(() => site.close());
  const db = world.database.db;
  await touchUser(db, { id: world.alice.id });
  const events: RunnerEvent[] = [];
  const waiters = new Set<() => void>();
  const runner = createRunner({
    db,
    log,
    pollMs: 50,
    steps: createJobSteps({
      db,
      gateway,
      workRoot: join(world.dir, "work"),
      source: {
        maxSize: 1e9,
        minFreeDisk: 0,
        connectTimeoutMs: 5000,
        idleTimeoutMs: 5000,
        guard: { allowPrivateNetworks: true },
        ytdlpPath: YTDLP,
        timeoutMs: 60_000,
        ffmpegPath: FFMPEG,
      },
      media: { ffmpegPath: FFMPEG, ffprobePath: FFPROBE, toolTimeoutMs: 60_000 },
      logChats: async () => [logChat.id],
    }),
    onEvent: (event) => {
      events.push(event);
      for (const wake of waiters) wake();
    },
  });
  await runner.start();
  t.after(() => runner.stop());
  const enqueue = (urls: string[]) =>
    db.transaction().execute((trx) =>
      enqueueJobs(
        trx,
        urls.map((source_url) => ({
          user_id: world.alice.id,
          request_chat_id: world.alice.id,
          destination_chat_id: world.alice.id,
          source_url,
        })),
        { perUserQueued: 100, totalQueued: 100 },
      ),
    );
  const waitDone = (n: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        const settled = events.filter((e) => e.type === "done" || e.type === "failed").length;
        if (settled < n) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(
        () => reject(new Error(`jobs not settled: ${events.map((e) => e.type)}`)),
        WAIT_MS,
      );
      waiters.add(check);
      check();
    });
  return { world, chat, channel, logChat, files, site, db, events, enqueue, waitDone, runner };
}

const sha256 = async (file: string) =>
  createHash("sha256")
    .update(await readFile(file))
    .digest("hex");

describe("pipeline: link to delivered messages", () => {
  it("delivers a video with its attributes and thumbnail, and a copy to the log channel by reference", async (t) => {
    const p = await pipelineWorld(t);
    const clip = await makeClip(join(p.files, "clip.mp4"), {
      seconds: 3,
      width: 320,
      height: 240,
      faststart: true,
    });
    const saved = () => p.world.srv.server.counters().rpcs["upload.SaveFilePart"] ?? 0;
    const [job] = await p.enqueue([`${p.site.origin}/clip.mp4`]);
    await p.waitDone(1);
    const done = await getJob(p.db, job?.id ?? 0);
    assert.equal(done?.status, "done", done?.error_message ?? "");
    const inChat = p.world.srv.server.messages(p.chat).filter((m) => m.media);
    assert.equal(inChat.length, 1);
    const media = inChat[0]?.media;
    assert.equal(media?.sha256, await sha256(clip), "byte-identical");
    assert.equal(media?.hasThumb, true);
    const video = media?.attributes.find((a) => a.type === "video");
    assert.deepEqual(video, { type: "video", duration: 3, w: 320, h: 240, supportsStreaming: true });
    assert.match(inChat[0]?.text ?? "", /^clip\.mp4\n.*KiB • 0:03 • 240p$/, "the default caption template");
    const inLog = p.world.srv.server.messages({ chat: p.channel.id }).filter((m) => m.media);
    assert.equal(inLog.length, 1);
    assert.match(inLog[0]?.text ?? "", new RegExp(`#u${p.world.alice.id}\\b`), "the log card's hashtags");
    assert.equal(inLog[0]?.media?.sha256, media?.sha256);
    const deliveries = await listDeliveries(p.db, job?.id ?? 0);
    assert.deepEqual(
      deliveries.map((d) => [d.target, d.message_id !== null]),
      [
        ["destination", true],
        ["log", true],
      ],
    );
    const parts = saved();
    // The same content again: re-sent by reference, nothing uploaded.
    await p.enqueue([`${p.site.origin}/clip.mp4`]);
    await p.waitDone(2);
    assert.equal(saved(), parts, "no part uploaded for the repeated file");
    assert.equal(p.world.srv.server.messages(p.chat).filter((m) => m.media).length, 2);
    await assert.rejects(access(done?.work_dir ?? "/nonexistent-work-dir"), "the job's work dir is gone");
  });

  it("sends a plain file as a document and fails a dead link with the reason, delivering the rest", async (t) => {
    const p = await pipelineWorld(t);
    const bin = await makeRandomFile(join(p.files, "data.bin"), 1_500_000);
    const jobs = await p.enqueue([`${p.site.origin}/missing.bin`, `${p.site.origin}/data.bin`]);
    await p.waitDone(2);
    const [missing, data] = await Promise.all(jobs.map((j) => getJob(p.db, j.id)));
    assert.equal(missing?.status, "failed");
    assert.equal(missing?.error_code, "HTTP_404");
    assert.equal(data?.status, "done");
    const sent = p.world.srv.server.messages(p.chat).filter((m) => m.media);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.media?.sha256, await sha256(bin));
    assert.equal(sent[0]?.media?.name, "data.bin");
  });
});
