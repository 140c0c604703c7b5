/**
 * The deliver step's first stage, once per job (its result is the checkpoint): the link's options applied (trim,
 * audio only), probe, faststart, thumbnail, and a split where the file is over the account's limit or the user's
 * split size. Each part records what sending it needs (kind, attributes, thumbnail, account, digest).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, stat } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type { Job } from "../db/schema.js";
import { probeMedia } from "../media/probe.js";
import { ensureFaststart } from "../media/remux.js";
import { splitFile } from "../media/split.js";
import { makeThumbnail } from "../media/thumbnail.js";
import type { MediaTools } from "../media/tools.js";
import { type PremiumAccount, routeFile } from "./accounts.js";
import { jobOptions } from "./job-options.js";
import { applyMediaOptions, nameFor, subtitleFiles } from "./media-options.js";
import { knownSha256 } from "./overlap.js";
import type { StepContext } from "./runner.js";

/** The type of the subtitle files "subs file" sends after the video. */
export const SUBTITLE_MIME = "application/x-subrip";

export interface PreparedPart {
  path: string;
  name: string;
  size: number;
  sha256: string;
  kind: "video" | "audio" | "document";
  mimeType: string;
  duration?: number;
  width?: number;
  height?: number;
  streaming?: boolean;
  thumbnail?: string;
  /** Uploaded and sent by the Premium user session rather than the bot (absent: the bot). */
  account?: "user";
}

export interface PrepareDeps {
  media: MediaTools;
  /** Largest file the bot may send; bigger ones go through the Premium session or are split. */
  fileLimit: number;
  premium?: PremiumAccount | undefined;
}

/** Probe, faststart, thumbnail and split, once; the result is the job's checkpoint. */
export async function prepareParts(deps: PrepareDeps, job: Job, ctx: StepContext): Promise<PreparedPart[]> {
  const download = job.download_path;
  if (!download) throw new Error(`job ${job.id} has no downloaded file`);
  const options = jobOptions(job);
  // The link's options (trim, audio only; src/jobs/media-options.ts) make the file to prepare.
  const input = await applyMediaOptions(deps.media, download, options, ctx);
  const info = await probeMedia(deps.media, input, { signal: ctx.signal });
  const video = info.kind === "video" && !options.asDocument;
  let streaming = false;
  if (video && /mp4|mov/.test(info.container ?? "")) {
    await ensureFaststart(deps.media, input, { signal: ctx.signal });
    streaming = true;
  }
  const size = (await stat(input)).size;
  const route = await routeFile({
    size,
    chatId: job.destination_chat_id,
    botLimit: deps.fileLimit,
    premium: deps.premium,
    log: ctx.log,
  });
  // /settings: the user's split size, when below the account's limit.
  const splitAt = Math.min(route.limit, options.splitBytes ?? route.limit);
  const pieces =
    size > splitAt ? await splitFile(deps.media, input, { maxBytes: splitAt, signal: ctx.signal }) : [input];
  const name = nameFor(job.name ?? path.basename(download), input);
  const parts: PreparedPart[] = [];
  for (const [index, piece] of pieces.entries()) {
    const pieceInfo = pieces.length > 1 ? await probeMedia(deps.media, piece, { signal: ctx.signal }) : info;
    const partVideo = video && pieceInfo.kind === "video";
    let thumbnail: string | undefined;
    // /settings: the user's own thumbnail, copied next to the part (they may replace it meanwhile).
    if (partVideo && options.thumbnail) {
      thumbnail = await copyFile(options.thumbnail, `${piece}.thumb.jpg`).then(
        () => `${piece}.thumb.jpg`,
        (error: unknown) =>
          void ctx.log.warn({ err: error }, "the user's thumbnail is gone; a frame is used"),
      );
    }
    if (partVideo && !thumbnail) {
      const thumb = await makeThumbnail(deps.media, piece, `${piece}.thumb.jpg`, {
        duration: pieceInfo.duration,
        signal: ctx.signal,
      }).catch((error: unknown) => {
        ctx.log.warn({ err: error }, "no thumbnail; the video goes without one");
        return undefined;
      });
      thumbnail = thumb?.path;
    }
    parts.push({
      path: piece,
      name: pieces.length > 1 ? partName(name, index + 1, pieces.length) : name,
      size: (await stat(piece)).size,
      // Overlap hook: the digest the download computed, while the file is unchanged since.
      sha256: (await knownSha256(job, piece)) ?? (await sha256File(piece, ctx.signal)),
      kind: partVideo ? "video" : info.kind === "audio" && !options.asDocument ? "audio" : "document",
      mimeType: mimeFor(piece, partVideo),
      ...(pieceInfo.duration !== undefined ? { duration: pieceInfo.duration } : {}),
      ...(pieceInfo.width !== undefined ? { width: pieceInfo.width } : {}),
      ...(pieceInfo.height !== undefined ? { height: pieceInfo.height } : {}),
      streaming,
      ...(thumbnail ? { thumbnail } : {}),
      ...(route.account === "user" ? { account: "user" as const } : {}),
    });
  }
  // "subs file": the subtitles the download wrote beside the video go after it, as documents.
  if (options.subtitles === "file") {
    for (const file of await subtitleFiles(download)) {
      const { size } = await stat(file);
      parts.push({
        path: file,
        name: path.basename(file),
        size,
        sha256: await sha256File(file, ctx.signal),
        kind: "document",
        mimeType: SUBTITLE_MIME,
        streaming: false,
      });
    }
  }
  return parts;
}

function partName(name: string, index: number, total: number): string {
  const ext = path.extname(name);
  const digits = String(total).length;
  return `${name.slice(0, name.length - ext.length)}.part${String(index).padStart(digits, "0")}${ext}`;
}

function mimeFor(file: string, video: boolean): string {
  const ext = path.extname(file).toLowerCase();
  if (video && (ext === ".mp4" || ext === ".m4v" || ext === ".mov")) return "video/mp4";
  if (video && ext === ".webm") return "video/webm";
  if (video && ext === ".mkv") return "video/x-matroska";
  if (ext === ".mp3") return "audio/mpeg";
  if (ext === ".m4a") return "audio/mp4";
  if (ext === ".ogg" || ext === ".opus") return "audio/ogg";
  return "application/octet-stream";
}

async function sha256File(file: string, signal: AbortSignal): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash, { signal });
  return hash.digest("hex");
}
