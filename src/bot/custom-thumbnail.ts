/**
 * A user's own video thumbnail from a photo they sent: fetched with a size cap, checked to be a JPEG or PNG (what
 * Telegram takes as a photo), scaled by ffmpeg to a JPEG of at most 320 px a side under 200 KB, and kept as
 * <data>/thumbnails/<userId>.jpg. The upload is written next to it and removed whatever happens.
 */
import { mkdir, rm, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../errors.js";
import { formatBytes } from "../lib/size.js";
import { makeThumbnail } from "../media/thumbnail.js";
import type { MediaTools } from "../media/tools.js";
import type { IncomingFile, TelegramGateway } from "../telegram/gateway.js";
import { TelegramError } from "../telegram/telegram-error.js";

/** A photo Telegram hands out is well under this; a bigger image is not worth fetching for 320 px. */
export const MAX_THUMBNAIL_UPLOAD_BYTES = 10 * 1024 * 1024;
const JPEG = Buffer.from([0xff, 0xd8, 0xff]);
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

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
): Promise<{ path: string; width: number; height: number; size: number }> {
  const tooBig = () =>
    new UserError("THUMBNAIL_TOO_BIG", `thumbnail upload of ${file.size} bytes`, {
      userMessage: `The image is ${formatBytes(file.size)}; at most ${formatBytes(MAX_THUMBNAIL_UPLOAD_BYTES)} is taken.`,
    });
  if (file.size > MAX_THUMBNAIL_UPLOAD_BYTES) throw tooBig();
  let bytes: Buffer;
  try {
    bytes = await deps.gateway.downloadFile(file, { maxBytes: MAX_THUMBNAIL_UPLOAD_BYTES });
  } catch (error) {
    if (error instanceof TelegramError && error.code === "FILE_TOO_BIG") throw tooBig();
    throw error;
  }
  const png = bytes.subarray(0, PNG.length).equals(PNG);
  if (!png && !bytes.subarray(0, JPEG.length).equals(JPEG)) {
    throw new UserError("THUMBNAIL_NOT_IMAGE", "thumbnail upload is neither JPEG nor PNG", {
      userMessage: "This is not a JPEG or PNG image. Send a photo.",
    });
  }
  const output = thumbnailPathFor(deps.dataDir, userId);
  await mkdir(path.dirname(output), { recursive: true });
  const upload = `${output}.upload.${png ? "png" : "jpg"}`;
  try {
    await writeFile(upload, bytes);
    return await makeThumbnail(deps.media, upload, output).catch((error: unknown) => {
      throw new UserError("THUMBNAIL_UNREADABLE", "ffmpeg could not make a thumbnail of the upload", {
        userMessage: "I could not read this image. Send another photo.",
        cause: error,
      });
    });
  } finally {
    await rm(upload, { force: true });
  }
}

export async function removeCustomThumbnail(file: string): Promise<void> {
  await unlink(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error; // already gone is what was asked
  });
}
