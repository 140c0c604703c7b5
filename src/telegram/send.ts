/**
 * Sends an uploaded file as a message: media attributes (so a video plays inline with its size and duration),
 * a JPEG thumbnail, a caption, and a caller-persisted random_id so that a re-send after a crash is dropped by
 * Telegram instead of posting twice. FILE_PART_X_MISSING (Telegram lost a saved part) re-saves that part.
 */
import { open } from "node:fs/promises";
import { Api, errors, helpers, type TelegramClient } from "telegram";
import { UploadError } from "../errors.js";
import { abortableSleep, throwIfAborted, withDeadline } from "../lib/abort.js";
import { type MainSender, mainSender } from "./gramjs-internals.js";
import { isRpcError } from "./upload-connection.js";
import { resavePart, type UploadedFile, type UploadOptions, uploadFile } from "./uploader.js";

/** Telegram shows no thumbnail above this (and 320 px a side): checked before uploading it. */
const MAX_THUMBNAIL_BYTES = 200 * 1024;
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);
/** Telegram reports one missing part per answer; a file missing more than this is lost, re-upload it. */
const MAX_PART_RESAVES = 16;
const FILE_PART_MISSING = /^FILE_PART_(\d+)_MISSING$/;
/** Telegram's answer (a 500) to a random_id it has seen: the earlier send went through. */
const RANDOM_ID_DUPLICATE = "RANDOM_ID_DUPLICATE";
/** FLOOD_WAIT on send: waited out up to this long, else thrown for the job to reschedule. */
const MAX_SEND_FLOOD_WAIT_S = 300;
const MAX_FLOOD_RETRIES = 3;
/**
 * Telegram answers a send in well under a second, a big file's in seconds. Past this the answer is lost (gramjs
 * can lose a request across a reconnect): the job fails with SEND_TIMEOUT and its retry sends again, which the
 * random_id makes harmless. Without a bound, one lost answer held the deliver lane until the step's time limit.
 */
export const DEFAULT_SEND_TIMEOUT_MS = 300_000;

/**
 * Sends on the client's own connection. Not `client.invoke`: it retries 500s five times, 2 s apart, and then
 * throws a generic error, so RANDOM_ID_DUPLICATE (a 500) would cost 10 s and be lost.
 */
function connectedSender(client: TelegramClient): MainSender {
  const sender = mainSender(client);
  if (!sender) throw new UploadError("SEND_NOT_CONNECTED", "The Telegram client is not connected");
  return sender;
}

export interface VideoAttributes {
  durationSeconds: number;
  width: number;
  height: number;
  /** The client may play it before it is fully downloaded (moov atom at the start). */
  supportsStreaming: boolean;
}

export interface AudioAttributes {
  durationSeconds: number;
  title?: string;
  performer?: string;
}

export interface SendFileParams {
  /** Where to send: anything gramjs resolves to an input peer (id, username, InputPeer). */
  peer: Api.TypeInputPeer | string | number | bigint;
  file: UploadedFile;
  /** Persisted by the caller before the first attempt: the same id on a re-send makes Telegram drop it. */
  randomId: bigint;
  caption?: string;
  mimeType?: string;
  /** @default the uploaded file's name */
  fileName?: string;
  video?: VideoAttributes;
  audio?: AudioAttributes;
  /** Path of a JPEG thumbnail (<= 320 px a side, < 200 KB); uploaded along with the message. */
  thumbnailPath?: string;
  /** Send as a plain file even if it is a video or audio. @default false */
  forceDocument?: boolean;
  signal?: AbortSignal;
  /** How long one call may wait for Telegram's answer. @default DEFAULT_SEND_TIMEOUT_MS */
  timeoutMs?: number;
  /** Options for the thumbnail upload and part re-saves. */
  upload?: Pick<UploadOptions, "premium">;
  /**
   * FILE_PART_X_MISSING answers re-saved before the error reaches the caller. A resumed upload sets it low: many
   * missing parts mean the saved parts expired, and a fresh upload is faster than re-saving them one by one.
   * @default 16
   */
  maxPartResaves?: number;
}

export interface SentFile {
  /** Undefined when Telegram dropped the send as a duplicate (this random_id was sent before). */
  messageId: number | undefined;
  /** The random_id was already used: the message exists from an earlier attempt, nothing new was posted. */
  duplicate: boolean;
  /** The document as Telegram stored it, to re-send by id to log channels without uploading again. */
  document: Api.Document | undefined;
}

function checkParams(params: SendFileParams): void {
  if (typeof params.randomId !== "bigint") {
    throw new TypeError(`Expected \`randomId\` to be a bigint, got ${typeof params.randomId}`);
  }
  if (params.randomId === 0n || BigInt.asIntN(64, params.randomId) !== params.randomId) {
    throw new TypeError(
      `Expected \`randomId\` to be a non-zero signed 64-bit integer, got ${params.randomId}`,
    );
  }
  if (params.video && params.audio) {
    throw new TypeError("Expected at most one of `video` and `audio`, got both");
  }
  for (const [name, value] of Object.entries(params.video ?? {})) {
    if (name === "supportsStreaming") continue;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new TypeError(`Expected \`video.${name}\` to be a non-negative number, got ${String(value)}`);
    }
  }
}

async function checkThumbnail(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(JPEG_MAGIC.length);
    await handle.read(head, 0, head.length, 0);
    if (!head.equals(JPEG_MAGIC)) {
      throw new UploadError("THUMBNAIL_INVALID", `Expected a JPEG thumbnail, got another format in ${path}`);
    }
    if (size >= MAX_THUMBNAIL_BYTES) {
      throw new UploadError("THUMBNAIL_INVALID", `Expected a thumbnail under 200 KB, got ${size} bytes`);
    }
  } finally {
    await handle.close();
  }
}

function attributesOf(params: Omit<SendFileParams, "randomId" | "caption">): Api.TypeDocumentAttribute[] {
  const attributes: Api.TypeDocumentAttribute[] = [
    new Api.DocumentAttributeFilename({ fileName: params.fileName ?? params.file.name }),
  ];
  if (params.video) {
    attributes.push(
      new Api.DocumentAttributeVideo({
        duration: params.video.durationSeconds,
        w: Math.round(params.video.width),
        h: Math.round(params.video.height),
        supportsStreaming: params.video.supportsStreaming,
      }),
    );
  }
  if (params.audio) {
    attributes.push(
      new Api.DocumentAttributeAudio({
        duration: Math.round(params.audio.durationSeconds),
        title: params.audio.title,
        performer: params.audio.performer,
      }),
    );
  }
  return attributes;
}

/** The message Telegram created, from the Updates that messages.sendMedia returns. */
function sentMessage(result: Api.TypeUpdates, randomId: bigint): SentFile {
  if (result instanceof Api.UpdateShortSentMessage) {
    return { messageId: result.id, document: undefined, duplicate: false };
  }
  const updates = "updates" in result ? result.updates : "update" in result ? [result.update] : [];
  let messageId: number | undefined;
  for (const update of updates) {
    if (update instanceof Api.UpdateMessageID && update.randomId?.toString() === randomId.toString()) {
      messageId = update.id;
    }
  }
  for (const update of updates) {
    if (
      (update instanceof Api.UpdateNewMessage ||
        update instanceof Api.UpdateNewChannelMessage ||
        update instanceof Api.UpdateNewScheduledMessage) &&
      update.message instanceof Api.Message &&
      (messageId === undefined || update.message.id === messageId)
    ) {
      const media = update.message.media;
      const document =
        media instanceof Api.MessageMediaDocument && media.document instanceof Api.Document
          ? media.document
          : undefined;
      return { messageId: update.message.id, document, duplicate: false };
    }
  }
  if (messageId !== undefined) return { messageId, document: undefined, duplicate: false };
  throw new UploadError(
    "SEND_NO_MESSAGE",
    `Telegram answered the send with ${result.className} and no message`,
  );
}

/**
 * Sends `params.file` (from uploadFile) to `params.peer`. Telegram drops a second send with the same
 * `randomId`, so a job that crashed between sending and recording can safely send again.
 */
export async function sendFile(client: TelegramClient, params: SendFileParams): Promise<SentFile> {
  checkParams(params);
  const { peer, media, thumb } = await uploadedMedia(client, params);
  const request = () =>
    new Api.messages.SendMedia({
      peer,
      media,
      message: params.caption ?? "",
      randomId: helpers.returnBigInt(params.randomId),
    });
  try {
    const result = (await withResaves(client, params, thumb, request)) as Api.TypeUpdates;
    return sentMessage(result, params.randomId);
  } catch (error) {
    if (isRpcError(error) && error.errorMessage === RANDOM_ID_DUPLICATE) {
      return { messageId: undefined, document: undefined, duplicate: true };
    }
    throw error;
  }
}

/** The peer and the uploaded-document media of a send, with its thumbnail uploaded first when there is one. */
async function uploadedMedia(
  client: TelegramClient,
  params: Omit<SendFileParams, "randomId" | "caption">,
): Promise<{
  peer: Api.TypeInputPeer;
  media: Api.InputMediaUploadedDocument;
  thumb: UploadedFile | undefined;
}> {
  throwIfAborted(params.signal);
  let thumb: UploadedFile | undefined;
  if (params.thumbnailPath !== undefined) {
    await checkThumbnail(params.thumbnailPath);
    thumb = await uploadFile(client, params.thumbnailPath, {
      connections: 1,
      inFlight: 1,
      signal: params.signal,
      premium: params.upload?.premium,
    });
  }
  const peer = await client.getInputEntity(params.peer as never);
  const media = new Api.InputMediaUploadedDocument({
    file: params.file.inputFile,
    thumb: thumb?.inputFile,
    mimeType: params.mimeType ?? "application/octet-stream",
    attributes: attributesOf(params),
    forceFile: params.forceDocument || undefined,
  });
  return { peer, media, thumb };
}

/** A document Telegram stores: enough to send it again by reference, with no upload. */
export interface StoredDocument {
  id: string;
  accessHash: string;
  fileReference: Buffer;
  dcId: number;
  size: number;
  mimeType: string;
}

/**
 * Uploads `params.file` into a document once (messages.uploadMedia) without posting it anywhere; the document is
 * then sent by reference to the destination and each log channel. Re-saves parts Telegram reports missing.
 */
export async function uploadMedia(
  client: TelegramClient,
  params: Omit<SendFileParams, "randomId" | "caption">,
): Promise<StoredDocument> {
  const { peer, media: uploaded, thumb } = await uploadedMedia(client, params);
  const request = () => new Api.messages.UploadMedia({ peer, media: uploaded });
  const media = (await withResaves(client, params, thumb, request)) as Api.TypeMessageMedia;
  if (!(media instanceof Api.MessageMediaDocument) || !(media.document instanceof Api.Document)) {
    throw new UploadError("UPLOAD_NO_DOCUMENT", `Telegram answered uploadMedia with ${media.className}`);
  }
  const d = media.document;
  return {
    id: d.id.toString(),
    accessHash: d.accessHash.toString(),
    fileReference: Buffer.from(d.fileReference),
    dcId: d.dcId,
    size: Number(d.size.toString()),
    mimeType: d.mimeType,
  };
}

export interface SendStoredParams {
  peer: Api.TypeInputPeer;
  document: StoredDocument;
  /** Persisted by the caller before the first attempt. */
  randomId: bigint;
  caption?: string;
  entities?: Api.TypeMessageEntity[];
  signal?: AbortSignal;
  /** @default DEFAULT_SEND_TIMEOUT_MS */
  timeoutMs?: number;
}

/**
 * Sends a stored document by reference. A duplicate random_id means an earlier attempt posted it already.
 * FILE_REFERENCE_EXPIRED and MEDIA_INVALID reach the caller, which uploads the file afresh.
 */
export async function sendStoredDocument(
  client: TelegramClient,
  params: SendStoredParams,
): Promise<Omit<SentFile, "document">> {
  const request = () =>
    new Api.messages.SendMedia({
      peer: params.peer,
      media: new Api.InputMediaDocument({
        id: new Api.InputDocument({
          id: helpers.returnBigInt(params.document.id),
          accessHash: helpers.returnBigInt(params.document.accessHash),
          fileReference: params.document.fileReference,
        }),
      }),
      message: params.caption ?? "",
      ...(params.entities && params.entities.length > 0 ? { entities: params.entities } : {}),
      randomId: helpers.returnBigInt(params.randomId),
    });
  try {
    const result = (await withResaves(client, params, undefined, request)) as Api.TypeUpdates;
    const { messageId } = sentMessage(result, params.randomId);
    return { messageId, duplicate: false };
  } catch (error) {
    if (isRpcError(error) && error.errorMessage === RANDOM_ID_DUPLICATE) {
      return { messageId: undefined, duplicate: true };
    }
    throw error;
  }
}

/** Telegram's limit on the items of one album (messages.sendMultiMedia). */
export const MAX_ALBUM_ITEMS = 10;

export interface AlbumItem {
  document: StoredDocument;
  /** Persisted by the caller before the first attempt, one per item. */
  randomId: bigint;
  caption?: string;
  entities?: Api.TypeMessageEntity[];
}

/**
 * Sends stored documents by reference as one album (messages.sendMultiMedia): 1 to 10 items of one kind (videos,
 * or documents, or audio). Telegram takes the album whole or not at all, so a re-send after a crash answers
 * RANDOM_ID_DUPLICATE and posts nothing: `duplicate` then, with no message ids.
 */
export async function sendStoredAlbum(
  client: TelegramClient,
  params: { peer: Api.TypeInputPeer; items: AlbumItem[]; signal?: AbortSignal; timeoutMs?: number },
): Promise<{ messageIds: (number | undefined)[]; duplicate: boolean }> {
  if (params.items.length < 1 || params.items.length > MAX_ALBUM_ITEMS) {
    throw new TypeError(`Expected 1 to ${MAX_ALBUM_ITEMS} album items, got ${params.items.length}`);
  }
  const request = () =>
    new Api.messages.SendMultiMedia({
      peer: params.peer,
      multiMedia: params.items.map(
        (item) =>
          new Api.InputSingleMedia({
            media: new Api.InputMediaDocument({
              id: new Api.InputDocument({
                id: helpers.returnBigInt(item.document.id),
                accessHash: helpers.returnBigInt(item.document.accessHash),
                fileReference: item.document.fileReference,
              }),
            }),
            randomId: helpers.returnBigInt(item.randomId),
            message: item.caption ?? "",
            ...(item.entities && item.entities.length > 0 ? { entities: item.entities } : {}),
          }),
      ),
    });
  try {
    const result = (await withResaves(client, params, undefined, request)) as Api.TypeUpdates;
    const updates = "updates" in result ? result.updates : "update" in result ? [result.update] : [];
    const byRandomId = new Map<string, number>();
    for (const update of updates) {
      if (update instanceof Api.UpdateMessageID && update.randomId !== undefined) {
        byRandomId.set(update.randomId.toString(), update.id);
      }
    }
    return {
      messageIds: params.items.map((item) => byRandomId.get(item.randomId.toString())),
      duplicate: false,
    };
  } catch (error) {
    if (isRpcError(error) && error.errorMessage === RANDOM_ID_DUPLICATE) {
      return { messageIds: params.items.map(() => undefined), duplicate: true };
    }
    throw error;
  }
}

/**
 * Sends `request()` on the main sender, waiting out short FLOOD_WAITs and re-saving parts Telegram lost
 * (FILE_PART_X_MISSING) in `params.file` and `thumb`. Bounded: each pass sends, or spends a re-save or a wait,
 * and each send waits at most `params.timeoutMs` for its answer (and not at all once the signal aborts).
 */
async function withResaves(
  client: TelegramClient,
  params: {
    file?: UploadedFile;
    signal?: AbortSignal | undefined;
    timeoutMs?: number | undefined;
    upload?: SendFileParams["upload"];
    maxPartResaves?: number | undefined;
  },
  thumb: UploadedFile | undefined,
  request: () => Api.AnyRequest,
): Promise<unknown> {
  const timeoutMs = params.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
  for (let resaves = 0, floods = 0; ; ) {
    throwIfAborted(params.signal);
    const sent = request();
    try {
      return await withDeadline(
        connectedSender(client).send(sent),
        timeoutMs,
        params.signal,
        () =>
          new UploadError(
            "SEND_TIMEOUT",
            `Telegram did not answer ${sent.className} within ${Math.round(timeoutMs / 1000)} s`,
          ),
      );
    } catch (error) {
      if (
        error instanceof errors.FloodWaitError &&
        error.seconds <= MAX_SEND_FLOOD_WAIT_S &&
        floods < MAX_FLOOD_RETRIES
      ) {
        floods++;
        await abortableSleep(error.seconds * 1000, params.signal);
        continue;
      }
      const missing = isRpcError(error) ? FILE_PART_MISSING.exec(error.errorMessage) : null;
      if (!missing || resaves >= (params.maxPartResaves ?? MAX_PART_RESAVES)) throw error;
      resaves++;
      const part = Number(missing[1]);
      const options = { signal: params.signal, premium: params.upload?.premium };
      const file = params.file;
      // The error does not say which file lost the part: re-save it in each file that has it.
      if (file && part < file.partCount) await resavePart(client, file, part, options);
      if (thumb && part < thumb.partCount) await resavePart(client, thumb, part, options);
      if ((!file || part >= file.partCount) && (!thumb || part >= thumb.partCount)) throw error;
    }
  }
}
