/**
 * Direct HTTP(S) downloads with got: streamed to the job's directory, resumed with Range after a drop, split over
 * several connections for big files, guarded against private addresses on every hop. On any failure the partial
 * file is removed; only a complete file ever carries its final name.
 */
import { randomBytes } from "node:crypto";
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
import { ensureDiskSpace } from "./disk-space.js";
import { incomplete, RangeIgnoredError, toDownloadError, tooLarge } from "./errors.js";
import { downloadSegmented } from "./segmented.js";
import {
  DEFAULT_BACKOFF_MS,
  DEFAULT_MAX_RETRIES,
  openRequest,
  parseContentRange,
  type TransferContext,
  transfer,
  writeBatchBytes,
} from "./transfer.js";

/** Below this, one connection finishes before extra connections would have ramped up. */
const DEFAULT_SEGMENT_THRESHOLD = 32 * 1024 * 1024;
/** More connections than this is rude to a server and gains nothing (config allows up to 16). */
const MAX_CONNECTIONS = 16;
/** Bounded attempts to find a free final name ("a (2).mp4" …). */
const MAX_NAME_ATTEMPTS = 100;

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
  /** Refuse a web page (text/html) with HTTP_IS_WEB_PAGE before anything is written. @default false */
  rejectHtml?: boolean;
  /** Reconnects in a row without new bytes before giving up. @default 5 */
  maxRetries?: number;
  /** First wait before a reconnect, doubled each time. @default 500 */
  backoffMs?: number;
  /** Smallest file split over several connections. @default 32 MiB */
  segmentThreshold?: number;
  log?: Logger | undefined;
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
    return await download(ctx, url, options);
  } catch (error) {
    throw toDownloadError(error, url, options.signal);
  } finally {
    agents.http.destroy();
    agents.https.destroy();
  }
}

async function download(ctx: TransferContext, url: URL, options: HttpDownloadOptions): Promise<FetchedFile> {
  // "bytes=0-" both fetches the file and asks whether ranges work: 206 says yes, 200 says no.
  const first = await openRequest(ctx, url, 0, undefined);
  let fh: FileHandle | undefined;
  let partPath: string | undefined;
  try {
    let total: number | undefined;
    let ranges = false;
    if (first.status === 206) {
      const range = parseContentRange(first.headers["content-range"]);
      if (range?.start !== 0) {
        throw new DownloadError("HTTP_BAD_RANGE", `Unexpected Content-Range from ${displayUrl(url.href)}`, {
          userMessage: "The server sent a malformed reply.",
        });
      }
      total = range.total;
      ranges = total !== undefined;
    } else {
      total = contentLength(first.headers);
    }
    const contentType = first.headers["content-type"];
    if (options.rejectHtml && isWebPage(contentType)) {
      throw new DownloadError("HTTP_IS_WEB_PAGE", `${displayUrl(url.href)} is a web page`, {
        userMessage: "That link is a web page, not a file.",
      });
    }
    if (total !== undefined && total > options.maxSize) throw tooLarge(options.maxSize, total);
    ctx.ifRange = validator(first.headers);
    ctx.meter.setTotal(total);
    const name = chooseFileName({
      given: options.name,
      contentDisposition: first.headers["content-disposition"],
      url: first.url,
      contentType,
      title: options.title,
    });
    await ensureDiskSpace(options.dir, total ?? 0, options.minFreeDisk);

    partPath = path.join(options.dir, `.medusa-${randomBytes(6).toString("hex")}.part`);
    fh = await fs.open(partPath, "wx");
    const connections = options.connections ?? 1;
    const threshold = options.segmentThreshold ?? DEFAULT_SEGMENT_THRESHOLD;
    let size: number;
    if (ranges && total !== undefined && connections > 1 && total >= threshold) {
      try {
        size = await downloadSegmented(ctx, fh, first, total, connections);
      } catch (error) {
        if (!(error instanceof RangeIgnoredError)) throw error;
        // The server advertised ranges, then ignored one: start over on one connection.
        options.log?.warn(
          { url: displayUrl(url.href) },
          "range ignored mid-download; restarting on one connection",
        );
        await fh.truncate(0);
        ctx.meter.set(0);
        size = await transfer(ctx, fh, undefined, first.url, { start: 0, end: undefined, total, next: 0 });
      }
    } else {
      size = await transfer(ctx, fh, first, first.url, { start: 0, end: undefined, total, next: 0 });
    }
    await fh.close();
    fh = undefined;
    const stat = await fs.stat(partPath);
    if (stat.size !== size || (total !== undefined && size !== total))
      throw incomplete(url, stat.size, total);
    ctx.meter.finish();
    const finalPath = await publish(partPath, options.dir, name);
    return {
      path: finalPath,
      name: path.basename(finalPath),
      size,
      mimeType: contentType?.split(";")[0]?.trim() || undefined,
      engine: "http",
      title: options.title,
    };
  } finally {
    first.stream.destroy();
    await fh?.close().catch(() => undefined);
    if (partPath) await fs.rm(partPath, { force: true });
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

/** A strong ETag or Last-Modified, for If-Range; weak ETags are not allowed there. */
function validator(headers: http.IncomingHttpHeaders): string | undefined {
  const etag = headers.etag;
  if (etag && !etag.startsWith("W/")) return etag;
  return headers["last-modified"];
}

function isWebPage(contentType: string | undefined): boolean {
  const mime = contentType?.split(";")[0]?.trim().toLowerCase();
  return mime === "text/html" || mime === "application/xhtml+xml";
}
