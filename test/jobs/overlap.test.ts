/**
 * Upload while downloading, through the real runner, steps, gateway and local Telegram server: a direct file that
 * needs no remuxing is uploaded from the growing download, deliver sends it without uploading it again, and any
 * doubt about the uploaded bytes falls back to an ordinary upload.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type http from "node:http";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { enqueueJobs } from "../../src/db/job-queue.js";
import { getJob } from "../../src/db/jobs.js";
import { touchUser } from "../../src/db/users.js";
import { createRunner, type RunnerEvent } from "../../src/jobs/runner.js";
import { createJobSteps } from "../../src/jobs/steps.js";
import { createLogger } from "../../src/logger.js";
import { type Body, patternBody, serveBody, startHttpServer } from "../support/http-server.js";
import { FFMPEG, FFPROBE, YTDLP } from "../support/media-fixtures.js";
import { startGatewayWorld } from "../telegram/support/gateway-world.js";

const log = createLogger({ level: "silent" });
const MIB = 1024 * 1024;
const SIZE = 12 * MIB;
const PART = 512 * 1024;
const WAIT_MS = 60_000;
/** How long the site holds back its last bytes waiting for the first part to reach Telegram. */
const HOLD_MS = 30_000;
const TAIL = 64 * 1024;

function digest(body: Body): string {
  const hash = createHash("sha256");
  for (let pos = 0; pos < body.size; ) {
    const chunk = body.read(pos, body.size);
    hash.update(chunk);
    pos += chunk.length;
  }
  return hash.digest("hex");
}

async function overlapWorld(t: TestContext) {
  const world = await startGatewayWorld(t);
  const chat = { user: world.alice.id, peer: world.bot.id };
  const gateway = await world.open();
  world.srv.server.sendText(world.alice.id, chat, "/start"); // the bot learns Alice's access hash
  await world.waitForReceived(1);
  const site = await startHttpServer();
  t.after(() => site.close());
  const db = world.database.db;
  await touchUser(db, { id: world.alice.id });
  const savedParts = () => {
    const rpcs = world.srv.server.counters().rpcs;
    return (rpcs["upload.SaveFilePart"] ?? 0) + (rpcs["upload.SaveBigFilePart"] ?? 0);
  };
  const events: RunnerEvent[] = [];
  const waiters = new Set<() => void>();
  /** Parts Telegram had when each job's download was recorded. */
  const partsAtFetched: number[] = [];
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
        idleTimeoutMs: 45_000,
        guard: { allowPrivateNetworks: true },
        ytdlpPath: YTDLP,
        timeoutMs: 60_000,
        ffmpegPath: FFMPEG,
      },
      media: { ffmpegPath: FFMPEG, ffprobePath: FFPROBE, toolTimeoutMs: 60_000 },
      logChats: async () => [],
    }),
    onEvent: (event) => {
      if (event.type === "fetched") partsAtFetched.push(savedParts());
      events.push(event);
      for (const wake of waiters) wake();
    },
  });
  await runner.start();
  t.after(() => runner.stop());
  const run = async (url: string) => {
    const [job] = await db.transaction().execute((trx) =>
      enqueueJobs(
        trx,
        [
          {
            user_id: world.alice.id,
            request_chat_id: world.alice.id,
            destination_chat_id: world.alice.id,
            source_url: url,
          },
        ],
        { perUserQueued: 10, totalQueued: 10 },
      ),
    );
    runner.wake();
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!events.some((e) => (e.type === "done" || e.type === "failed") && e.job.id === job?.id)) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(
        () => reject(new Error(`job not settled: ${events.map((e) => e.type)}`)),
        WAIT_MS,
      );
      waiters.add(check);
      check();
    });
    return getJob(db, job?.id ?? 0);
  };
  const sent = () => world.srv.server.messages(chat).filter((m) => m.media);
  return { world, site, savedParts, partsAtFetched, run, sent };
}

/**
 * Serves `body` whole (200, Content-Length, no ranges), holding its last bytes back until Telegram has a part of
 * the file or HOLD_MS passed; `heldUntilPart` says which came first.
 */
function drip(
  body: Body,
  partSeen: () => boolean,
): { route: (req: http.IncomingMessage, res: http.ServerResponse) => void; heldUntilPart: boolean[] } {
  const heldUntilPart: boolean[] = [];
  const route = (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(200, {
      "content-type": "application/zip",
      "content-length": body.size,
      etag: '"v1"',
    });
    void (async () => {
      for (let pos = 0; pos < body.size - TAIL; ) {
        const chunk = body.read(pos, body.size - TAIL);
        pos += chunk.length;
        if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve));
      }
      const deadline = Date.now() + HOLD_MS;
      while (!partSeen() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      heldUntilPart.push(partSeen());
      res.end(body.read(body.size - TAIL, body.size));
    })();
  };
  return { route, heldUntilPart };
}

describe("upload while downloading", () => {
  it("uploads a plain file while it downloads, and deliver sends it without a second upload", async (t) => {
    const w = await overlapWorld(t);
    const body = patternBody(SIZE, 21);
    const site = drip(body, () => w.savedParts() > 0);
    w.site.route("/data.zip", site.route);
    const job = await w.run(`${w.site.origin}/data.zip`);
    assert.equal(job?.status, "done", job?.error_message ?? "");
    assert.deepEqual(site.heldUntilPart, [true], "a part reached Telegram before the download's last byte");
    const sent = w.sent();
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.media?.sha256, digest(body), "byte-identical");
    assert.equal(sent[0]?.media?.name, "data.zip");
    assert.deepEqual(w.partsAtFetched, [SIZE / PART], "the whole upload ran during the fetch step");
    assert.equal(w.savedParts(), SIZE / PART, "every part saved once: deliver uploaded nothing");
  });

  it("falls back to an ordinary upload when the one during the download fails", async (t) => {
    const w = await overlapWorld(t);
    w.world.srv.server.faults.setFaults({
      methodFaults: [{ method: "upload.SaveBigFilePart", code: 400, message: "FILE_PART_INVALID", times: 1 }],
    });
    const body = patternBody(SIZE, 22);
    w.site.route("/data.zip", (req, res) =>
      serveBody(req, res, body, { etag: '"v1"', contentType: "application/zip" }),
    );
    const job = await w.run(`${w.site.origin}/data.zip`);
    assert.equal(job?.status, "done", job?.error_message ?? "");
    const sent = w.sent();
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.media?.sha256, digest(body), "byte-identical");
  });

  it("does not overlap a video, which deliver may remux", async (t) => {
    const w = await overlapWorld(t);
    const body = patternBody(SIZE, 23);
    w.site.route("/movie.mp4", (req, res) =>
      serveBody(req, res, body, { etag: '"v1"', contentType: "video/mp4" }),
    );
    const job = await w.run(`${w.site.origin}/movie.mp4`);
    // Bytes that are no video go as a document; what matters is that they went up once, from deliver.
    assert.equal(job?.status, "done", job?.error_message ?? "");
    assert.deepEqual(w.partsAtFetched, [0], "nothing uploaded during the fetch step");
    assert.equal(w.savedParts(), SIZE / PART);
    assert.equal(w.sent()[0]?.media?.sha256, digest(body));
  });
});
