/**
 * A JPEG thumbnail as Telegram wants it: at most 320 px on the long side and under 200 KB. Taken from about 10 % into
 * the video (past intros and black frames), falling back to the first frame; quality is lowered until it fits.
 */
import { randomUUID } from "node:crypto";
import { open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { ToolError } from "../errors.js";
import { runTool } from "../lib/run-tool.js";
import type { MediaTools } from "./tools.js";

/** Telegram's limits for a thumbnail. */
export const THUMB_MAX_SIDE = 320;
export const THUMB_MAX_BYTES = 200 * 1000;
const SEEK_FRACTION = 0.1;
/** ffmpeg's JPEG qscale: 2 is near-lossless, 31 the smallest. A few steps keep the loop short. */
const QUALITY_STEPS = [2, 5, 10, 18, 31];

export interface Thumbnail {
  path: string;
  width: number;
  height: number;
  size: number;
}

export async function makeThumbnail(
  tools: MediaTools,
  input: string,
  output: string,
  options: {
    /** Seconds; the frame is taken at 10 % of it. Unknown: the first frame. */
    duration?: number | undefined;
    /** @default THUMB_MAX_BYTES */
    maxBytes?: number;
    signal?: AbortSignal | undefined;
  } = {},
): Promise<Thumbnail> {
  const maxBytes = options.maxBytes ?? THUMB_MAX_BYTES;
  const seeks = options.duration && options.duration > 0 ? [options.duration * SEEK_FRACTION, 0] : [0];
  const tmp = path.join(
    path.dirname(output),
    `.${path.basename(output)}.${randomUUID().slice(0, 8)}.tmp.jpg`,
  );
  // Never upscale; keep the aspect ratio; ffmpeg applies the display rotation before this filter. Baseline 4:2:0
  // JPEG: every client decodes it, and it is about half the size of 4:4:4.
  const scale =
    `scale='min(${THUMB_MAX_SIDE},iw)':'min(${THUMB_MAX_SIDE},ih)':force_original_aspect_ratio=decrease` +
    ",format=yuvj420p";
  try {
    for (const seek of seeks) {
      for (const quality of QUALITY_STEPS) {
        await rm(tmp, { force: true });
        await runTool(
          tools.ffmpegPath,
          [
            ...["-hide_banner", "-nostdin", "-v", "error", "-y"],
            // No -ss at 0: on a still JPEG, "-ss 0" makes ffmpeg skip the only frame (a user's thumbnail).
            ...(seek > 0 ? ["-ss", seek.toFixed(3)] : []),
            ...["-i", path.resolve(input)],
            ...["-map", "0:v:0", "-frames:v", "1", "-vf", scale, "-q:v", String(quality)],
            ...["-f", "image2", "-update", "1", path.resolve(tmp)],
          ],
          { tool: "ffmpeg", timeoutMs: tools.toolTimeoutMs, signal: options.signal },
        );
        const size = await stat(tmp).then(
          (s) => s.size,
          () => 0,
        );
        if (size === 0) break; // no frame at this position (past the end): try the first frame
        if (size >= maxBytes) continue;
        const dims = await jpegSize(tmp);
        if (!dims)
          throw new ToolError("THUMBNAIL_INVALID", "ffmpeg", `ffmpeg wrote no readable JPEG for ${input}`);
        await rename(tmp, output);
        return { path: output, size, ...dims };
      }
    }
    throw new ToolError(
      "THUMBNAIL_FAILED",
      "ffmpeg",
      `no frame of ${input} made a thumbnail under the limits`,
    );
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Width and height from a JPEG's start-of-frame marker. Reads only the headers. */
export async function jpegSize(file: string): Promise<{ width: number; height: number } | undefined> {
  const handle = await open(file, "r");
  try {
    // Headers before the first frame are small; 64 KiB covers EXIF and tables.
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    if (bytesRead < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return undefined;
    let at = 2;
    while (at + 9 < bytesRead) {
      if (buf[at] !== 0xff) return undefined;
      const marker = buf[at + 1]!;
      const length = buf.readUInt16BE(at + 2);
      // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { height: buf.readUInt16BE(at + 5), width: buf.readUInt16BE(at + 7) };
      }
      at += 2 + length;
    }
    return undefined;
  } finally {
    await handle.close();
  }
}
