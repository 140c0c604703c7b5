/**
 * The upload engine against the local Telegram server (real TCP, real MTProto): byte-identical assembly at the
 * size boundaries, limits checked before any byte, faults recovered, cancellation, no connection left open.
 */
import assert from "node:assert/strict";
import { appendFile, open, rm, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import type { TelegramClient } from "telegram";
import { CancelledError, UploadError } from "../../src/errors.js";
import { installGramjsPatches } from "../../src/telegram/gramjs-patches.js";
import { sendFile } from "../../src/telegram/send.js";
import { PART_SIZE } from "../../src/telegram/upload-plan.js";
import {
  type UploadedFile,
  type UploadOptions,
  type UploadStats,
  uploadFile,
} from "../../src/telegram/uploader.js";
import type { RunningTelegramServer } from "../support/telegram-server/index.js";
import { writePatternFile } from "./support/files.js";
import { startUserPair, type UserPair } from "./support/user-pair.js";

const TEN_MIB = 10 * 1024 * 1024;
/**
 * Bounded waits: the server notices a closed socket within milliseconds (about a second behind a bandwidth cap,
 * while a paused socket drains); 30 s means a leak even on a loaded machine.
 */
const SETTLE_TIMEOUT_MS = 30_000;

describe("uploadFile against the local Telegram server", () => {
  let srv: RunningTelegramServer;
  let client: TelegramClient;
  let dir: string;
  let alice: { id: number };
  let bob: { id: number; accessHash: string };
  let randomId = 1000n;

  let pair: UserPair;

  before(async () => {
    // As the composition root does: before any client exists, so uploads run on the patched gramjs.
    installGramjsPatches();
    pair = await startUserPair("medusa-uploader-");
    ({ srv, client, dir, alice, bob } = pair);
  });

  after(() => pair.close());

  beforeEach(() => {
    srv.server.faults.setConditions({ bandwidth: 0, latencyMs: 0 });
    srv.server.faults.setFaults({ floodWaitShare: 0, dropShare: 0, methodFaults: [] });
  });

  const bobPeer = () => pair.bobPeer();

  /** Waits until only the main client's connection is open on the server. */
  async function connectionsSettle(): Promise<number> {
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    let open = srv.server.counters().connectionsOpen;
    while (open !== 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      open = srv.server.counters().connectionsOpen;
    }
    return open;
  }

  /** Sends the uploaded file to bob and returns the SHA-256 the server computed on assembly. */
  async function sentSha(file: UploadedFile): Promise<string | undefined> {
    const sent = await sendFile(client, { peer: bobPeer(), file, randomId: randomId++ });
    const message = srv.server
      .messages({ user: alice.id, peer: bob.id })
      .find((m) => m.id === sent.messageId);
    return message?.media?.sha256;
  }

  async function roundTrip(size: number, options: UploadOptions = {}, stats?: UploadStats) {
    const path = join(dir, `file-${size}.bin`);
    const sha = await writePatternFile(path, size);
    const file = await uploadFile(client, path, options, stats);
    assert.equal(file.size, size);
    assert.equal(await sentSha(file), sha, `server SHA-256 of ${size} bytes`);
    assert.equal(await connectionsSettle(), 1, "extra connections closed");
    await rm(path);
    return file;
  }

  it("rejects an empty file before opening any connection", async () => {
    const path = join(dir, "empty.bin");
    await writeFile(path, "");
    const before = srv.server.counters().connectionsTotal;
    await assert.rejects(
      uploadFile(client, path),
      (error: unknown) => error instanceof UploadError && error.code === "UPLOAD_EMPTY_FILE",
    );
    assert.equal(srv.server.counters().connectionsTotal, before);
  });

  it("rejects more than 4000 parts without Premium before sending a byte, suggesting a split", async () => {
    const path = join(dir, "huge.bin");
    await writeFile(path, "");
    await truncate(path, 4000 * PART_SIZE + 1); // sparse: no disk used
    const before = srv.server.counters();
    await assert.rejects(
      uploadFile(client, path),
      (error: unknown) =>
        error instanceof UploadError &&
        error.code === "UPLOAD_TOO_MANY_PARTS" &&
        /Split/.test(error.hint ?? ""),
    );
    const after = srv.server.counters();
    assert.equal(after.connectionsTotal, before.connectionsTotal);
    assert.equal(after.rpcs["upload.SaveBigFilePart"], before.rpcs["upload.SaveBigFilePart"]);
    await rm(path);
  });

  it("checks options up front with clear messages", async () => {
    await assert.rejects(
      uploadFile(client, "/nonexistent", { connections: 0 }),
      /Expected `connections`.*got 0/,
    );
    await assert.rejects(
      uploadFile(client, "/nonexistent", { inFlight: 2.5 }),
      /Expected `inFlight`.*got 2.5/,
    );
  });

  for (const [label, size] of [
    ["1 byte", 1],
    ["exactly one part", PART_SIZE],
    ["one part + 1 byte", PART_SIZE + 1],
    ["10 MiB - 1 (small-file path)", TEN_MIB - 1],
    ["10 MiB (small-file path)", TEN_MIB],
    ["10 MiB + 1 (big-file path)", TEN_MIB + 1],
    ["a large file (64 MiB)", 64 * 1024 * 1024],
  ] as const) {
    it(`assembles ${label} byte for byte`, async () => {
      const progress: number[] = [];
      const file = await roundTrip(size, { onProgress: (done) => progress.push(done) });
      assert.equal(file.big, size > TEN_MIB);
      assert.equal(file.partCount, Math.ceil(size / PART_SIZE));
      assert.equal(progress.at(-1), size);
      assert.ok(progress.every((value, i) => i === 0 || value > (progress[i - 1] as number)));
    });
  }

  it("spreads a small file's parts one per connection and sends each part once", async () => {
    const size = 6 * PART_SIZE;
    const stats: UploadStats = { connections: 0, inFlight: 0, reopens: 0, floodWaits: 0, rpcRetries: 0 };
    const before = srv.server.counters();
    await roundTrip(size, {}, stats);
    assert.deepEqual([stats.connections, stats.inFlight], [6, 1], "six connections, one part each");
    // Each new connection starts with the main one's server salt: no part is answered bad_server_salt and re-sent.
    const received = srv.server.counters().bytesIn - before.bytesIn;
    assert.ok(received < size * 1.05, `${received} bytes received for ${size}`);
    assert.equal(srv.server.counters().handshakes, before.handshakes, "no new auth key");
  });

  it("waits out FLOOD_WAIT and FLOOD_PREMIUM_WAIT on the connection that got them", async () => {
    srv.server.faults.setFaults({
      methodFaults: [{ method: "upload.SaveBigFilePart", code: 420, message: "FLOOD_WAIT_1", times: 2 }],
    });
    const stats: UploadStats = { connections: 0, inFlight: 0, reopens: 0, floodWaits: 0, rpcRetries: 0 };
    await roundTrip(12 * 1024 * 1024, { connections: 2 }, stats);
    assert.equal(stats.floodWaits, 2);
    srv.server.faults.setFaults({
      methodFaults: [
        { method: "upload.SaveBigFilePart", code: 420, message: "FLOOD_PREMIUM_WAIT_1", times: 1 },
      ],
    });
    const premiumStats: UploadStats = {
      connections: 0,
      inFlight: 0,
      reopens: 0,
      floodWaits: 0,
      rpcRetries: 0,
    };
    await roundTrip(12 * 1024 * 1024, { connections: 2 }, premiumStats);
    assert.equal(premiumStats.floodWaits, 1);
  });

  it("reconnects dropped connections and re-sends their unacknowledged parts", async () => {
    const dropped = srv.server.counters().dropped;
    srv.server.faults.setFaults({ dropShare: 1, dropAfterBytes: 700 * 1024, dropLimit: dropped + 3 });
    const stats: UploadStats = { connections: 0, inFlight: 0, reopens: 0, floodWaits: 0, rpcRetries: 0 };
    await roundTrip(24 * 1024 * 1024, { connections: 4 }, stats);
    // Connections opened together may all be marked before the first drop counts, so "at least one".
    assert.ok(srv.server.counters().dropped > dropped);
    assert.ok(stats.reopens >= 1, `reopens ${stats.reopens}`);
  });

  it("retries other RPC errors, then fails clearly when the budget is spent", async () => {
    srv.server.faults.setFaults({
      methodFaults: [{ method: "upload.SaveBigFilePart", code: 500, message: "INTERNAL", times: 2 }],
    });
    const stats: UploadStats = { connections: 0, inFlight: 0, reopens: 0, floodWaits: 0, rpcRetries: 0 };
    await roundTrip(11 * 1024 * 1024, {}, stats);
    assert.equal(stats.rpcRetries, 2);
    srv.server.faults.setFaults({
      methodFaults: [{ method: "upload.SaveBigFilePart", code: 500, message: "INTERNAL" }],
    });
    const path = join(dir, "always-failing.bin");
    await writePatternFile(path, 11 * 1024 * 1024);
    await assert.rejects(
      uploadFile(client, path, { retryBudget: 3 }),
      (error: unknown) =>
        error instanceof UploadError &&
        error.code === "UPLOAD_RPC_ERROR" &&
        /INTERNAL \(retries exhausted\)/.test(error.message),
    );
    assert.equal(await connectionsSettle(), 1);
  });

  it("fails at once on an error no retry can fix", async () => {
    srv.server.faults.setFaults({
      methodFaults: [{ method: "upload.SaveFilePart", code: 400, message: "FILE_PART_SIZE_INVALID" }],
    });
    const path = join(dir, "invalid.bin");
    await writePatternFile(path, 1000);
    await assert.rejects(uploadFile(client, path), /FILE_PART_SIZE_INVALID/);
    assert.equal(await connectionsSettle(), 1);
  });

  it("re-saves the part Telegram reports missing at send time, then sends", async () => {
    const path = join(dir, "missing.bin");
    const sha = await writePatternFile(path, 12 * 1024 * 1024);
    const file = await uploadFile(client, path);
    const saves = srv.server.counters().rpcs["upload.SaveBigFilePart"] ?? 0;
    srv.server.faults.setFaults({
      methodFaults: [{ method: "messages.SendMedia", code: 400, message: "FILE_PART_3_MISSING", times: 1 }],
    });
    assert.equal(await sentSha(file), sha);
    assert.equal(srv.server.counters().rpcs["upload.SaveBigFilePart"], saves + 1);
    assert.equal(await connectionsSettle(), 1);
  });

  it("stops on cancel, closes its connections, and keeps nothing running", async () => {
    srv.server.faults.setConditions({ bandwidth: 1024 * 1024, latencyMs: 30 });
    const path = join(dir, "cancel.bin");
    const size = 32 * 1024 * 1024;
    await writePatternFile(path, size);
    const controller = new AbortController();
    let acknowledged = 0;
    let abortedAt = 0;
    const upload = uploadFile(client, path, {
      signal: controller.signal,
      onProgress: (done) => {
        acknowledged = done;
        if (abortedAt === 0) {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
    await assert.rejects(upload, (error: unknown) => error instanceof CancelledError);
    const stoppedMs = performance.now() - abortedAt;
    assert.ok(acknowledged < size, "stopped before the end");
    assert.equal(await connectionsSettle(), 1);
    // Reported, not asserted (timing belongs to benchmarks): the brief asks for < 1 s.
    console.log(`# cancel stopped the upload ${stoppedMs.toFixed(0)} ms after abort()`);
  });

  it("rejects at once when the signal is already aborted", async () => {
    const path = join(dir, "pre-aborted.bin");
    await writePatternFile(path, 100);
    const before = srv.server.counters().connectionsTotal;
    await assert.rejects(uploadFile(client, path, { signal: AbortSignal.abort() }), CancelledError);
    assert.equal(srv.server.counters().connectionsTotal, before);
  });

  it("resumes an interrupted upload with the same file id, sending only unacknowledged parts", async () => {
    const path = join(dir, "resume.bin");
    const size = 20 * 1024 * 1024;
    const sha = await writePatternFile(path, size);
    const controller = new AbortController();
    const acknowledged: number[] = [];
    let fileId: bigint | undefined;
    await assert.rejects(
      uploadFile(client, path, {
        signal: controller.signal,
        connections: 2,
        onPartAcknowledged: (part, id) => {
          acknowledged.push(part);
          fileId = id;
          if (acknowledged.length === 10) controller.abort();
        },
      }),
      CancelledError,
    );
    assert.ok(fileId !== undefined);
    const second: number[] = [];
    const file = await uploadFile(client, path, {
      resume: { fileId, acknowledgedParts: acknowledged },
      onPartAcknowledged: (part) => second.push(part),
    });
    assert.equal(file.fileId, fileId);
    // Exactly the parts the first run had not seen acknowledged, each once. (The server's own counter is no
    // judge here: parts of the first run still in its pipeline at cancel may be counted after it.)
    const expected = [...Array(file.partCount).keys()].filter((part) => !acknowledged.includes(part));
    assert.deepEqual(
      [...second].sort((a, b) => a - b),
      expected,
    );
    assert.equal(await sentSha(file), sha);
  });

  it("uploads a file while it is still being written", async () => {
    const path = join(dir, "growing.bin");
    const full = join(dir, "growing-source.bin");
    const size = 12 * 1024 * 1024 + 123;
    const sha = await writePatternFile(full, size);
    const source = await open(full, "r");
    const content = Buffer.alloc(size);
    await source.read(content, 0, size, 0);
    await source.close();
    await writeFile(path, content.subarray(0, 3 * PART_SIZE));
    const upload = uploadFile(client, path, { growingToSize: size });
    // The writer appends the rest in steps while the upload is running.
    for (let offset = 3 * PART_SIZE; offset < size; offset += 2 * 1024 * 1024) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await appendFile(path, content.subarray(offset, Math.min(size, offset + 2 * 1024 * 1024)));
    }
    const file = await upload;
    assert.equal(await sentSha(file), sha);
  });
});
