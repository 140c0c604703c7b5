/**
 * The deliver step: prepare once (prepare.ts), upload each part once (resuming from acknowledged parts), then send
 * by reference to the destination and to every log channel, as albums where Telegram allows, each send with a
 * random_id stored before the call. A crash between a send and its record makes the re-send a RANDOM_ID_DUPLICATE,
 * which counts as delivered.
 */
import { rm } from "node:fs/promises";
import { markDelivered, planDelivery } from "../db/deliveries.js";
import { findFileByContent, recordFile } from "../db/files.js";
import { getBatch } from "../db/jobs.js";
import type { Delivery, FileRecord, Job } from "../db/schema.js";
import { getUserSettings } from "../db/settings.js";
import { getUser } from "../db/users.js";
import { UploadError } from "../errors.js";
import { isLocalSource } from "../fetch/local-file.js";
import type { TelegramGateway } from "../telegram/gateway.js";
import type { StoredDocument } from "../telegram/send.js";
import { PART_SIZE } from "../telegram/upload-plan.js";
import type { UploadedFile, UploadOptions } from "../telegram/uploader.js";
import { albumGroups } from "./album.js";
import { DEFAULT_CAPTION_TEMPLATE, renderCaption } from "./caption.js";
import { jobOptions } from "./job-options.js";
import { throttledProgress } from "./job-progress.js";
import { renderLogCard } from "./log-card.js";
import { mergeBatchId } from "./merge.js";
import { overlappedUpload } from "./overlap.js";
import { type PreparedPart, prepareParts, SUBTITLE_MIME } from "./prepare.js";
import type { JobSteps, StepContext } from "./runner.js";
import type { StepDeps } from "./steps.js";
import { type SavedUpload, trackUpload } from "./upload-resume.js";

/** Telegram refuses a stored document whose reference went stale with one of these: upload it again. */
export const STALE_REFERENCE = /^(FILE_REFERENCE_(EXPIRED|INVALID)|MEDIA_INVALID|MEDIA_EMPTY)$/;
/** A resumed upload whose saved parts Telegram no longer has: upload it afresh under a new file id. */
const PARTS_GONE = /^(FILE_PARTS_INVALID|FILE_PART_\d+_MISSING)$/;
/**
 * Parts a resumed upload re-saves one by one when Telegram reports them missing; past this the saved parts are
 * taken as expired (a fresh upload at full speed beats re-saving part after part on one connection).
 */
const RESUMED_PART_RESAVES = 4;
/** A log channel that refuses posts is skipped (and reported), never a reason to fail the job. */
export const LOG_REFUSED =
  /^(CHAT_WRITE_FORBIDDEN|CHAT_ADMIN_REQUIRED|CHANNEL_PRIVATE|CHANNEL_INVALID|USER_BANNED_IN_CHANNEL|CHAT_SEND_MEDIA_FORBIDDEN|PEER_ID_INVALID|CHAT_UNKNOWN)$/;

/** What deliver keeps in jobs.checkpoint to resume. */
interface Checkpoint {
  parts?: PreparedPart[];
  /** files.id per part, once uploaded. */
  files?: Record<string, number>;
  /** Every send went out; only clean-up is left. */
  sent?: boolean;
  /** Uploads in progress per part number: file id and acknowledged parts, to resume after a crash. */
  uploads?: Record<string, SavedUpload>;
}

/** Where one part's upload progress is kept between attempts. */
interface UploadSlot {
  saved: SavedUpload | undefined;
  write(saved: SavedUpload | undefined): Promise<void>;
}

/** A part of an album being delivered: its stored document (replaced if Telegram refuses it) and texts. */
interface AlbumPart {
  number: number;
  part: PreparedPart;
  record: FileRecord;
  texts: { caption: string; logCard: string };
}

/** An album part one target has not got yet, with its planned delivery (random_id) and caption there. */
interface PendingSend {
  item: AlbumPart;
  delivery: Delivery;
  caption: string;
}

export function createDeliverStep(deps: StepDeps, fileLimit: number): JobSteps["deliver"] {
  const { db, gateway } = deps;
  /** Per delivery run (its context): bytes of the parts before the one uploading, and of all parts. */
  const uploadBase = new WeakMap<StepContext, { before: number; total: number }>();
  const prepare = (job: Job, ctx: StepContext) =>
    prepareParts({ media: deps.media, fileLimit, premium: deps.premium }, job, ctx);

  return async (job, ctx) => {
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
      const targets: Array<{ chatId: number; target: "destination" | "log" }> = [
        { chatId: job.destination_chat_id, target: "destination" },
        ...logChats.map((chatId) => ({ chatId, target: "log" as const })),
      ];
      // Parts go out in order, as albums where Telegram allows (up to 10 of one kind), each target in turn.
      for (const group of albumGroups(parts.map((p) => p.kind))) {
        const items: AlbumPart[] = [];
        for (const number of group) {
          const part = parts[number - 1] as PreparedPart;
          // Progress counts the whole job (every part), not the part alone: the status shows one bar per job.
          uploadBase.set(ctx, {
            before: parts.slice(0, number - 1).reduce((sum, p) => sum + p.size, 0),
            total: parts.reduce((sum, p) => sum + p.size, 0),
          });
          const record = await storedFile(job, part, ctx, {
            saved: checkpoint.uploads?.[number],
            write: async (saved) => {
              checkpoint.uploads ??= {};
              if (saved) checkpoint.uploads[number] = saved;
              else delete checkpoint.uploads[number];
              await save("uploading");
              deps.crashPoint?.("deliver.upload-saved");
            },
          });
          if (checkpoint.files[number] !== record.id || checkpoint.uploads?.[number]) {
            checkpoint.files[number] = record.id;
            if (checkpoint.uploads) delete checkpoint.uploads[number];
            await save("sending");
          }
          // "subs file": a subtitle file is not a part of the video; the video's own part count stays.
          const subtitle = part.mimeType === SUBTITLE_MIME;
          const videoParts = parts.filter((p) => p.mimeType !== SUBTITLE_MIME).length;
          const texts = await captionsFor(job, part, subtitle ? 1 : number, subtitle ? 1 : videoParts);
          items.push({ number, part, record, texts });
        }
        for (const { chatId, target } of targets) {
          const pending: PendingSend[] = [];
          for (const item of items) {
            const delivery = await planDelivery(db, { jobId: job.id, part: item.number, chatId, target });
            if (delivery.message_id !== null) continue;
            const caption = target === "destination" ? item.texts.caption : item.texts.logCard;
            pending.push({ item, delivery, caption });
          }
          if (pending.length === 0) continue;
          try {
            await sendPending(pending, chatId, ctx);
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
    const total = checkpoint.parts?.reduce((sum, p) => sum + p.size, 0) ?? job.bytes_total ?? job.bytes_done;
    return { upload_ms: Date.now() - started, bytes_total: total, bytes_done: total };
  };

  /**
   * The account that uploads and sends a part. A part the Premium session uploaded goes out through it to the log
   * channels too: the bot cannot send another account's document by reference, and a forward needs a chat both
   * see, which a private destination is not.
   */
  function gatewayFor(part: PreparedPart | undefined): TelegramGateway {
    if (part?.account !== "user") return gateway;
    if (!deps.premium) {
      throw new UploadError(
        "PREMIUM_SESSION_UNAVAILABLE",
        "This file needs the Premium user session, which is not available now",
        { hint: "Check the session with `medusa doctor`, or log in again with `medusa login`" },
      );
    }
    return deps.premium.gateway;
  }

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
      // A local path (or merge:<id>) says nothing to the log channel's readers and may tell them more than it should.
      url:
        isLocalSource(job.source_url) || mergeBatchId(job.source_url) !== undefined ? null : job.source_url,
      type: part.kind,
      fileName: part.name,
      size: part.size,
      quality,
      duration: part.duration ?? null,
      part: partOf,
    });
    return { caption, logCard };
  }

  /** The part as a stored document: reused when this content was uploaded before, uploaded once otherwise. */
  async function storedFile(
    job: Job,
    part: PreparedPart,
    ctx: StepContext,
    slot?: UploadSlot,
  ): Promise<FileRecord> {
    if (!jobOptions(job).fresh) {
      const known = await findFileByContent(db, part.sha256, part.size, part.account ?? "bot");
      if (known) return known;
    }
    return upload(job, part, ctx, slot);
  }

  /**
   * Uploads the part and stores it as a document. With a slot, the file id and acknowledged parts are saved as they
   * arrive and a later attempt resumes from them; when Telegram no longer has them, the part is uploaded afresh.
   */
  async function upload(
    job: Job,
    part: PreparedPart,
    ctx: StepContext,
    slot?: UploadSlot,
  ): Promise<FileRecord> {
    const record = throttledProgress(db, job.id);
    const base = uploadBase.get(ctx);
    const progress = (bytes: number, total: number | null) =>
      base ? record(base.before + bytes, base.total) : record(bytes, total);
    const tracker = slot
      ? trackUpload({
          saved: slot.saved,
          part,
          partCount: Math.ceil(part.size / PART_SIZE),
          write: slot.write,
          onError: (error) =>
            ctx.log.warn({ err: error }, "upload progress not saved; a retry re-sends more"),
        })
      : undefined;
    const send = async (resume: UploadOptions["resume"]) => {
      try {
        return await gatewayFor(part).uploadFile(part.path, {
          fileName: part.name,
          ...(part.account === "user" ? { premium: true } : {}),
          signal: ctx.signal,
          onProgress: (bytes, total) => progress(bytes, total),
          ...(resume ? { resume } : {}),
          ...(tracker ? { onPartAcknowledged: tracker.acknowledged } : {}),
        });
      } finally {
        await tracker?.flush();
      }
    };
    const resume = tracker?.resume;
    if (resume) {
      ctx.log.info(
        { part: part.name, acknowledged: resume.acknowledgedParts.length },
        "resuming the upload from its saved parts",
      );
    }
    let stored: StoredDocument;
    try {
      // Overlap hook: the fetch step may have uploaded this very file while downloading it.
      const overlapped = part.account === "user" ? undefined : await overlappedUpload(job, part);
      stored = await storeDocument(
        job,
        part,
        overlapped ?? (await send(resume)),
        ctx,
        resume ? RESUMED_PART_RESAVES : undefined,
      );
    } catch (error) {
      if (!resume || !tracker || !PARTS_GONE.test(telegramCode(error))) throw error;
      ctx.log.info({ code: telegramCode(error) }, "the saved parts are gone; uploading afresh");
      tracker.reset();
      stored = await storeDocument(job, part, await send(undefined), ctx);
    }
    deps.crashPoint?.("deliver.uploaded");
    return recordFile(db, {
      sha256: part.sha256,
      size: part.size,
      name: part.name,
      mime_type: part.mimeType,
      kind: part.kind,
      account: part.account ?? "bot",
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

  /** messages.uploadMedia: the uploaded part as a document with its attributes and thumbnail, posted nowhere. */
  function storeDocument(
    job: Job,
    part: PreparedPart,
    uploaded: UploadedFile,
    ctx: StepContext,
    maxPartResaves?: number,
  ): Promise<StoredDocument> {
    return gatewayFor(part).storeDocument(job.destination_chat_id, {
      file: uploaded,
      fileName: part.name,
      mimeType: part.mimeType,
      signal: ctx.signal,
      ...(maxPartResaves !== undefined ? { maxPartResaves } : {}),
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
  }

  /**
   * Sends what one target still lacks of an album: a lone part as one message, two or more as one album, each
   * item with the random_id its delivery row holds. The album is recorded in one transaction, so after a crash it
   * is either all recorded or all sent again (and then dropped by Telegram as a duplicate).
   */
  async function sendPending(pending: PendingSend[], chatId: number, ctx: StepContext): Promise<void> {
    if (pending.length === 1) {
      const [{ item, delivery, caption }] = pending as [PendingSend];
      const sent = await sendWithFallback(
        item.record,
        item.part,
        chatId,
        BigInt(delivery.random_id),
        caption,
        ctx,
      );
      item.record = sent.record;
      deps.crashPoint?.("deliver.sent");
      // A duplicate was posted by an earlier attempt whose record was lost: its id is unknown (0).
      await markDelivered(db, delivery.id, sent.messageId ?? 0, item.record.id);
      return;
    }
    const send = () =>
      gatewayFor(pending[0]?.item.part).sendAlbum(
        chatId,
        pending.map(({ item, delivery, caption }) => ({
          document: storedOf(item.record),
          randomId: BigInt(delivery.random_id),
          caption,
        })),
        { html: true, signal: ctx.signal },
      );
    let sent: Awaited<ReturnType<typeof send>>;
    try {
      sent = await send();
    } catch (error) {
      const code = (error as { code?: string }).code ?? "";
      if (!STALE_REFERENCE.test(code)) throw error;
      ctx.log.info({ code, parts: pending.length }, "stored documents refused; uploading the album again");
      for (const { item } of pending) {
        const job = { source_url: item.record.source_url ?? "", destination_chat_id: chatId } as Job;
        item.record = await upload(job, item.part, ctx);
      }
      sent = await send();
    }
    deps.crashPoint?.("deliver.sent");
    await db.transaction().execute(async (trx) => {
      for (const [index, { item, delivery }] of pending.entries()) {
        await markDelivered(trx, delivery.id, sent.messageIds[index] ?? 0, item.record.id);
      }
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
      gatewayFor(part).sendDocument(chatId, storedOf(r), {
        randomId,
        caption,
        html: true,
        signal: ctx.signal,
      });
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

/** Telegram's error name, whether the error is gramjs's own (errorMessage) or ours (code). */
function telegramCode(error: unknown): string {
  const { errorMessage, code } = (error ?? {}) as { errorMessage?: unknown; code?: unknown };
  if (typeof errorMessage === "string") return errorMessage;
  return typeof code === "string" ? code : "";
}

export function storedOf(record: FileRecord): StoredDocument {
  return {
    id: record.document_id,
    accessHash: record.access_hash,
    fileReference: Buffer.from(record.file_reference),
    dcId: record.dc_id,
    size: record.size,
    mimeType: record.mime_type ?? "application/octet-stream",
  };
}
