/**
 * The transfer machinery shared by single and segmented downloads: opening a guarded request at an offset,
 * copying a body to positions in a file in large batches, reconnecting after drops, and mapping every failure to
 * a DownloadError.
 */
import type { Hash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import type http from "node:http";
import type https from "node:https";
import got, { type Request as GotRequest } from "got";
import { abortableSleep, throwIfAborted } from "../../lib/abort.js";
import { backoffDelay } from "../../lib/backoff.js";
import { displayUrl, type Logger } from "../../logger.js";
import { checkUrl, type GuardOptions, type guardedLookup } from "../guard/url-guard.js";
import type { ProgressMeter } from "../progress-meter.js";
import type { DiskWatch } from "./disk-space.js";
import {
  fileChanged,
  httpStatusError,
  incomplete,
  isRetryable,
  MAX_REDIRECTS,
  RangeIgnoredError,
  tooLarge,
} from "./errors.js";
import { PositionalWriter, WRITES_IN_FLIGHT } from "./positional-writer.js";

/** Consecutive failed reconnects (no new bytes in between) before giving up. */
export const DEFAULT_MAX_RETRIES = 5;
/** Reconnects over a whole download, however much each one got: bounds a server that drops every second. */
const MAX_RECONNECTS = 100;
/** Range answers shorter than this on average are not worth following (a server dribbling tiny ranges). */
const MIN_PARTIAL_BYTES = 64 * 1024;
export const DEFAULT_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 8000;
/** Bytes one download may hold between socket and disk, shared by its connections. */
const WRITE_BUFFER_BUDGET = 6 * 1024 * 1024;
/** Bounds on one writev: large enough for few syscalls per MiB, small enough to share the budget. */
const MIN_WRITE_BATCH = 256 * 1024;
const MAX_WRITE_BATCH = 2 * 1024 * 1024;

/** The batch size for a download over `connections`: each holds a pending batch plus those in flight. */
export function writeBatchBytes(connections: number): number {
  const share = Math.floor(WRITE_BUFFER_BUDGET / (Math.max(1, connections) * (WRITES_IN_FLIGHT + 1)));
  return Math.min(MAX_WRITE_BATCH, Math.max(MIN_WRITE_BATCH, share));
}
/** Some CDNs refuse clients without a user agent. */
const USER_AGENT = "Mozilla/5.0 (compatible; Medusa/0.1)";

/** What the transfer needs of the download's options. */
export interface TransferOptions {
  maxSize: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  guard: GuardOptions;
  signal?: AbortSignal | undefined;
  log?: Logger | undefined;
}

/** What one open request gives the transfer loops. */
export interface OpenedResponse {
  stream: GotRequest;
  status: number;
  headers: http.IncomingHttpHeaders;
  /** After redirects. */
  url: URL;
}

/** Shared by every connection of one download. */
export interface TransferContext {
  options: TransferOptions;
  agents: { http: http.Agent; https: https.Agent };
  lookup: ReturnType<typeof guardedLookup>;
  meter: ProgressMeter;
  /** A validator for If-Range, so a file that changed on the server restarts instead of mixing versions. */
  ifRange: string | undefined;
  maxRetries: number;
  backoffMs: number;
  /** See writeBatchBytes. */
  writeBatch: number;
  /** Every range this download wrote or resumed, with its durable end: what a kill would keep. */
  written?: Set<TransferRange> | undefined;
  /** Watches the disk floor while bytes arrive. */
  disk?: DiskWatch | undefined;
  /** SHA-256 of the body so far while it arrives in order from byte 0; dropped at the first byte out of order. */
  hash?: { hash: Hash; position: number } | undefined;
  /** The file starts over from byte 0 (the server ignored Range on a reconnect): what was written is void. */
  onReset?: (() => Promise<void>) | undefined;
}

/** The bytes one connection is fetching; shared with the segmented scheduler, which may shorten it. */
export interface TransferRange {
  start: number;
  /** Exclusive; undefined means to the end of the body. Another connection may lower it (work stealing). */
  end: number | undefined;
  total: number | undefined;
  /** The next offset this connection writes, kept current so that a stealer splits after it. */
  next: number;
  /** Every byte from `start` to here is on disk (a kill keeps them). */
  durable?: number;
}

/**
 * Fetches bytes [start, end) of `url` (to the end of the body when `end` is undefined) into `fh` at the same
 * offsets over one connection, reconnecting with Range after a drop (the bytes that did arrive are kept).
 * Without `end`, a server that ignores Range (200) restarts the file from zero; with `end`, it is a
 * RangeIgnoredError, since another connection owns the rest of the file. Returns the end offset reached.
 */
export async function transfer(
  ctx: TransferContext,
  fh: FileHandle,
  opened: OpenedResponse | undefined,
  url: URL,
  range: TransferRange,
): Promise<number> {
  const { total } = range;
  let offset = range.start;
  range.next = offset;
  range.durable = offset;
  ctx.written?.add(range);
  let current = opened;
  let failures = 0;
  let reconnects = 0;
  // Some servers cap what one range answer carries; each such answer moves forward, so the file bounds them.
  let partials = Math.ceil((range.end ?? total ?? 0) / MIN_PARTIAL_BYTES);
  for (;;) {
    const before = offset;
    let writer: PositionalWriter | undefined;
    try {
      if (!current) {
        current = await openRequest(ctx, url, offset, range.end);
        if (current.status === 200) {
          if (range.end !== undefined) {
            current.stream.destroy();
            throw new RangeIgnoredError();
          }
          const length = Number(current.headers["content-length"] ?? Number.NaN);
          if (total !== undefined && length !== total) throw fileChanged();
          if (offset > 0) {
            ctx.options.log?.info(
              { url: displayUrl(url.href) },
              "server ignored Range; restarting from zero",
            );
            ctx.meter.add(-offset);
            await ctx.onReset?.();
            offset = 0;
            range.start = 0;
            range.next = 0;
            range.durable = 0;
            ctx.written?.add(range);
            await fh.truncate(0);
          }
        } else {
          const got = parseContentRange(current.headers["content-range"]);
          if (!got || got.start !== offset || (total !== undefined && got.total !== total))
            throw fileChanged();
        }
      }
      writer = new PositionalWriter(fh, offset, ctx.writeBatch, (end) => {
        range.durable = end;
      });
      await pump(ctx, current.stream, writer, range);
      await writer.flush();
      offset = writer.position;
      const stop = range.end ?? total;
      if (stop === undefined || offset === stop) return offset;
      const answered = parseContentRange(current.headers["content-range"]);
      if (current.status === 206 && answered?.end === offset - 1 && offset > before && partials-- > 0) {
        // The server sent all it promised, just not all we asked: ask for the rest at once, no failure.
        current.stream.destroy();
        current = undefined;
        continue;
      }
      throw incomplete(url, offset, stop);
    } catch (error) {
      current?.stream.destroy();
      current = undefined;
      if (writer) {
        // Bytes that arrived before the drop are good: keep them and resume after them.
        await writer.flush();
        offset = writer.position;
      }
      throwIfAborted(ctx.options.signal, "Download");
      failures = offset > before ? 1 : failures + 1;
      if (!isRetryable(error) || failures > ctx.maxRetries || ++reconnects > MAX_RECONNECTS) throw error;
      ctx.options.log?.info(
        { url: displayUrl(url.href), offset, error: (error as Error).message },
        "connection lost; resuming",
      );
      await backoff(ctx, failures);
    }
  }
}

/** Waits before a reconnect: doubling, capped, with jitter so parallel connections do not retry in lockstep. */
export async function backoff(ctx: TransferContext, failures: number): Promise<void> {
  const delay = backoffDelay(failures, { baseMs: ctx.backoffMs, maxMs: MAX_BACKOFF_MS, jitter: 0.25 });
  await abortableSleep(delay, ctx.options.signal, "Download");
}

/**
 * Opens `url` from byte `start` (to `end`, exclusive, when given) and waits for the status line. Redirects are
 * followed (each target guarded), errors are DownloadErrors with the status in the code.
 */
export async function openRequest(
  ctx: TransferContext,
  url: URL,
  start: number,
  end: number | undefined,
): Promise<OpenedResponse> {
  const { options } = ctx;
  const headers: Record<string, string> = {
    "user-agent": USER_AGENT,
    // The bytes on disk must be the bytes Content-Length counts.
    "accept-encoding": "identity",
    range: `bytes=${start}-${end === undefined ? "" : end - 1}`,
  };
  if (ctx.ifRange && (start > 0 || end !== undefined)) headers["if-range"] = ctx.ifRange;
  const stream = got.stream(url, {
    headers,
    decompress: false,
    followRedirect: true,
    maxRedirects: MAX_REDIRECTS,
    throwHttpErrors: false,
    retry: { limit: 0 },
    strictContentLength: true,
    timeout: {
      lookup: options.connectTimeoutMs,
      connect: options.connectTimeoutMs,
      secureConnect: options.connectTimeoutMs,
      response: options.idleTimeoutMs,
      socket: options.idleTimeoutMs,
    },
    agent: ctx.agents,
    dnsLookup: ctx.lookup as never,
    signal: options.signal,
    hooks: {
      beforeRedirect: [
        async (redirected) => {
          await checkUrl(redirected.url as URL, options.guard);
        },
      ],
    },
  });
  // Errors after the status line surface through the reader; this keeps an early one from crashing the process.
  stream.on("error", () => undefined);
  const response = await new Promise<http.IncomingMessage & { url: string }>((resolve, reject) => {
    stream.once("response", resolve);
    stream.once("error", reject);
  });
  const status = response.statusCode ?? 0;
  const finalUrl = new URL(response.url);
  if (status === 200 || status === 206) return { stream, status, headers: response.headers, url: finalUrl };
  stream.destroy();
  throw httpStatusError(status, response.statusMessage, finalUrl);
}

/**
 * Copies the body into the writer up to the range's end (or total), read afresh for every chunk because a stealer
 * may move it; the rest of the body is not ours. Enforces the size limit while bytes arrive, whatever the headers
 * said.
 */
export async function pump(
  ctx: TransferContext,
  stream: GotRequest,
  writer: PositionalWriter,
  range: TransferRange,
): Promise<void> {
  const { maxSize } = ctx.options;
  for await (const data of stream) {
    let chunk = data as Buffer;
    const stop = range.end ?? range.total;
    if (stop !== undefined && writer.accepted + chunk.length > stop) {
      chunk = chunk.subarray(0, Math.max(0, stop - writer.accepted));
    }
    if (writer.accepted + chunk.length > maxSize) throw tooLarge(maxSize, undefined);
    if (ctx.hash) {
      if (ctx.hash.position === writer.accepted) {
        ctx.hash.hash.update(chunk);
        ctx.hash.position += chunk.length;
      } else {
        ctx.hash = undefined; // out of order: whoever needs the digest reads the file instead
      }
    }
    // Updated before the await, so that a stealer running meanwhile splits after these bytes.
    range.next = writer.accepted + chunk.length;
    await writer.push(chunk);
    ctx.meter.add(chunk.length);
    await ctx.disk?.note(chunk.length);
    if (stop !== undefined && writer.accepted >= stop) {
      stream.destroy();
      return;
    }
  }
}

export function parseContentRange(
  header: string | undefined,
): { start: number; end: number; total: number | undefined } | undefined {
  const match = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(header ?? "");
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = Number(match[2]);
  const total = match[3] === "*" ? undefined : Number(match[3]);
  if (end < start || (total !== undefined && end >= total)) return undefined;
  return { start, end, total };
}
