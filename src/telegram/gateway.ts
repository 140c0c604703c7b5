/**
 * The one way the rest of Medusa talks to Telegram: our types in, our types out. Only src/telegram/ knows gramjs.
 * Chat ids are Bot API style (user > 0, basic group -id, channel -100…id), as operators know them.
 */
import type { PeerKind, TelegramAccount } from "../db/schema.js";
import type { SendFileParams, SentFile, StoredDocument } from "./send.js";
import type { UploadedFile, UploadOptions } from "./uploader.js";

export interface Sender {
  id: number;
  username: string | undefined;
  firstName: string | undefined;
  lastName: string | undefined;
  /** IETF language tag Telegram reports for the user (to bots only), e.g. "en", "ru". */
  languageCode: string | undefined;
  isBot: boolean;
}

/** A file a user sent (a .txt batch, a custom thumbnail), to fetch with `downloadFile`. */
export interface IncomingFile {
  kind: "document" | "photo";
  name: string | undefined;
  size: number;
  mimeType: string | undefined;
  /** Opaque: what Telegram needs to hand the file out again. */
  location: FileLocation;
}

export interface FileLocation {
  kind: "document" | "photo";
  id: string;
  accessHash: string;
  fileReference: Buffer;
  dcId: number;
  /** For photos: the size type to fetch ("y", "x" …). */
  thumbSize: string;
}

export interface TextEntity {
  type: "bold" | "italic" | "code" | "pre" | "url" | "text_url" | "mention" | "bot_command" | "other";
  offset: number;
  length: number;
  url?: string;
}

interface IncomingBase {
  /** Stable id of the update ("msg:<chat>:<id>", "cb:<query>"): the same update always has the same key. */
  key: string;
  /** An earlier handling of this update did not finish (the process died inside the handler). */
  redelivered: boolean;
  chatId: number;
  chatKind: PeerKind;
  from: Sender;
}

export interface IncomingMessage extends IncomingBase {
  kind: "message";
  messageId: number;
  /** Unix seconds. */
  date: number;
  text: string;
  entities: TextEntity[];
  replyToMessageId: number | undefined;
  file: IncomingFile | undefined;
}

export interface IncomingCallback extends IncomingBase {
  kind: "callback";
  queryId: string;
  messageId: number;
  data: string;
}

export type Incoming = IncomingMessage | IncomingCallback;

export interface Button {
  text: string;
  /** Callback data, at most 64 bytes. */
  data?: string;
  url?: string;
}

export interface TextOptions {
  /** The text is Telegram HTML (<b>, <i>, <code>, <a href>…); escape what comes from users. @default false */
  html?: boolean;
  /** Rows of inline buttons; an empty array removes the keyboard on edit. */
  buttons?: Button[][];
  replyTo?: number;
  silent?: boolean;
  /** @default false */
  linkPreview?: boolean;
}

export interface BotCommand {
  command: string;
  description: string;
}

export type CommandScope =
  | { type: "default" }
  | { type: "private" }
  | { type: "admins" }
  | { type: "chat"; chatId: number };

export interface ChatInfo {
  id: number;
  kind: PeerKind;
  title: string;
  username: string | undefined;
}

export type PostCheck = { ok: true } | { ok: false; reason: "not_member" | "no_rights" | "unknown_chat" };

export type ConnectionState = "connected" | "connecting" | "disconnected";

export interface TelegramGateway {
  readonly account: TelegramAccount;
  readonly me: { id: number; username: string | undefined; premium: boolean };
  /** Catches up on what was missed, then hands every new update to `handler`, one at a time, in order. */
  start(handler: (incoming: Incoming) => Promise<void>): Promise<void>;
  sendText(chatId: number, text: string, options?: TextOptions): Promise<{ messageId: number }>;
  /** "unchanged" when Telegram says the message already reads so (MESSAGE_NOT_MODIFIED). */
  editText(
    chatId: number,
    messageId: number,
    text: string,
    options?: TextOptions,
  ): Promise<"edited" | "unchanged">;
  deleteMessages(chatId: number, messageIds: number[]): Promise<void>;
  answerCallback(queryId: string, options?: { text?: string; alert?: boolean }): Promise<void>;
  setCommands(
    commands: BotCommand[],
    options?: { languageCode?: string; scope?: CommandScope },
  ): Promise<void>;
  /** "@name", "t.me/name", "-100123…" or a user id we have seen. */
  resolveChat(ref: string | number): Promise<ChatInfo>;
  /** May this account post in `chatId`? */
  canPost(chatId: number): Promise<PostCheck>;
  /** The file attached to a message of a chat the bot is in (the .txt a /batch replies to); undefined if none. */
  messageFile(chatId: number, messageId: number): Promise<IncomingFile | undefined>;
  /** Fetches a file a user sent into memory; refuses files over `maxBytes` before fetching a byte. */
  downloadFile(file: IncomingFile, options: { maxBytes: number; signal?: AbortSignal }): Promise<Buffer>;
  /**
   * Fetches a stored document (one this account sent) into `path`, chunk by chunk, never into memory. An error coded
   * FILE_REFERENCE_EXPIRED means: refresh the document (`refreshDocument`) and try again.
   */
  downloadDocument(
    document: StoredDocument,
    path: string,
    options?: { signal?: AbortSignal; onProgress?: (bytes: number, total: number) => void },
  ): Promise<void>;
  uploadFile(path: string, options?: UploadOptions): Promise<UploadedFile>;
  sendFile(chatId: number, params: Omit<SendFileParams, "peer">): Promise<SentFile>;
  /** Turns an uploaded file into a stored document once (posting nothing), to send by reference after. */
  storeDocument(
    chatId: number,
    params: Omit<SendFileParams, "peer" | "randomId" | "caption">,
  ): Promise<StoredDocument>;
  /**
   * Sends a stored document by reference with a caller-stored random_id; `duplicate` when an earlier attempt with
   * that id already posted it. FILE_REFERENCE_EXPIRED / MEDIA_INVALID mean: store the file again.
   */
  sendDocument(
    chatId: number,
    document: StoredDocument,
    options: { randomId: bigint; caption?: string; html?: boolean; signal?: AbortSignal },
  ): Promise<{ messageId: number | undefined; duplicate: boolean }>;
  /**
   * Sends stored documents by reference as one album (1 to 10 of one kind), each with its caller-stored random_id
   * and caption, in order; `duplicate` when an earlier attempt with these ids already posted it (no ids known then).
   */
  sendAlbum(
    chatId: number,
    items: Array<{ document: StoredDocument; randomId: bigint; caption?: string }>,
    options: { html?: boolean; signal?: AbortSignal },
  ): Promise<{ messageIds: (number | undefined)[]; duplicate: boolean }>;
  /**
   * Sends text with a caller-stored random_id, for a message that must go out once across crashes (a batch's
   * summary); `duplicate` when an earlier attempt with that id already posted it (its id is then unknown).
   */
  sendTextOnce(
    chatId: number,
    text: string,
    options: { randomId: bigint; html?: boolean; signal?: AbortSignal },
  ): Promise<{ messageId: number | undefined; duplicate: boolean }>;
  /**
   * Asks for a stored document again by reference (messages.uploadMedia; nothing is posted, nothing uploaded): the
   * document with a fresh file reference, or an error coded FILE_REFERENCE_EXPIRED / MEDIA_INVALID when Telegram
   * no longer accepts it (upload the file again).
   */
  refreshDocument(
    chatId: number,
    document: StoredDocument,
    options?: { signal?: AbortSignal },
  ): Promise<StoredDocument>;
  connectionState(): ConnectionState;
  onConnectionState(listener: (state: ConnectionState) => void): () => void;
  stop(): Promise<void>;
}
