/**
 * Parallel chunked upload: several MTProto connections to the home DC, each with a sliding window of parts in
 * flight (a part is sent as soon as one is acknowledged, never a batch waiting for its slowest member), parts
 * read from disk into a fixed set of buffers. gramjs's faster crypto and lean transport are installed once at
 * start (installGramjsPatches), not per upload: every connection runs the same code from its first packet.
 */
import { setMaxListeners } from "node:events";
import { basename } from "node:path";
import { Api, errors, helpers, type TelegramClient } from "telegram";
import { CancelledError, UploadError } from "../errors.js";
import { collectAllGarbage, collectYoungGarbage } from "../gc-hint.js";
import { abortableSleep, abortReason, throwIfAborted } from "../lib/abort.js";
import { backoffDelay } from "../lib/backoff.js";
import { randomPositiveLong } from "../lib/ids.js";
import { createLoopTurns, type LoopTurns } from "../lib/loop-turns.js";
import { allocPartBuffer, framePart, type PartTarget, partRequest } from "./part-request.js";
import { openPartSource, type PartSource } from "./part-source.js";
import { ConnectionLostError, isRpcError, UploadConnection } from "./upload-connection.js";
import {
  checkInteger,
  checkOptions,
  DEFAULT_CONNECTIONS,
  DEFAULT_IN_FLIGHT,
  DEFAULT_MAX_FLOOD_WAIT_S,
  DEFAULT_PART_TIMEOUT_MS,
  DEFAULT_RETRY_BUDGET,
  MAX_CONNECTIONS,
  MAX_IN_FLIGHT,
  type UploadOptions,
} from "./upload-options.js";
import { partLength, planUpload, type UploadPlan } from "./upload-plan.js";

export type { UploadOptions } from "./upload-options.js";

/** Connection breaks tolerated in a row on one connection (a success resets the count). */
const MAX_CONSECUTIVE_BREAKS = 8;
/** Backoff after an RPC error or a break: 250 ms, doubling, at most 8 s. */
const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 8_000;
/** A young-generation collection every 16 parts (8 MiB) frees dead packets at once (see gc-hint.ts)… */
const GC_EVERY_PARTS = 16;
/** …and a full one every 256 parts (128 MiB, ~3 ms) those that lived long enough to be promoted. */
const FULL_GC_EVERY_PARTS = 256;
/** Errors that no retry can fix: the request itself is wrong. */
const FATAL_RPC_ERRORS = new Set([
  "FILE_PARTS_INVALID",
  "FILE_PART_INVALID",
  "FILE_PART_SIZE_INVALID",
  "FILE_PART_TOO_BIG",
  "FILE_PART_EMPTY",
  "FILE_PART_SIZE_CHANGED",
  "AUTH_KEY_UNREGISTERED",
  "AUTH_KEY_INVALID",
  "USER_DEACTIVATED",
  "SESSION_REVOKED",
]);

export interface UploadedFile {
  readonly inputFile: Api.InputFile | Api.InputFileBig;
  readonly fileId: bigint;
  readonly path: string;
  readonly name: string;
  readonly size: number;
  readonly partCount: number;
  readonly big: boolean;
}

export interface UploadStats {
  connections: number;
  inFlight: number;
  reopens: number;
  floodWaits: number;
  rpcRetries: number;
}

/**
 * Uploads the file at `path` to the account's home DC and returns its handle for messages.sendMedia.
 * Checks Telegram's limits before any byte is sent; throws UploadError on a hopeless failure and
 * CancelledError (or the signal's reason) when cancelled. Every extra connection is closed on return.
 */
export async function uploadFile(
  client: TelegramClient,
  path: string,
  options: UploadOptions = {},
  stats?: UploadStats,
): Promise<UploadedFile> {
  checkOptions(options);
  throwIfAborted(options.signal);
  const source = await openPartSource(path, {
    growingToSize: options.growingToSize,
    available: options.growingAvailable,
  });
  try {
    const plan = planUpload(source.size, options.premium ?? false);
    const fileId = options.resume?.fileId ?? randomPositiveLong();
    const name = options.fileName ?? basename(path);
    const done = new Set<number>();
    for (const part of options.resume?.acknowledgedParts ?? []) {
      if (Number.isInteger(part) && part >= 0 && part < plan.partCount) done.add(part);
    }
    await sendParts(client, source, plan, fileId, done, options, stats);
    const inputFile = plan.big
      ? new Api.InputFileBig({ id: helpers.returnBigInt(fileId), parts: plan.partCount, name })
      : new Api.InputFile({ id: helpers.returnBigInt(fileId), parts: plan.partCount, name, md5Checksum: "" });
    return { inputFile, fileId, path, name, size: plan.size, partCount: plan.partCount, big: plan.big };
  } finally {
    await source.close();
  }
}

/** The handle of a file uploaded earlier (parts saved under `fileId`), to send without uploading it again. */
export function uploadedFileOf(saved: {
  fileId: bigint;
  partCount: number;
  name: string;
  size: number;
  big: boolean;
  path: string;
}): UploadedFile {
  const { fileId, partCount: parts, name } = saved;
  const inputFile = saved.big
    ? new Api.InputFileBig({ id: helpers.returnBigInt(fileId), parts, name })
    : new Api.InputFile({ id: helpers.returnBigInt(fileId), parts, name, md5Checksum: "" });
  return { ...saved, inputFile };
}

/** Saves one part again (after FILE_PART_X_MISSING at send time), on a short-lived connection. */
export async function resavePart(
  client: TelegramClient,
  file: UploadedFile,
  part: number,
  options: Pick<UploadOptions, "signal" | "premium"> = {},
): Promise<void> {
  checkInteger("part", part, 0, file.partCount - 1);
  const source = await openPartSource(file.path);
  try {
    // The limits were checked when the file was uploaded; only its layout matters here.
    const plan = planUpload(file.size, options.premium ?? true);
    const done = new Set<number>();
    for (let i = 0; i < plan.partCount; i++) if (i !== part) done.add(i);
    await sendParts(client, source, plan, file.fileId, done, {
      connections: 1,
      inFlight: 1,
      signal: options.signal,
    });
  } finally {
    await source.close();
  }
}

class UploadRun {
  readonly #queue: number[];
  #next = 0;
  #acknowledgedBytes = 0;
  #rpcErrors = 0;
  readonly plan: UploadPlan;
  readonly target: PartTarget;
  readonly controller = new AbortController();
  readonly signal: AbortSignal;
  readonly turns: LoopTurns = createLoopTurns();
  firstError: unknown;

  constructor(
    plan: UploadPlan,
    fileId: bigint,
    readonly done: Set<number>,
    readonly source: PartSource,
    readonly options: UploadOptions,
    readonly stats: UploadStats,
  ) {
    this.plan = plan;
    this.target = { fileId, big: plan.big, partCount: plan.partCount };
    this.#queue = [];
    for (let i = 0; i < plan.partCount; i++) {
      if (done.has(i)) this.#acknowledgedBytes += partLength(plan, i);
      else this.#queue.push(i);
    }
    this.signal = options.signal
      ? AbortSignal.any([options.signal, this.controller.signal])
      : this.controller.signal;
    // Every lane waits on this signal at once: a few listeners per lane is expected, not a leak.
    setMaxListeners(MAX_CONNECTIONS * MAX_IN_FLIGHT * 4, this.signal);
  }

  get remaining(): number {
    return this.#queue.length - this.#next;
  }

  nextPart(): number | undefined {
    return this.#next < this.#queue.length ? this.#queue[this.#next++] : undefined;
  }

  acknowledged(part: number): void {
    if (this.done.has(part)) return;
    this.done.add(part);
    if (this.done.size % FULL_GC_EVERY_PARTS === 0) collectAllGarbage();
    else if (this.done.size % GC_EVERY_PARTS === 0) collectYoungGarbage();
    this.#acknowledgedBytes += partLength(this.plan, part);
    this.options.onPartAcknowledged?.(part, this.target.fileId);
    this.options.onProgress?.(this.#acknowledgedBytes, this.plan.size);
  }

  /** Counts an RPC error against the budget; false when the budget is spent. */
  spendRetry(): boolean {
    this.#rpcErrors++;
    this.stats.rpcRetries++;
    return this.#rpcErrors <= (this.options.retryBudget ?? DEFAULT_RETRY_BUDGET);
  }

  fail(error: unknown): void {
    if (this.firstError === undefined) this.firstError = error;
    this.controller.abort(error);
  }
}

async function sendParts(
  client: TelegramClient,
  source: PartSource,
  plan: UploadPlan,
  fileId: bigint,
  done: Set<number>,
  options: UploadOptions,
  stats: UploadStats = { connections: 0, inFlight: 0, reopens: 0, floodWaits: 0, rpcRetries: 0 },
): Promise<void> {
  const run = new UploadRun(plan, fileId, done, source, options, stats);
  // A file of few parts spreads them one per connection before any connection takes a second: Telegram caps each
  // connection, so 6 parts on 6 connections arrive in half the time of 6 on 3 (bench:scale, 3 MiB files).
  const connectionCount = Math.max(1, Math.min(options.connections ?? DEFAULT_CONNECTIONS, run.remaining));
  const inFlight = Math.max(
    1,
    Math.min(options.inFlight ?? DEFAULT_IN_FLIGHT, Math.ceil(run.remaining / connectionCount)),
  );
  stats.connections = connectionCount;
  stats.inFlight = inFlight;
  if (run.remaining === 0) {
    options.onProgress?.(plan.size, plan.size);
    return;
  }
  const dcId = client.session.dcId;
  const connections = Array.from(
    { length: connectionCount },
    (_, i) => new UploadConnection(client, dcId, i),
  );
  try {
    const lanes: Promise<void>[] = [];
    for (const connection of connections) {
      for (let slot = 0; slot < inFlight; slot++) {
        lanes.push(runLane(run, connection).catch((error: unknown) => run.fail(error)));
      }
    }
    await Promise.all(lanes);
    if (run.firstError !== undefined) throw toUploadError(run.firstError, options.signal);
  } finally {
    await Promise.all(connections.map((connection) => connection.close()));
    stats.reopens = connections.reduce((sum, connection) => sum + connection.reopens, 0);
  }
}

function toUploadError(error: unknown, userSignal: AbortSignal | undefined): unknown {
  if (userSignal?.aborted) return abortReason(userSignal, "Upload");
  if (error instanceof UploadError || error instanceof CancelledError) return error;
  if (error instanceof TypeError || error instanceof RangeError) return error;
  return new UploadError("UPLOAD_FAILED", `Upload failed: ${describe(error)}`, { cause: error });
}

function describe(error: unknown): string {
  if (isRpcError(error)) return error.errorMessage;
  return error instanceof Error ? error.message : String(error);
}

/** One slot of a connection's window: takes the next part, sends it, waits for its acknowledgement, repeats. */
async function runLane(run: UploadRun, connection: UploadConnection): Promise<void> {
  // Reused for every part of this lane: memory is connections x inFlight x 512 KiB whatever the file size.
  const buffer = allocPartBuffer();
  // Bounded by the queue: each pass takes one part, and the queue only shrinks.
  for (let part = run.nextPart(); part !== undefined; part = run.nextPart()) {
    throwIfAborted(run.signal);
    const frame = framePart(buffer, run.target, part, partLength(run.plan, part));
    await run.source.readInto(part * run.plan.partSize, frame.data, run.signal);
    await sendPart(run, connection, partRequest(run.target, part, frame), part);
    run.acknowledged(part);
  }
}

function backoff(attempt: number): number {
  return backoffDelay(attempt, { baseMs: RETRY_BASE_MS, maxMs: RETRY_MAX_MS });
}

async function sendPart(
  run: UploadRun,
  connection: UploadConnection,
  request: unknown,
  part: number,
): Promise<void> {
  const timeoutMs = run.options.partTimeoutMs ?? DEFAULT_PART_TIMEOUT_MS;
  const maxFloodWait = run.options.maxFloodWaitSeconds ?? DEFAULT_MAX_FLOOD_WAIT_S;
  let breaks = 0;
  let rpcAttempts = 0;
  // Bounded: every pass either returns, throws, or spends a break or a retry, both capped.
  for (;;) {
    throwIfAborted(run.signal);
    const pause = connection.pausedUntil - Date.now();
    if (pause > 0) await abortableSleep(pause, run.signal);
    try {
      await connection.ensureOpen(run.signal);
      // The part is encrypted on this thread as it is sent: one part per pass of the loop, so a reply waits for one.
      await run.turns.next();
      throwIfAborted(run.signal);
      const result = await connection.invoke(request, timeoutMs, run.signal);
      if (result !== true) {
        throw new UploadError(
          "UPLOAD_PART_REFUSED",
          `Telegram did not accept part ${part} (answered ${String(result)})`,
        );
      }
      return;
    } catch (error) {
      if (run.signal.aborted) throw abortReason(run.signal, "Upload");
      if (error instanceof errors.FloodWaitError) {
        // FLOOD_WAIT_X and FLOOD_PREMIUM_WAIT_X: only this connection waits; the others keep sending.
        if (error.seconds > maxFloodWait) {
          throw new UploadError(
            "UPLOAD_FLOOD_WAIT",
            `Telegram asks to wait ${error.seconds} s before uploading more (over the ${maxFloodWait} s we accept)`,
            { cause: error, hint: "Try again later", retryAfterSeconds: error.seconds },
          );
        }
        run.stats.floodWaits++;
        run.options.onFloodWait?.(
          error.seconds,
          run.plan.big ? "upload.SaveBigFilePart" : "upload.SaveFilePart",
        );
        connection.pausedUntil = Math.max(connection.pausedUntil, Date.now() + error.seconds * 1000);
        continue;
      }
      if (error instanceof ConnectionLostError) {
        breaks++;
        if (breaks > MAX_CONSECUTIVE_BREAKS) {
          throw new UploadError(
            "UPLOAD_CONNECTION_LOST",
            `Connection ${connection.index} broke ${breaks} times in a row sending part ${part}: ${error.message}`,
            { cause: error, hint: "Check the network and try again" },
          );
        }
        if (breaks > 1) await abortableSleep(backoff(breaks - 1), run.signal);
        continue;
      }
      if (isRpcError(error)) {
        if (FATAL_RPC_ERRORS.has(error.errorMessage) || !run.spendRetry()) {
          throw new UploadError(
            "UPLOAD_RPC_ERROR",
            `Telegram refused part ${part}: ${error.errorMessage}${FATAL_RPC_ERRORS.has(error.errorMessage) ? "" : " (retries exhausted)"}`,
            { cause: error },
          );
        }
        rpcAttempts++;
        await abortableSleep(backoff(rpcAttempts), run.signal);
        continue;
      }
      throw error;
    }
  }
}
