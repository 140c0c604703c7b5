/**
 * The steps of one job, each resuming from the job's own columns so that running it again is harmless:
 * fetch → (deliver:) prepare → upload once per part → send by reference to the destination, then to every log
 * channel, each send with a random_id stored before the call → clean up. A crash between a send and its record makes
 * the re-send a RANDOM_ID_DUPLICATE, which counts as delivered.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, mkdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type { Config } from "../config.js";
import type { Db } from "../db/database.js";
import { markDelivered, planDelivery } from "../db/deliveries.js";
import { findFileByContent, recordFile } from "../db/files.js";
import { getBatch, recordProgress } from "../db/jobs.js";
import type { FileRecord, Job } from "../db/schema.js";
import { getUserSettings } from "../db/settings.js";
import { getUser } from "../db/users.js";
import { UserError } from "../errors.js";
import { httpOptionsFromConfig } from "../fetch/http/download.js";
import { isLocalSource, takeLocalFile } from "../fetch/local-file.js";
import { fetchSource, type SourceOptions } from "../fetch/source.js";
import type { FetchedFile, TransferProgress } from "../fetch/types.js";
import type { Quality } from "../lib/quality.js";
import { probeMedia } from "../media/probe.js";
import { ensureFaststart } from "../media/remux.js";
import { splitFile } from "../media/split.js";
import { makeThumbnail } from "../media/thumbnail.js";
import type { MediaTools } from "../media/tools.js";
import type { TelegramGateway } from "../telegram/gateway.js";
import type { StoredDocument } from "../telegram/send.js";
import { DEFAULT_CAPTION_TEMPLATE, renderCaption } from "./caption.js";
import { renderLogCard } from "./log-card.js";
import type { JobSteps, StepContext } from "./runner.js";

/** A bot may send 2000 MiB per file (4000 parts of 512 KiB). */
export const BOT_FILE_LIMIT = 2000 * 1024 * 1024;
/** Progress rows are written at most this often per job. */
const PROGRESS_EVERY_MS = 1000;
/** Telegram refuses a stored document whose reference went stale with one of these: upload it again. */
const STALE_REFERENCE = /^(FILE_REFERENCE_(EXPIRED|INVALID)|MEDIA_INVALID|MEDIA_EMPTY)$/;
/** A log channel that refuses posts is skipped (and reported), never a reason to fail the job. */
const LOG_REFUSED =
  /^(CHAT_WRITE_FORBIDDEN|CHAT_ADMIN_REQUIRED|CHANNEL_PRIVATE|CHANNEL_INVALID|USER_BANNED_IN_CHANNEL|CHAT_SEND_MEDIA_FORBIDDEN|PEER_ID_INVALID|CHAT_UNKNOWN)$/;

/**
 * request_chat_id of a job made at the terminal (`medusa upload`): no Telegram chat has id 0, so no message can
 * make a job that claims to come from there. Only such a job may name a local file as its source.
 */
export const TERMINAL_CHAT_ID = 0;

/** What a job asked for, stored as JSON in jobs.options. */
export interface JobOptions {
  quality?: Quality;
  /** Send as a plain file even when it is a video. */
  asDocument?: boolean;
  /** Send again even when the same content was delivered before. */
  fresh?: boolean;
  /** The user's own JPEG thumbnail for videos (/settings), used instead of a frame. */
  thumbnail?: string;
  /** Split files over this many bytes (/settings), when it is below the account's limit. */
  splitBytes?: number;
}

/** What deliver keeps in jobs.checkpoint to resume. */
interface Checkpoint {
  parts?: PreparedPart[];
  /** files.id per part, once uploaded. */
  files?: Record<string, number>;
  /** Every send went out; only clean-up is left. */
  sent?: boolean;
}

interface PreparedPart {
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
}

export interface StepDeps {
  db: Db;
  /** The uploading account (the bot). */
  gateway: TelegramGateway;
  /** Where each job gets its folder, data/work. */
  workRoot: string;
  source: Omit<SourceOptions, "dir" | "name" | "quality" | "signal" | "onProgress">;
  media: MediaTools;
  /** Chats that get a copy of every delivery. */
  logChats: () => Promise<number[]>;
  /** Largest file the uploading account may send; bigger ones are split. @default BOT_FILE_LIMIT */
  fileLimit?: number;
  /** A log channel refused a post (reported to the owner once by the caller). */
  onLogRefused?: (chatId: number, code: string) => void;
  /** Crash-recovery tests: called between the effects that must survive a crash. */
  crashPoint?: (name: string) => void;
}

/** What the configuration decides for the steps: one place, so `medusa start` and `medusa upload` run alike. */
export function stepSettings(config: Config): Pick<StepDeps, "workRoot" | "source" | "media"> {
  return {
    workRoot: config.paths.work,
    source: {
      ...httpOptionsFromConfig(config),
      ytdlpPath: config.fetch.ytdlpPath,
      cookiesFile: config.fetch.ytdlpCookiesFile,
      timeoutMs: config.media.toolTimeoutMs,
      ffmpegPath: config.media.ffmpegPath,
    },
    media: config.media,
  };
}

export function createJobSteps(deps: StepDeps): JobSteps {
  const { db, gateway } = deps;
  const fileLimit = deps.fileLimit ?? BOT_FILE_LIMIT;

  return {
    async fetch(job, ctx) {
      const workDir = job.work_dir ?? path.join(deps.workRoot, `job-${job.id}`);
      if (job.download_path && (await isComplete(job.download_path, job.bytes_total))) return {};
      // An earlier attempt's leftovers (a partial download under a random name) would only take disk space.
      await rm(workDir, { recursive: true, force: true });
      await mkdir(workDir, { recursive: true });
      await ctx.advance("downloading", { work_dir: workDir, bytes_done: 0 });
      const options = jobOptions(job);
      const progress = throttledProgress(db, job.id);
      const started = Date.now();
      const onProgress = (p: TransferProgress) => progress(p.bytes, p.total ?? null);
      let file: { path: string; name: string; size: number; engine: FetchedFile["engine"] | null };
      if (isLocalSource(job.source_url)) {
        // A path on this machine: only the operator at its terminal may name one, never a chat.
        if (job.request_chat_id !== TERMINAL_CHAT_ID) {
          throw new UserError("LOCAL_FILE_REFUSED", "Only http(s) links can be fetched.");
        }
        const local = await takeLocalFile(job.source_url, {
          dir: workDir,
          name: job.name ?? undefined,
          maxSize: deps.source.maxSize,
          minFreeDisk: deps.source.minFreeDisk,
          signal: ctx.signal,
          onProgress,
        });
        file = { ...local, engine: null }; // source_kind stays NULL: it names the download engines only
      } else {
        file = await fetchSource(job.source_url, {
          ...deps.source,
          dir: workDir,
          name: job.name ?? undefined,
          quality: options.quality,
          signal: ctx.signal,
          onProgress,
        });
      }
      return {
        download_path: file.path,
        name: file.name,
        source_kind: file.engine,
        bytes_total: file.size,
        bytes_done: file.size,
        download_ms: Date.now() - started,
      };
    },

    async deliver(job, ctx) {
      const checkpoint = JSON.parse(job.checkpoint) as Checkpoint;
      const save = (status: Job["status"]) => ctx.advance(status, { checkpoint: JSON.stringify(checkpoint) });
      const started = Date.now();
      if (!checkpoint.sent) {
        if (!checkpoint.parts) {
          checkpoint.parts = await prepare(job, ctx);
          await save("uploading");
        }
        const parts = checkpoint.parts;
        checkpoint.files ??= {};
        const logChats = await deps.logChats();
        for (const [index, part] of parts.entries()) {
          const number = index + 1;
          let record = await storedFile(job, part, ctx);
          if (checkpoint.files[number] !== record.id) {
            checkpoint.files[number] = record.id;
            await save("sending");
          }
          const texts = await captionsFor(job, part, number, parts.length);
          const targets: Array<{ chatId: number; target: "destination" | "log" }> = [
            { chatId: job.destination_chat_id, target: "destination" },
            ...logChats.map((chatId) => ({ chatId, target: "log" as const })),
          ];
          for (const { chatId, target } of targets) {
            const caption = target === "destination" ? texts.caption : texts.logCard;
            const delivery = await planDelivery(db, { jobId: job.id, part: number, chatId, target });
            if (delivery.message_id !== null) continue;
            try {
              const sent = await sendWithFallback(
                record,
                part,
                chatId,
                BigInt(delivery.random_id),
                caption,
                ctx,
              );
              record = sent.record;
              deps.crashPoint?.("deliver.sent");
              // A duplicate was posted by an earlier attempt whose record was lost: its id is unknown (0).
              await markDelivered(db, delivery.id, sent.messageId ?? 0, record.id);
            } catch (error) {
              const code = (error as { code?: string }).code ?? "";
              if (target === "log" && LOG_REFUSED.test(code)) {
                deps.onLogRefused?.(chatId, code);
                ctx.log.warn({ chatId, code }, "log channel refused the copy; skipped");
                continue;
              }
              throw error;
            }
          }
        }
        checkpoint.sent = true;
        await save("sending");
        deps.crashPoint?.("deliver.recorded");
      }
      if (job.work_dir) await rm(job.work_dir, { recursive: true, force: true });
      return { upload_ms: Date.now() - started, bytes_done: job.bytes_total ?? job.bytes_done };
    },
  };

  /** The user's caption (their template, or the default) and the log channels' card, for one part. */
  async function captionsFor(
    job: Job,
    part: PreparedPart,
    number: number,
    count: number,
  ): Promise<{ caption: string; logCard: string }> {
    const [settings, user, batch] = await Promise.all([
      getUserSettings(db, job.user_id),
      getUser(db, job.user_id),
      job.batch_id === null ? undefined : getBatch(db, job.batch_id),
    ]);
    const quality = part.kind === "audio" ? "audio" : (part.height ?? jobOptions(job).quality ?? null);
    const partOf = count > 1 ? { index: number, count } : null;
    const now = new Date();
    const caption = renderCaption(settings.captionTemplate ?? DEFAULT_CAPTION_TEMPLATE, {
      name: job.name ?? part.name,
      size: part.size,
      duration: part.duration ?? null,
      quality,
      source: job.source_url,
      index: job.position,
      total: batch?.total ?? null,
      date: now,
      part: partOf,
    });
    const logCard = renderLogCard({
      user: { id: job.user_id, name: [user?.first_name, user?.last_name].filter(Boolean).join(" ") || null },
      at: now,
      // A local path says nothing to the log channel's readers and may tell them more than it should.
      url: isLocalSource(job.source_url) ? null : job.source_url,
      type: part.kind,
      fileName: part.name,
      size: part.size,
      quality,
      duration: part.duration ?? null,
      part: partOf,
    });
    return { caption, logCard };
  }

  /** Probe, faststart, thumbnail and split, once; the result is the job's checkpoint. */
  async function prepare(job: Job, ctx: StepContext): Promise<PreparedPart[]> {
    const input = job.download_path;
    if (!input) throw new Error(`job ${job.id} has no downloaded file`);
    const options = jobOptions(job);
    const info = await probeMedia(deps.media, input, { signal: ctx.signal });
    const video = info.kind === "video" && !options.asDocument;
    let streaming = false;
    if (video && /mp4|mov/.test(info.container ?? "")) {
      await ensureFaststart(deps.media, input, { signal: ctx.signal });
      streaming = true;
    }
    const size = (await stat(input)).size;
    // /settings: the user's split size, when below the account's limit.
    const splitAt = Math.min(fileLimit, options.splitBytes ?? fileLimit);
    const pieces =
      size > splitAt
        ? await splitFile(deps.media, input, { maxBytes: splitAt, signal: ctx.signal })
        : [input];
    const name = job.name ?? path.basename(input);
    const parts: PreparedPart[] = [];
    for (const [index, piece] of pieces.entries()) {
      const pieceInfo =
        pieces.length > 1 ? await probeMedia(deps.media, piece, { signal: ctx.signal }) : info;
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
        sha256: await sha256File(piece, ctx.signal),
        kind: partVideo ? "video" : info.kind === "audio" && !options.asDocument ? "audio" : "document",
        mimeType: mimeFor(piece, partVideo),
        ...(pieceInfo.duration !== undefined ? { duration: pieceInfo.duration } : {}),
        ...(pieceInfo.width !== undefined ? { width: pieceInfo.width } : {}),
        ...(pieceInfo.height !== undefined ? { height: pieceInfo.height } : {}),
        streaming,
        ...(thumbnail ? { thumbnail } : {}),
      });
    }
    return parts;
  }

  /** The part as a stored document: reused when this content was uploaded before, uploaded once otherwise. */
  async function storedFile(job: Job, part: PreparedPart, ctx: StepContext): Promise<FileRecord> {
    if (!jobOptions(job).fresh) {
      const known = await findFileByContent(db, part.sha256, part.size, "bot");
      if (known) return known;
    }
    return upload(job, part, ctx);
  }

  async function upload(job: Job, part: PreparedPart, ctx: StepContext): Promise<FileRecord> {
    const progress = throttledProgress(db, job.id);
    const uploaded = await gateway.uploadFile(part.path, {
      fileName: part.name,
      signal: ctx.signal,
      onProgress: (bytes, total) => progress(bytes, total),
    });
    const stored = await gateway.storeDocument(job.destination_chat_id, {
      file: uploaded,
      fileName: part.name,
      mimeType: part.mimeType,
      signal: ctx.signal,
      ...(part.kind === "video"
        ? {
            video: {
              durationSeconds: part.duration ?? 0,
              width: part.width ?? 0,
              height: part.height ?? 0,
              supportsStreaming: part.streaming ?? false,
            },
          }
        : {}),
      ...(part.kind === "audio" ? { audio: { durationSeconds: part.duration ?? 0 } } : {}),
      ...(part.thumbnail ? { thumbnailPath: part.thumbnail } : {}),
      ...(part.kind === "document" ? { forceDocument: true } : {}),
    });
    deps.crashPoint?.("deliver.uploaded");
    return recordFile(db, {
      sha256: part.sha256,
      size: part.size,
      name: part.name,
      mime_type: part.mimeType,
      kind: part.kind,
      account: "bot",
      document_id: stored.id,
      access_hash: stored.accessHash,
      file_reference: stored.fileReference,
      dc_id: stored.dcId,
      duration: part.duration === undefined ? null : Math.round(part.duration),
      width: part.width ?? null,
      height: part.height ?? null,
      source_url: job.source_url,
    });
  }

  /** Sends by reference; a reference Telegram no longer accepts is replaced by a fresh upload, once. */
  async function sendWithFallback(
    record: FileRecord,
    part: PreparedPart,
    chatId: number,
    randomId: bigint,
    caption: string,
    ctx: StepContext,
  ): Promise<{ messageId: number | undefined; record: FileRecord }> {
    const send = (r: FileRecord) =>
      gateway.sendDocument(chatId, storedOf(r), { randomId, caption, html: true, signal: ctx.signal });
    try {
      return { ...(await send(record)), record };
    } catch (error) {
      const code = (error as { code?: string }).code ?? "";
      if (!STALE_REFERENCE.test(code)) throw error;
      ctx.log.info({ code, file: record.id }, "stored document refused; uploading again");
      const job = { source_url: record.source_url ?? "", destination_chat_id: chatId } as Job;
      const fresh = await upload(job, part, ctx);
      return { ...(await send(fresh)), record: fresh };
    }
  }
}

function storedOf(record: FileRecord): StoredDocument {
  return {
    id: record.document_id,
    accessHash: record.access_hash,
    fileReference: Buffer.from(record.file_reference),
    dcId: record.dc_id,
    size: record.size,
    mimeType: record.mime_type ?? "application/octet-stream",
  };
}

function jobOptions(job: Job): JobOptions {
  try {
    return JSON.parse(job.options) as JobOptions;
  } catch {
    return {}; // a row written by hand: defaults
  }
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

async function isComplete(file: string, expected: number | null): Promise<boolean> {
  try {
    const { size } = await stat(file);
    return expected === null || size === expected;
  } catch {
    return false; // gone: fetch again
  }
}

async function sha256File(file: string, signal: AbortSignal): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash, { signal });
  return hash.digest("hex");
}

function throttledProgress(db: Db, jobId: number): (bytes: number, total: number | null) => void {
  let last = 0;
  return (bytes, total) => {
    const now = Date.now();
    if (now - last < PROGRESS_EVERY_MS && bytes !== total) return;
    last = now;
    recordProgress(db, jobId, bytes, total).catch(() => undefined); // progress is advisory
  };
}
