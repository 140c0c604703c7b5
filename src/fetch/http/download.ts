/**
 * Direct HTTP(S) downloads with got: streamed to the job's directory, resumed with Range after a drop, split over
 * several connections for big files, guarded against private addresses on every hop. On a failure the partial file
 * is removed, unless `keepPartial` keeps it (with its record, partial.ts) for the next call to resume; only a
 * complete file ever carries its final name. The disk floor is watched while bytes arrive.
 */
import { createHash, randomBytes } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import fs from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import type { Config } from "../../config.js";
import { DownloadError } from "../../errors.js";
import { throwIfAborted } from "../../lib/abort.js";
import { displayUrl, type Logger } from "../../logger.js";
import { chooseFileName } from "../filename.js";
import { checkUrl, type GuardOptions, guardedLookup, parseHttpUrl } from "../guard/url-guard.js";
import { ProgressMeter } from "../progress-meter.js";
import type { FetchedFile, ProgressCallback } from "../types.js";
import { DiskWatch, ensureDiskSpace } from "./disk-space.js";
import { incomplete, isRetryable, RangeIgnoredError, toDownloadError, tooLarge } from "./errors.js";
import { FollowingHash } from "./follow-hash.js";
import {
  contiguousEnd,
  doneIntervals,
  hashPrefix,
  loadPartial,
  missingOf,
  onDisk,
  PARTIAL_FILE,
  PARTIAL_STATE,
  type PartialState,
  removePartial,
  sameValidator,
  writeAtomically,
} from "./partial.js";
import { downloadSegmented } from "./segmented.js";
import {
  DEFAULT_BACKOFF_MS,
  DEFAULT_MAX_RETRIES,
  type OpenedResponse,
  openRequest,
  parseContentRange,
  type TransferContext,
  type TransferRange,
  transfer,
  writeBatchBytes,
} from "./transfer.js";

/** Below this, one connection finishes before extra connections would have ramped up. */
const DEFAULT_SEGMENT_THRESHOLD = 32 * 1024 * 1024;
/** More connections than this is rude to a server and gains nothing (config allows up to 16). */
const MAX_CONNECTIONS = 16;
/** Bounded attempts to find a free final name ("a (2).mp4" …). */
const MAX_NAME_ATTEMPTS = 100;
/** How often the record of a resumable download is rewritten: a kill loses at most this much of what arrived. */
const PARTIAL_SAVE_MS = 1000;

/** What a download says once the response is in, before its body is written (see `onStart`). */
export interface DownloadStart {
  /** The file being written (its bytes are final up to `written()`). */
  path: string;
  /** The name the file will get. */
  name: string;
  total: number | undefined;
  mimeType: string | undefined;
  /** Bytes from the start of the file that are on disk and final. */
  written(): number;
  /** Goes up when the download starts over from byte 0: whatever was read of the file before is void. */
  generation(): number;
}

/** Segment size when a reader follows the writes: a few per connection, so the written prefix grows steadily. */
function followPieceBytes(total: number, connections: number): number {
  const piece = Math.floor(total / (connections * 8));
  return Math.min(8 * 1024 * 1024, Math.max(1024 * 1024, piece));
}

export interface HttpDownloadOptions {
  /** The job's directory; it must exist. */
  dir: string;
  /** Largest file accepted, checked against Content-Length and while bytes arrive. */
  maxSize: number;
  /** Bytes to keep free on the disk after the download. */
  minFreeDisk: number;
  connectTimeoutMs: number;
  /** No byte for this long (before headers or mid-body) counts as a dropped connection. */
  idleTimeoutMs: number;
  guard: GuardOptions;
  /** Connections for one big file when the server supports ranges. @default 1 */
  connections?: number;
  /** A name the user gave; wins over the server's. */
  name?: string | undefined;
  /** Used when neither the server nor the URL names the file. */
  title?: string | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ProgressCallback | undefined;
  /** Refuse a web page (text/html) or a stream manifest (HLS, DASH) with HTTP_IS_WEB_PAGE before anything is written. @default false */
  rejectHtml?: boolean;
  /** Reconnects in a row without new bytes before giving up. @default 5 */
  maxRetries?: number;
  /** First wait before a reconnect, doubled each time. @default 500 */
  backoffMs?: number;
  /** Smallest file split over several connections. @default 32 MiB */
  segmentThreshold?: number;
  log?: Logger | undefined;
  /**
   * Keep an interrupted download's bytes in `dir` under a stable name, with a record of what is on disk and the
   * server's validator, so that the next call for the same link resumes them with Range (If-Range) when the file
   * is unchanged, and starts over cleanly otherwise. Without it a failure removes every byte. @default false
   */
  keepPartial?: boolean;
  /** SHA-256 while bytes arrive, when they come in order on one connection (FetchedFile.sha256). @default false */
  hash?: boolean;
  /**
   * Called once the response is in, before the body is written. `followWrites: true` says the caller reads the
   * file while it is written: segments then go in file order so that `written()` grows steadily.
   */
  onStart?: ((start: DownloadStart) => { followWrites?: boolean } | undefined) | undefined;
}

/** The options every download shares, from the configuration. */
export function httpOptionsFromConfig(
  config: Config,
): Pick<
  HttpDownloadOptions,
  "maxSize" | "minFreeDisk" | "connectTimeoutMs" | "idleTimeoutMs" | "guard" | "connections"
> {
  return {
    maxSize: config.limits.maxDownloadSize,
    minFreeDisk: config.limits.minFreeDisk,
    connectTimeoutMs: config.fetch.connectTimeoutMs,
    idleTimeoutMs: config.fetch.idleTimeoutMs,
    guard: { allowPrivateNetworks: config.fetch.allowPrivateNetworks },
    connections: config.fetch.connections,
  };
}

export async function downloadHttp(rawUrl: string, options: HttpDownloadOptions): Promise<FetchedFile> {
  checkOptions(options);
  const url = parseHttpUrl(rawUrl);
  throwIfAborted(options.signal, "Download");
  const agents = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true }),
  };
  const ctx: TransferContext = {
    options,
    agents,
    lookup: guardedLookup(options.guard),
    meter: new ProgressMeter(options.onProgress, undefined),
    ifRange: undefined,
    maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
    writeBatch: writeBatchBytes(options.connections ?? 1),
    backoffMs: options.backoffMs ?? DEFAULT_BACKOFF_MS,
  };
  try {
    await checkUrl(url, options.guard);
    return await download(ctx, url, rawUrl, options);
  } catch (error) {
    throw toDownloadError(error, url, options.signal);
  } finally {
    agents.http.destroy();
    agents.https.destroy();
  }
}

async function download(
  ctx: TransferContext,
  url: URL,
  rawUrl: string,
  options: HttpDownloadOptions,
): Promise<FetchedFile> {
  const keep = options.keepPartial === true;
  const partPath = path.join(
    options.dir,
    keep ? PARTIAL_FILE : `.medusa-${randomBytes(6).toString("hex")}.part`,
  );
  const statePath = path.join(options.dir, PARTIAL_STATE);
  const previous = keep ? await loadPartial(statePath, partPath, rawUrl) : undefined;
  // A record of another link, or bytes without a record: nothing to resume from.
  if (keep && !previous) await removePartial(options.dir);
  let missing = previous ? missingOf(previous.done, previous.total) : undefined;
  // Everything is on disk but the name and type are in the headers: ask again for the last byte only.
  if (previous && missing?.length === 0) missing = [[previous.total - 1, previous.total]];

  let first: OpenedResponse | undefined;
  let fh: FileHandle | undefined;
  let generation = 0;
  let persist = false;
  let saving: Promise<void> = Promise.resolve();
  let saver: NodeJS.Timeout | undefined;
  let succeeded = false;
  let keepBytes = false;
  let save = (): Promise<void> => saving;
  let follower: FollowingHash | undefined;
  const written = new Set<TransferRange>();
  ctx.written = written;
  try {
    let resumed = false;
    if (previous && missing?.[0]) {
      const from = missing[0][0];
      ctx.ifRange = previous.etag ?? previous.lastModified;
      first = await openRequest(ctx, url, from, undefined);
      const got = first.status === 206 ? parseContentRange(first.headers["content-range"]) : undefined;
      resumed = got?.start === from && got.total === previous.total && sameValidator(first.headers, previous);
      if (!resumed) {
        options.log?.info(
          { url: displayUrl(url.href), status: first.status },
          "the file changed or the server ignores ranges; starting over",
        );
        await removePartial(options.dir);
        // A 200 is the whole (new) file from byte 0: it starts the download over as it is.
        if (first.status !== 200) {
          first.stream.destroy();
          first = undefined;
        }
      }
    }
    // "bytes=0-" both fetches the file and asks whether ranges work: 206 says yes, 200 says no.
    first ??= await openRequest(ctx, url, 0, undefined);
    const opened = first;
    let total: number | undefined;
    let ranges = false;
    if (resumed && previous) {
      total = previous.total;
      ranges = true;
    } else if (opened.status === 206) {
      const range = parseContentRange(opened.headers["content-range"]);
      if (range?.start !== 0) {
        throw new DownloadError("HTTP_BAD_RANGE", `Unexpected Content-Range from ${displayUrl(url.href)}`, {
          userMessage: "The server sent a malformed reply.",
        });
      }
      total = range.total;
      ranges = total !== undefined;
    } else {
      total = contentLength(opened.headers);
    }
    const contentType = opened.headers["content-type"];
    if (options.rejectHtml && isWebPage(contentType)) {
      throw new DownloadError("HTTP_IS_WEB_PAGE", `${displayUrl(url.href)} is a web page`, {
        userMessage: "That link is a web page, not a file.",
      });
    }
    if (total !== undefined && total > options.maxSize) throw tooLarge(options.maxSize, total);
    const etag = resumed ? previous?.etag : strongEtag(opened.headers);
    const lastModified = resumed ? previous?.lastModified : opened.headers["last-modified"];
    ctx.ifRange = etag ?? lastModified;
    ctx.meter.setTotal(total);
    const name = chooseFileName({
      given: options.name,
      contentDisposition: opened.headers["content-disposition"],
      url: opened.url,
      contentType,
      title: options.title,
    });
    const missingNow: Array<readonly [number, number]> =
      resumed && missing ? missing : total === undefined ? [] : [[0, total]];
    const already = resumed && previous ? onDisk(previous.done) : 0;
    await ensureDiskSpace(options.dir, (total ?? 0) - already, options.minFreeDisk);
    ctx.disk = new DiskWatch(options.dir, options.minFreeDisk, () =>
      total === undefined ? undefined : Math.max(0, total - ctx.meter.value),
    );

    fh = await fs.open(partPath, resumed ? "r+" : keep ? "w" : "wx");
    if (resumed && previous) {
      for (const [start, end] of previous.done) written.add({ start, end, total, next: end, durable: end });
      ctx.meter.set(already);
    }
    const connections = options.connections ?? 1;
    const threshold = options.segmentThreshold ?? DEFAULT_SEGMENT_THRESHOLD;
    const segmented = ranges && total !== undefined && connections > 1 && total >= threshold;
    const from = missingNow[0]?.[0] ?? 0;
    // In order from byte 0 on one connection: the digest comes almost free (a resume reads its prefix back).
    const sequential =
      !segmented && missingNow.length <= 1 && (total === undefined || missingNow[0]?.[1] === total);
    if (options.hash && sequential) {
      const hash = createHash("sha256");
      if (from > 0) await hashPrefix(partPath, from, hash, options.signal);
      ctx.hash = { hash, position: from };
    } else if (options.hash) {
      follower = new FollowingHash(
        partPath,
        () => contiguousEnd(written),
        () => generation,
      );
    }
    const follow =
      options.onStart?.({
        path: partPath,
        name,
        total,
        mimeType: contentType?.split(";")[0]?.trim() || undefined,
        written: () => contiguousEnd(written),
        generation: () => generation,
      })?.followWrites === true;

    const resumable = keep && ranges && total !== undefined && ctx.ifRange !== undefined;
    const record = (): PartialState => ({
      v: 1,
      url: rawUrl,
      ...(etag ? { etag } : {}),
      ...(lastModified ? { lastModified } : {}),
      total: total ?? 0,
      done: doneIntervals(written),
    });
    save = () => {
      saving = saving
        .then(() => (persist ? writeAtomically(statePath, JSON.stringify(record())) : undefined))
        .catch((error: unknown) =>
          options.log?.warn({ err: error }, "recording the partial download failed"),
        );
      return saving;
    };
    persist = resumable;
    await save();
    if (persist) {
      saver = setInterval(save, PARTIAL_SAVE_MS);
      saver.unref();
    }
    ctx.onReset = async () => {
      // What is on disk is void: no record may point at it, and an upload reading the file must start over.
      persist = false;
      await saving;
      await fs.rm(statePath, { force: true });
      generation++;
      written.clear();
      if (ctx.hash) ctx.hash = { hash: createHash("sha256"), position: 0 };
    };

    let size: number;
    if (segmented && total !== undefined) {
      const pieces = follow ? followPieceBytes(total, connections) : undefined;
      try {
        size = await downloadSegmented(ctx, fh, opened, total, connections, missingNow, pieces);
      } catch (error) {
        if (!(error instanceof RangeIgnoredError)) throw error;
        // The server advertised ranges, then ignored one: start over on one connection.
        options.log?.warn(
          { url: displayUrl(url.href) },
          "range ignored mid-download; restarting on one connection",
        );
        await ctx.onReset();
        await fh.truncate(0);
        ctx.meter.set(0);
        size = await transfer(ctx, fh, undefined, opened.url, { start: 0, end: undefined, total, next: 0 });
      }
    } else if (missingNow.length <= 1) {
      size = await transfer(ctx, fh, opened, opened.url, { start: from, end: undefined, total, next: from });
    } else {
      // A resume on one connection of what several left: each gap in turn.
      size = total ?? 0;
      for (const [index, [start, end]] of missingNow.entries()) {
        const last = end === total;
        await transfer(ctx, fh, index === 0 ? opened : undefined, opened.url, {
          start,
          end: last ? undefined : end,
          total,
          next: start,
        });
      }
    }
    await fh.close();
    fh = undefined;
    const stat = await fs.stat(partPath);
    if (stat.size !== size || (total !== undefined && size !== total))
      throw incomplete(url, stat.size, total);
    ctx.meter.finish();
    clearInterval(saver);
    persist = false;
    await saving;
    // The record goes first: a kill after the link leaves plain bytes, which the next attempt does not trust.
    await fs.rm(statePath, { force: true });
    const finalPath = await publish(partPath, options.dir, name);
    succeeded = true;
    const digest = ctx.hash?.position === size ? ctx.hash.hash.digest("hex") : await follower?.finish(size);
    follower = undefined;
    return {
      path: finalPath,
      name: path.basename(finalPath),
      size,
      mimeType: contentType?.split(";")[0]?.trim() || undefined,
      engine: "http",
      title: options.title,
      ...(digest ? { sha256: digest } : {}),
    };
  } catch (error) {
    // Network trouble and stops keep what arrived for the next attempt; anything else starts it over.
    keepBytes = persist && (isRetryable(error) || options.signal?.aborted === true);
    throw error;
  } finally {
    clearInterval(saver);
    await follower?.cancel();
    first?.stream.destroy();
    await fh?.close().catch(() => undefined);
    if (keepBytes) {
      await save();
    } else {
      persist = false;
      await saving;
      if (!succeeded) await fs.rm(statePath, { force: true });
    }
    if (!keepBytes) await fs.rm(partPath, { force: true });
  }
}

/** Programming errors in the options fail loudly, before any request. */
function checkOptions(options: HttpDownloadOptions): void {
  const wholeAtLeast = (name: string, value: unknown, min: number) => {
    if (!(Number.isSafeInteger(value) && (value as number) >= min)) {
      throw new TypeError(`Expected ${name} to be a whole number >= ${min}, got ${String(value)}`);
    }
  };
  if (typeof options.dir !== "string" || !options.dir) {
    throw new TypeError(`Expected dir to be a directory path, got ${String(options.dir)}`);
  }
  wholeAtLeast("maxSize", options.maxSize, 1);
  wholeAtLeast("minFreeDisk", options.minFreeDisk, 0);
  wholeAtLeast("connectTimeoutMs", options.connectTimeoutMs, 1);
  wholeAtLeast("idleTimeoutMs", options.idleTimeoutMs, 1);
  if (options.connections !== undefined) wholeAtLeast("connections", options.connections, 1);
  if (options.maxRetries !== undefined) wholeAtLeast("maxRetries", options.maxRetries, 0);
  if (options.connections !== undefined && options.connections > MAX_CONNECTIONS) {
    throw new TypeError(`Expected connections to be at most ${MAX_CONNECTIONS}, got ${options.connections}`);
  }
}

/** Gives the finished file its name without replacing an existing file ("a (2).mp4" when "a.mp4" exists). */
async function publish(partPath: string, dir: string, name: string): Promise<string> {
  const dot = name.lastIndexOf(".");
  const [base, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
  for (let n = 1; n <= MAX_NAME_ATTEMPTS; n++) {
    const candidate = path.join(dir, n === 1 ? name : `${base} (${n})${ext}`);
    try {
      // link fails when the name exists, where rename would silently replace it.
      await fs.link(partPath, candidate);
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  throw new DownloadError("NAME_TAKEN", `No free name for ${name} in ${dir}`, {
    userMessage: "Too many files with this name are waiting here.",
  });
}

function contentLength(headers: http.IncomingHttpHeaders): number | undefined {
  const value = headers["content-length"];
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** A strong ETag, for If-Range; weak ETags are not allowed there (Last-Modified is the fallback). */
function strongEtag(headers: http.IncomingHttpHeaders): string | undefined {
  const etag = headers.etag;
  return etag && !etag.startsWith("W/") ? etag : undefined;
}

/** Stream manifests (HLS, DASH) list the media rather than hold it: yt-dlp assembles them, like a page's video. */
const MANIFEST_TYPES = new Set([
  "application/vnd.apple.mpegurl",
  "application/x-mpegurl",
  "audio/mpegurl",
  "audio/x-mpegurl",
  "application/dash+xml",
]);

function isWebPage(contentType: string | undefined): boolean {
  const mime = contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  return mime === "text/html" || mime === "application/xhtml+xml" || MANIFEST_TYPES.has(mime);
}
