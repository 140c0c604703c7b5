/**
 * A user's own video thumbnail from a photo they sent: fetched with a size cap, checked to be a JPEG or PNG that
 * Telegram takes as a photo (at most 10 MB, width + height at most 10000, sides at most 20 times apart), scaled by
 * ffmpeg to a JPEG of at most 320 px a side under 200 KB, and kept as <data>/thumbnails/<userId>.jpg. The upload
 * is written next to it and removed whatever happens. Refusals come back as data for the bot to word.
 */
import { mkdir, rm, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { jpegSize, makeThumbnail } from "../media/thumbnail.js";
import type { MediaTools } from "../media/tools.js";
import type { IncomingFile, TelegramGateway } from "../telegram/gateway.js";
import { TelegramError } from "../telegram/telegram-error.js";

/** Telegram's limit on a photo; a bigger image is not worth fetching for 320 px anyway. */
export const MAX_THUMBNAIL_UPLOAD_BYTES = 10 * 1024 * 1024;
/** Telegram's photo rules: width + height, and how far apart the sides may be. */
const MAX_SIDES_SUM = 10_000;
const MAX_ASPECT = 20;
const JPEG = Buffer.from([0xff, 0xd8, 0xff]);
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export type ThumbnailOutcome =
  | { ok: true; path: string; width: number; height: number; size: number }
  | { ok: false; reason: "tooBig" | "notImage" | "unreadable" }
  | { ok: false; reason: "dimensions"; width: number; height: number };

export function thumbnailPathFor(dataDir: string, userId: number): string {
  return path.join(dataDir, "thumbnails", `${userId}.jpg`);
}

/** An image file as the user sent it: a photo, or a JPEG/PNG sent as a file. */
export function isImage(file: IncomingFile): boolean {
  return file.kind === "photo" || /^image\/(jpeg|png)$/.test(file.mimeType ?? "");
}

export async function saveCustomThumbnail(
  deps: { gateway: TelegramGateway; media: MediaTools; dataDir: string },
  userId: number,
  file: IncomingFile,
): Promise<ThumbnailOutcome> {
  if (file.size > MAX_THUMBNAIL_UPLOAD_BYTES) return { ok: false, reason: "tooBig" };
  let bytes: Buffer;
  try {
    bytes = await deps.gateway.downloadFile(file, { maxBytes: MAX_THUMBNAIL_UPLOAD_BYTES });
  } catch (error) {
    if (error instanceof TelegramError && error.code === "FILE_TOO_BIG")
      return { ok: false, reason: "tooBig" };
    throw error;
  }
  const png = bytes.subarray(0, PNG.length).equals(PNG);
  if (!png && !bytes.subarray(0, JPEG.length).equals(JPEG)) return { ok: false, reason: "notImage" };
  const output = thumbnailPathFor(deps.dataDir, userId);
  await mkdir(path.dirname(output), { recursive: true });
  const upload = `${output}.upload.${png ? "png" : "jpg"}`;
  try {
    await writeFile(upload, bytes);
    // The header's size, before ffmpeg decodes anything: a huge image is refused without the work.
    const dims = png ? pngSize(bytes) : await jpegSize(upload);
    if (!dims) return { ok: false, reason: "unreadable" };
    const { width, height } = dims;
    if (width + height > MAX_SIDES_SUM || Math.max(width, height) > MAX_ASPECT * Math.min(width, height)) {
      return { ok: false, reason: "dimensions", width, height };
    }
    try {
      return { ok: true, ...(await makeThumbnail(deps.media, upload, output)) };
    } catch {
      return { ok: false, reason: "unreadable" }; // ffmpeg could not decode it: the image's fault, said as such
    }
  } finally {
    await rm(upload, { force: true });
  }
}

/** Width and height from a PNG's IHDR chunk (right after the signature). */
function pngSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length < 24 || bytes.toString("ascii", 12, 16) !== "IHDR") return undefined;
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  return width > 0 && height > 0 ? { width, height } : undefined;
}

export async function removeCustomThumbnail(file: string): Promise<void> {
  await unlink(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error; // already gone is what was asked
  });
}
