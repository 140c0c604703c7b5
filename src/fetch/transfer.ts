/**
 * The transfer machinery shared by single and segmented downloads: opening a guarded request at an offset,
 * copying a body to positions in a file in large batches, reconnecting after drops, and mapping every failure to
 * a DownloadError.
 */
import type { FileHandle } from "node:fs/promises";
import type http from "node:http";
import type https from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import got, { type Request as GotRequest, MaxRedirectsError, RequestError, TimeoutError } from "got";
import { CancelledError, DownloadError } from "../errors.js";
import { displayUrl, type Logger } from "../logger.js";
import type { ProgressMeter } from "./progress-meter.js";
import { checkUrl, type GuardOptions, type guardedLookup } from "./url-guard.js";

/** Browsers stop at 20; five is plenty for CDNs and short-link services and limits bouncing around. */
export const MAX_REDIRECTS = 5;
/** Consecutive failed reconnects (no new bytes in between) before giving up. */
export const DEFAULT_MAX_RETRIES = 5;
/** Reconnects over a whole download, however much each one got: bounds a server that drops every second. */
const MAX_RECONNECTS = 100;
/** Range answers shorter than this on average are not worth following (a server dribbling tiny ranges). */
const MIN_PARTIAL_BYTES = 64 * 1024;
export const DEFAULT_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 8000;
/** Batches being written at once per connection: rides out thread-pool delays without stopping the socket. */
const WRITES_IN_FLIGHT = 2;
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
}

/** The bytes one connection is fetching; shared with the segmented scheduler, which may shorten it. */
export interface TransferRange {
  start: number;
  /** Exclusive; undefined means to the end of the body. Another connection may lower it (work stealing). */
  end: number | undefined;
  total: number | undefined;
  /** The next offset this connection writes, kept current so that a stealer splits after it. */
  next: number;
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
            offset = 0;
            range.next = 0;
            await fh.truncate(0);
          }
        } else {
          const got = parseContentRange(current.headers["content-range"]);
          if (!got || got.start !== offset || (total !== undefined && got.total !== total))
            throw fileChanged();
        }
      }
      writer = new PositionalWriter(fh, offset, ctx.writeBatch);
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
      throwIfCancelled(ctx.options.signal);
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

/** The server now describes another file (size or range): resuming would mix two versions. */
function fileChanged(): DownloadError {
  return new DownloadError(
    "HTTP_FILE_CHANGED",
    "The server answered a different size or range on reconnect",
    {
      userMessage: "The file changed on the server during the download.",
      hint: "Try again.",
    },
  );
}

/** A server that advertised ranges answered one with the whole file. */
export class RangeIgnoredError extends Error {
  readonly code = "HTTP_RANGE_IGNORED";
  constructor() {
    super("The server ignored a Range request");
  }
}

/** Waits before a reconnect: doubling, capped, with jitter so parallel connections do not retry in lockstep. */
export async function backoff(ctx: TransferContext, failures: number): Promise<void> {
  const base = Math.min(MAX_BACKOFF_MS, ctx.backoffMs * 2 ** Math.max(0, failures - 1));
  try {
    await sleep(base * (0.75 + Math.random() * 0.5), undefined, { signal: ctx.options.signal });
  } catch {
    throwIfCancelled(ctx.options.signal);
  }
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

function httpStatusError(status: number, statusText: string | undefined, url: URL): DownloadError {
  const text = `${status}${statusText ? ` ${statusText}` : ""}`;
  const hint =
    status === 403 || status === 401
      ? "The link may have expired or need a login."
      : status === 404 || status === 410
        ? "Check the link; the file may have been removed."
        : status >= 500
          ? "The site has a problem; try again later."
          : undefined;
  return new DownloadError(`HTTP_${status}`, `HTTP ${text} from ${displayUrl(url.href)}`, {
    userMessage: `The server answered ${text}.`,
    hint,
  });
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
    // Updated before the await, so that a stealer running meanwhile splits after these bytes.
    range.next = writer.accepted + chunk.length;
    await writer.push(chunk);
    ctx.meter.add(chunk.length);
    if (stop !== undefined && writer.accepted >= stop) {
      stream.destroy();
      return;
    }
  }
}

/**
 * Writes at increasing offsets in batches (one writev per batch, 256 KiB to 2 MiB). A couple of batches may be in
 * flight at once (they cover different offsets), so a thread-pool hiccup does not stop the socket; more waits.
 */
export class PositionalWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly inflight: Array<Promise<void>> = [];
  /** Bytes handed to writes so far, finished or not. */
  private handed = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly start: number,
    private readonly batchBytes: number,
  ) {}

  /** End offset of every byte pushed so far, written or not. */
  get accepted(): number {
    return this.start + this.handed + this.pendingBytes;
  }

  /** End of the bytes written (valid once `flush` resolved). */
  get position(): number {
    return this.start + this.handed;
  }

  push(chunk: Buffer): Promise<void> | undefined {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    return this.pendingBytes >= this.batchBytes ? this.startWrite() : undefined;
  }

  /** Writes what is pending and waits for every write; throws the first write error. */
  async flush(): Promise<void> {
    if (this.pendingBytes > 0) await this.startWrite();
    const results = await Promise.allSettled(this.inflight.splice(0));
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  private async startWrite(): Promise<void> {
    while (this.inflight.length >= WRITES_IN_FLIGHT) await this.inflight.shift();
    const buffers = this.pending;
    const at = this.position;
    this.handed += this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    const write = writeFully(this.fh, buffers, at);
    // Failures surface when this write is awaited (above, or in flush); until then it counts as handled.
    write.catch(() => undefined);
    this.inflight.push(write);
  }
}

async function writeFully(fh: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let at = position;
  let rest = buffers;
  // A regular file takes a writev whole; a short write (disk nearly full) continues where it stopped.
  for (let guard = 0; rest.length > 0 && guard < 1_000_000; guard++) {
    const { bytesWritten } = await fh.writev(rest, at);
    if (bytesWritten === 0) throw Object.assign(new Error("No space left on device"), { code: "ENOSPC" });
    at += bytesWritten;
    let skip = bytesWritten;
    const remaining: Buffer[] = [];
    for (const buffer of rest) {
      if (skip >= buffer.length) {
        skip -= buffer.length;
        continue;
      }
      remaining.push(skip > 0 ? buffer.subarray(skip) : buffer);
      skip = 0;
    }
    rest = remaining;
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

export function tooLarge(maxSize: number, size: number | undefined): DownloadError {
  const limit = `${Math.floor(maxSize / (1024 * 1024))} MiB`;
  return new DownloadError(
    "TOO_LARGE",
    size === undefined ? `Body exceeds ${limit}` : `File is ${size} bytes, over ${limit}`,
    { userMessage: `The file is larger than the ${limit} limit.` },
  );
}

export function incomplete(url: URL, got: number, total: number | undefined): DownloadError {
  return new DownloadError(
    "HTTP_INCOMPLETE",
    `Got ${got} of ${total ?? "?"} bytes from ${displayUrl(url.href)}`,
    {
      userMessage: "The server closed the connection before sending the whole file.",
    },
  );
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError("Download cancelled", { cause: signal.reason });
}

const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ERR_HTTP_CONTENT_LENGTH_MISMATCH",
  "ERR_STREAM_PREMATURE_CLOSE",
  "ERR_READING_RESPONSE_STREAM",
  "HTTP_INCOMPLETE",
  "HTTP_502",
  "HTTP_503",
  "HTTP_504",
]);

/** Network trouble and overloaded gateways are worth another try; refusals, limits and disk errors are not. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof CancelledError) return false;
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && RETRYABLE_CODES.has(code);
}

/** OpenSSL's verification failures, as Node reports them in `code`. */
const TLS_CERT_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
]);

/** One place that turns got, fs and guard errors into DownloadError (or CancelledError) without credentials. */
export function toDownloadError(error: unknown, url: URL, signal: AbortSignal | undefined): Error {
  if (signal?.aborted) {
    return error instanceof CancelledError
      ? error
      : new CancelledError("Download cancelled", { cause: error });
  }
  // Guard refusals thrown inside got's resolver or redirect hook arrive wrapped in a RequestError.
  let inner: unknown = error;
  for (let depth = 0; depth < 5 && inner; depth++) {
    if (inner instanceof DownloadError || inner instanceof CancelledError) return inner;
    inner = (inner as { cause?: unknown }).cause;
  }
  const shown = displayUrl(url.href);
  const code = (error as { code?: unknown })?.code;
  if (error instanceof MaxRedirectsError) {
    return new DownloadError("TOO_MANY_REDIRECTS", `More than ${MAX_REDIRECTS} redirects from ${shown}`, {
      cause: error,
      userMessage: `The link redirects more than ${MAX_REDIRECTS} times.`,
    });
  }
  // got refuses a redirect to file:, ftp: … itself, before our redirect hook sees it.
  if (error instanceof RequestError && /^Unsupported protocol/i.test(error.message)) {
    return new DownloadError("URL_SCHEME_NOT_ALLOWED", `Redirect refused: ${error.message} (${shown})`, {
      cause: error,
      userMessage: "The link redirects to an address that is not http or https, which is not fetched.",
    });
  }
  if (error instanceof TimeoutError) {
    const connecting = ["lookup", "connect", "secureConnect"].includes(error.event);
    return new DownloadError("HTTP_TIMEOUT", `Timed out (${error.event}) on ${shown}`, {
      cause: error,
      userMessage: connecting ? "The server did not answer in time." : "The server stopped sending data.",
    });
  }
  if (code === "ENOSPC") {
    return new DownloadError("DISK_FULL", "Disk full while writing the download", {
      cause: error,
      userMessage: "The server ran out of disk space.",
    });
  }
  if (typeof code === "string" && (code.startsWith("ERR_TLS_") || TLS_CERT_CODES.has(code))) {
    return new DownloadError("TLS_ERROR", `TLS failed (${code}) on ${shown}`, {
      cause: error,
      userMessage: "The site's HTTPS certificate could not be verified, so nothing was downloaded.",
    });
  }
  if (code === "ECONNREFUSED") {
    return new DownloadError("CONNECTION_REFUSED", `Connection refused by ${shown}`, {
      cause: error,
      userMessage: "The server refused the connection.",
    });
  }
  if (code === "ENOTFOUND") {
    return new DownloadError("DNS_NOT_FOUND", `Cannot resolve ${url.hostname}`, {
      cause: error,
      userMessage: "The site's name could not be resolved.",
    });
  }
  if (error instanceof RequestError || isRetryable(error)) {
    return new DownloadError("CONNECTION_LOST", `Connection lost: ${(error as Error).message} (${shown})`, {
      cause: error,
      userMessage: "The connection to the server was lost and could not be resumed.",
    });
  }
  return new DownloadError("DOWNLOAD_FAILED", `Download failed: ${(error as Error)?.message} (${shown})`, {
    cause: error,
    userMessage: "The download failed.",
  });
}
