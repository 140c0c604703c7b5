/**
 * Upload while downloading: a direct file that the deliver step will not rewrite is uploaded from the growing
 * download by the fetch step, and the finished upload (file id, parts, name, size, big) is recorded with the
 * download in jobs.checkpoint (`fetched`). Deliver then skips the upload and goes straight to storeDocument. The
 * record is trusted only for the very file it describes (same path, inode, size, mtime, and digest when known):
 * a faststart remux, a restart from byte 0 or a failed upload all fall back to an ordinary upload.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import type { Job } from "../db/schema.js";
import type { DownloadStart } from "../fetch/http/download.js";
import type { FetchedFile } from "../fetch/types.js";
import type { Logger } from "../logger.js";
import type { TelegramGateway } from "../telegram/gateway.js";
import { type UploadedFile, uploadedFileOf } from "../telegram/uploader.js";

/** What the fetch step leaves in jobs.checkpoint under `fetched` for deliver. */
export interface FetchRecord {
  path: string;
  size: number;
  ino: number;
  mtimeMs: number;
  sha256?: string;
  upload?: { fileId: string; partCount: number; name: string; size: number; big: boolean };
}

/**
 * Containers the deliver step may remux (faststart) or that ffprobe may call video: never overlapped. Judged by
 * type and extension both, and a file that still turns out to be a video is caught by the inode check.
 */
const VIDEO_EXTENSIONS = /\.(mp4|m4v|mov|3gp|3g2|mkv|webm|avi|wmv|flv|ts|mts|m2ts|mpg|mpeg|ogv|qt|f4v)$/i;
const VIDEO_TYPES = /^(video\/|application\/(mp4|x-mpegurl|vnd\.apple\.mpegurl|dash\+xml))/i;

/** Overlapped uploads at once in this process: more would only share the same upload bandwidth. */
const MAX_OVERLAPS = 1;
let running = 0;

/** Decides from the response alone whether the file can go up while it comes down. */
export function mayOverlap(
  start: DownloadStart,
  limits: { fileLimit: number; asDocument: boolean },
): start is DownloadStart & { total: number } {
  if (start.total === undefined || start.total <= 0 || start.total > limits.fileLimit) return false;
  if (limits.asDocument) return true; // sent as a file: prepare never remuxes it
  if (VIDEO_EXTENSIONS.test(start.name) || VIDEO_EXTENSIONS.test(start.path)) return false;
  return !VIDEO_TYPES.test(start.mimeType ?? "");
}

export interface Overlap {
  /** The upload's record once the download is complete, or undefined when it failed or its bytes are void. */
  finish(file: FetchedFile): Promise<FetchRecord["upload"]>;
  /** The download failed: stops the upload and waits for it. */
  abort(): Promise<void>;
}

/** Starts uploading the growing file; undefined when another overlap is running already. */
export function startOverlap(
  gateway: TelegramGateway,
  start: DownloadStart & { total: number },
  options: { signal: AbortSignal; log: Logger },
): Overlap | undefined {
  if (running >= MAX_OVERLAPS) return undefined;
  running++;
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal.reason);
  options.signal.addEventListener("abort", onAbort, { once: true });
  const generation = start.generation();
  const upload = gateway
    .uploadFile(start.path, {
      fileName: start.name,
      growingToSize: start.total,
      growingAvailable: start.written,
      signal: controller.signal,
    })
    .then(
      (file) => file,
      (error: unknown) => {
        if (!controller.signal.aborted) {
          options.log.warn({ err: error }, "upload during the download failed; deliver uploads the file");
        }
        return undefined;
      },
    )
    .finally(() => {
      running--;
      options.signal.removeEventListener("abort", onAbort);
    });
  return {
    async finish(file) {
      const downloaded = Date.now();
      const uploaded = await upload;
      options.log.info(
        { uploaded: uploaded !== undefined, afterDownloadMs: Date.now() - downloaded },
        "upload during the download ended",
      );
      if (!uploaded || start.generation() !== generation || uploaded.size !== file.size) return undefined;
      return {
        fileId: uploaded.fileId.toString(),
        partCount: uploaded.partCount,
        name: uploaded.name,
        size: uploaded.size,
        big: uploaded.big,
      };
    },
    async abort() {
      controller.abort(new Error("download failed"));
      await upload;
    },
  };
}

/** The record of a finished download (and its upload, when one ran alongside). */
export async function fetchRecord(file: FetchedFile, upload: FetchRecord["upload"]): Promise<FetchRecord> {
  const info = await stat(file.path);
  return {
    path: file.path,
    size: info.size,
    ino: info.ino,
    mtimeMs: info.mtimeMs,
    ...(file.sha256 ? { sha256: file.sha256 } : {}),
    ...(upload ? { upload } : {}),
  };
}

/** jobs.checkpoint with the fetch record set (the rest of it is deliver's and kept as it is). */
export function withFetchRecord(checkpoint: string, record: FetchRecord): string {
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(checkpoint) as Record<string, unknown>;
  } catch {
    // a row written by hand: the record alone
  }
  return JSON.stringify({ ...parsed, fetched: record });
}

/** The fetch record, when `file` is still the very file it describes. */
async function recordFor(job: Pick<Job, "checkpoint">, file: string): Promise<FetchRecord | undefined> {
  let record: FetchRecord | undefined;
  try {
    record = (JSON.parse(job.checkpoint ?? "{}") as { fetched?: FetchRecord }).fetched;
  } catch {
    return undefined; // no usable record: deliver does its own work
  }
  if (!record || path.resolve(record.path) !== path.resolve(file)) return undefined;
  const info = await stat(file).catch(() => undefined);
  if (!info || info.ino !== record.ino || info.size !== record.size || info.mtimeMs !== record.mtimeMs) {
    return undefined; // rewritten since (faststart) or replaced
  }
  return record;
}

/** The digest the download computed, when `file` is unchanged since. */
export async function knownSha256(job: Pick<Job, "checkpoint">, file: string): Promise<string | undefined> {
  return (await recordFor(job, file))?.sha256;
}

/** The upload made during the download, when `part` is that file unchanged (same digest when it was known). */
export async function overlappedUpload(
  job: Pick<Job, "checkpoint">,
  part: { path: string; size: number; sha256: string },
): Promise<UploadedFile | undefined> {
  const record = await recordFor(job, part.path);
  const upload = record?.upload;
  if (!record || !upload || upload.size !== part.size) return undefined;
  if (record.sha256 !== undefined && record.sha256 !== part.sha256) return undefined;
  return uploadedFileOf({ ...upload, fileId: BigInt(upload.fileId), path: part.path });
}
