/**
 * The gateway over one logged-in gramjs client (the bot, or the user session): our calls in, our types out,
 * updates through the UpdateBox so that none is lost or handled twice, peers remembered in SQLite so that a chat
 * stays reachable after a restart.
 */
import { open } from "node:fs/promises";
import { Api, type TelegramClient } from "telegram";
import { Raw } from "telegram/events/index.js";
import { returnBigInt } from "telegram/Helpers.js";
import { UpdateConnectionState } from "telegram/network/index.js";
import type { Db } from "../db/database.js";
import { findPeerByUsername, getPeer, savePeers } from "../db/peers.js";
import type { TelegramAccount } from "../db/schema.js";
import { abortableSleep, throwIfAborted, withDeadline } from "../lib/abort.js";
import { backoffDelay } from "../lib/backoff.js";
import { randomLong } from "../lib/ids.js";
import type { Logger } from "../logger.js";
import { bigId, channelIdOf, chatInfo, usernameOf } from "./chat-ref.js";
import { disconnectClient } from "./connect.js";
import type {
  BotCommand,
  CommandScope,
  ConnectionState,
  Incoming,
  IncomingFile,
  PostCheck,
  TelegramGateway,
} from "./gateway.js";
import { fileOf, markedId, normalise, peersOf } from "./incoming.js";
import { entitiesOfResult, formatText, keyboard, ptsOfResult, sentMessageId } from "./outgoing.js";
import { sendFile, sendStoredAlbum, sendStoredDocument, uploadMedia } from "./send.js";
import { sendTextOnce } from "./send-text.js";
import { asTelegramError, floodSeconds, TelegramError } from "./telegram-error.js";
import { UpdateBox } from "./update-box.js";
import { uploadFile } from "./uploader.js";

/** FLOOD_WAIT up to this long is waited out for calls that are not edits; longer ones reach the caller. */
const MAX_INLINE_FLOOD_WAIT_S = 30;
const MAX_FLOOD_RETRIES = 3;
/** Telegram answers in well under a second; past this a call is lost (gramjs drops some during reconnects). */
const CALL_TIMEOUT_MS = 60_000;
/** How often the connection is looked at, and how long it may stay down before we reconnect ourselves. */
const WATCH_INTERVAL_MS = 2_000;
const RECONNECT_AFTER_MS = 5_000;
const MAX_RECONNECT_BACKOFF_MS = 60_000;
/** Chats a second account reads from its dialogs to learn their access hashes (one request's worth). */
const DIALOGS_TO_LEARN = 100;
/** A file a user sends to the bot is small (.txt batch, thumbnail); this bounds a stuck download. */
const DOWNLOAD_TIMEOUT_MS = 120_000;
/** upload.getFile's largest request that 1 MiB divides: fewer round trips for stored videos. */
const DOWNLOAD_CHUNK_BYTES = 512 * 1024;

export interface GatewayOptions {
  client: TelegramClient;
  db: Db;
  log: Logger;
  account: TelegramAccount;
  crashPoint?: (name: string) => void;
  /** Telegram asked to wait before `method` (a request's class name) again: for metrics. */
  onFloodWait?: (method: string, seconds: number) => void;
  /**
   * Where access hashes live. "database": the peers table (the bot's; kept across restarts). "client": gramjs's own
   * cache, filled by this client's answers — for a second account (the user session), whose access hashes differ
   * from the bot's: it must neither read the bot's nor overwrite them with its own. @default "database"
   */
  peers?: "database" | "client";
}

export async function createGateway(options: GatewayOptions): Promise<TelegramGateway> {
  const { client, db, log, account } = options;
  const ownPeers = options.peers !== "client";
  const knownPeer = (id: number) => (ownPeers ? getPeer(db, id) : Promise.resolve(undefined));
  const knownUsername = (name: string) =>
    ownPeers ? findPeerByUsername(db, name) : Promise.resolve(undefined);
  const rememberPeers = (peers: Parameters<typeof savePeers>[1]) =>
    ownPeers ? savePeers(db, peers) : Promise.resolve();
  // Edits must see FLOOD_WAIT at once (the status message backs off, jobs do not); call() waits the rest out.
  client.floodSleepThreshold = 0;
  const self = await client.getMe();
  const me = {
    id: Number(self.id.toString()),
    username: self.username ?? undefined,
    premium: self.premium ?? false,
  };
  let state: ConnectionState = "connected";
  const listeners = new Set<(state: ConnectionState) => void>();
  let box: UpdateBox | undefined;
  let rawHandler: ((update: unknown) => Promise<void>) | undefined;
  const rawEvent = new Raw({});

  async function call<R>(request: Api.AnyRequest, mode: "wait" | "throw" = "wait"): Promise<R> {
    for (let attempt = 0; ; attempt++) {
      try {
        // gramjs can lose a request queued while it reconnects (its promise never settles): bound every call.
        return (await withDeadline(
          client.invoke(request as never) as Promise<R>,
          CALL_TIMEOUT_MS,
          undefined,
          () =>
            new TelegramError(
              "TELEGRAM_TIMEOUT",
              `No answer to ${request.className} within ${CALL_TIMEOUT_MS / 1000} s`,
            ),
        )) as R;
      } catch (error) {
        const seconds = floodSeconds(error);
        if (seconds !== undefined) options.onFloodWait?.(request.className, seconds);
        if (seconds !== undefined && mode === "wait" && seconds <= MAX_INLINE_FLOOD_WAIT_S) {
          if (attempt < MAX_FLOOD_RETRIES) {
            await abortableSleep(seconds * 1000);
            continue;
          }
        }
        throw asTelegramError(error);
      }
    }
  }

  async function inputPeer(chatId: number): Promise<Api.TypeInputPeer> {
    if (chatId === me.id) return new Api.InputPeerSelf();
    const known = await knownPeer(chatId);
    if (known?.kind === "group") return new Api.InputPeerChat({ chatId: bigId(-chatId) });
    if (known?.access_hash) {
      if (known.kind === "user") {
        return new Api.InputPeerUser({ userId: bigId(chatId), accessHash: bigId(known.access_hash) });
      }
      return new Api.InputPeerChannel({
        channelId: bigId(channelIdOf(chatId)),
        accessHash: bigId(known.access_hash),
      });
    }
    try {
      return await client.getInputEntity(chatId);
    } catch (cause) {
      if (ownPeers) throw new TelegramError("CHAT_UNKNOWN", `No access hash for chat ${chatId}`, { cause });
    }
    // A fresh session knows no access hashes: its dialogs hold those of its chats (gramjs caches every answer's).
    await learnDialogs();
    try {
      return await client.getInputEntity(chatId);
    } catch (cause) {
      throw new TelegramError("CHAT_UNKNOWN", `Chat ${chatId} is not among this account's chats`, { cause });
    }
  }

  let dialogsLearnt: Promise<void> | undefined;
  /** Once per gateway: later misses are chats the account is not in, or joined since (a restart learns them). */
  function learnDialogs(): Promise<void> {
    dialogsLearnt ??= call(
      new Api.messages.GetDialogs({
        offsetDate: 0,
        offsetId: 0,
        offsetPeer: new Api.InputPeerEmpty(),
        limit: DIALOGS_TO_LEARN,
        hash: returnBigInt(0),
      }),
    ).then(
      () => undefined,
      (error: unknown) => log.warn({ err: error }, "could not read the account's chats"),
    );
    return dialogsLearnt;
  }

  function acknowledgeSent(result: unknown): void {
    const pts = ptsOfResult(result);
    if (pts && box) void box.acknowledge(pts.pts, pts.count);
    const entities = entitiesOfResult(result);
    if (entities) void rememberPeers(peersOf(entities));
  }

  // gramjs stops reconnecting once its retries are refused (a long outage); from then on we call connect().
  let downSince: number | undefined;
  let reconnecting = false;
  let reconnectAttempts = 0;
  let nextReconnectAt = 0;
  const watch = setInterval(() => {
    if (state === "connected" || reconnecting || downSince === undefined) return;
    const now = Date.now();
    if (now - downSince < RECONNECT_AFTER_MS || now < nextReconnectAt) return;
    reconnecting = true;
    reconnectAttempts++;
    nextReconnectAt =
      now + backoffDelay(reconnectAttempts, { baseMs: 2_000, maxMs: MAX_RECONNECT_BACKOFF_MS, jitter: 0.25 });
    log.info({ attempt: reconnectAttempts, downMs: now - downSince }, "reconnecting to Telegram");
    client
      .connect()
      .then((connected) => {
        if (connected !== false) setState("connected");
      })
      .catch((error: unknown) => log.debug({ err: error }, "reconnect attempt failed"))
      .finally(() => {
        reconnecting = false;
      });
  }, WATCH_INTERVAL_MS);
  watch.unref();

  function setState(next: ConnectionState): void {
    if (next === state) return;
    const previous = state;
    state = next;
    if (next === "connected") {
      downSince = undefined;
      reconnectAttempts = 0;
      nextReconnectAt = 0;
    } else {
      downSince ??= Date.now();
    }
    log.info({ from: previous, to: next }, "telegram connection");
    for (const listener of listeners) listener(next);
    // Whatever was pushed while the connection was down is only reachable through getDifference.
    if (next === "connected" && previous !== "connected" && box) {
      box.catchUp("reconnect").catch((error: unknown) => log.warn({ err: error }, "catch-up failed"));
    }
  }

  const gateway: TelegramGateway = {
    account,
    me,

    async start(handler: (incoming: Incoming) => Promise<void>) {
      box = new UpdateBox({
        db,
        account,
        invoke: (request) => call(request),
        handler,
        log,
        selfId: me.id,
        ...(options.crashPoint ? { crashPoint: options.crashPoint } : {}),
      });
      rawHandler = async (update: unknown) => {
        if (update instanceof UpdateConnectionState) {
          setState(
            update.state === UpdateConnectionState.connected
              ? "connected"
              : update.state === UpdateConnectionState.broken
                ? "connecting"
                : "disconnected",
          );
          return;
        }
        const pushed = normalise(update, me.id);
        if (pushed && box) await box.push(pushed.update, pushed.entities).catch(() => undefined);
      };
      // Register first so nothing pushed during the catch-up is missed; the box queues it behind.
      client.addEventHandler(rawHandler, rawEvent);
      await box.start();
    },

    async sendText(chatId, text, textOptions = {}) {
      const [message, entities] = formatText(text, textOptions);
      const result = await call<Api.TypeUpdates>(
        new Api.messages.SendMessage({
          peer: await inputPeer(chatId),
          message,
          entities,
          randomId: returnBigInt(randomLong()),
          noWebpage: !textOptions.linkPreview,
          silent: textOptions.silent ?? false,
          ...(textOptions.replyTo
            ? { replyTo: new Api.InputReplyToMessage({ replyToMsgId: textOptions.replyTo }) }
            : {}),
          ...(textOptions.buttons ? { replyMarkup: keyboard(textOptions.buttons) } : {}),
        }),
      );
      acknowledgeSent(result);
      const messageId = sentMessageId(result);
      if (messageId === undefined)
        throw new TelegramError("SEND_NO_MESSAGE_ID", "Telegram sent no message id back");
      return { messageId };
    },

    async editText(chatId, messageId, text, textOptions = {}) {
      const [message, entities] = formatText(text, textOptions);
      try {
        const result = await call<Api.TypeUpdates>(
          new Api.messages.EditMessage({
            peer: await inputPeer(chatId),
            id: messageId,
            message,
            entities,
            noWebpage: !textOptions.linkPreview,
            ...(textOptions.buttons ? { replyMarkup: keyboard(textOptions.buttons) } : {}),
          }),
          "throw",
        );
        acknowledgeSent(result);
        return "edited";
      } catch (error) {
        if (error instanceof TelegramError && error.code === "MESSAGE_NOT_MODIFIED") return "unchanged";
        throw error;
      }
    },

    async deleteMessages(chatId, messageIds) {
      if (messageIds.length === 0) return;
      const peer = await inputPeer(chatId);
      if (peer instanceof Api.InputPeerChannel) {
        await call(new Api.channels.DeleteMessages({ channel: peer, id: messageIds }));
        return;
      }
      const affected = await call<Api.messages.AffectedMessages>(
        new Api.messages.DeleteMessages({ id: messageIds, revoke: true }),
      );
      if (box) void box.acknowledge(affected.pts, affected.ptsCount);
    },

    async answerCallback(queryId, answer = {}) {
      try {
        await call(
          new Api.messages.SetBotCallbackAnswer({
            queryId: bigId(queryId),
            cacheTime: 0,
            alert: answer.alert ?? false,
            ...(answer.text ? { message: answer.text } : {}),
          }),
        );
      } catch (error) {
        // A press answered too late (the query expired) is not worth failing the handler for.
        if (error instanceof TelegramError && error.code === "QUERY_ID_INVALID") {
          log.debug({ queryId }, "callback query expired before the answer");
          return;
        }
        throw error;
      }
    },

    async setCommands(commands: BotCommand[], where = {}) {
      await call(
        new Api.bots.SetBotCommands({
          scope: await commandScope(where.scope ?? { type: "default" }),
          langCode: where.languageCode ?? "",
          commands: commands.map(
            (c) => new Api.BotCommand({ command: c.command, description: c.description }),
          ),
        }),
      );
    },

    async resolveChat(ref) {
      const username = usernameOf(ref);
      if (username) {
        const known = await knownUsername(username);
        if (known) return { id: known.id, kind: known.kind, title: known.title ?? username, username };
        let resolved: Api.contacts.ResolvedPeer;
        try {
          resolved = await call(new Api.contacts.ResolveUsername({ username }));
        } catch (error) {
          if (error instanceof TelegramError && /USERNAME_(NOT_OCCUPIED|INVALID)/.test(error.code)) {
            throw new TelegramError("CHAT_NOT_FOUND", `No chat is called @${username}`, { cause: error });
          }
          throw error;
        }
        await rememberPeers(peersOf(resolved));
        return chatInfo(markedId(resolved.peer), resolved);
      }
      const id = typeof ref === "number" ? ref : Number(ref);
      if (!Number.isSafeInteger(id) || id === 0) {
        throw new TelegramError(
          "CHAT_REF_INVALID",
          `Expected @username, a t.me link or a chat id, got ${String(ref)}`,
        );
      }
      const known = await knownPeer(id);
      if (known)
        return {
          id,
          kind: known.kind,
          title: known.title ?? String(id),
          username: known.username ?? undefined,
        };
      if (!ownPeers) {
        const peer = await inputPeer(id);
        const kind =
          peer instanceof Api.InputPeerChannel
            ? "channel"
            : peer instanceof Api.InputPeerChat
              ? "group"
              : "user";
        return { id, kind, title: String(id), username: undefined };
      }
      throw new TelegramError(
        "CHAT_UNKNOWN",
        `Chat ${id} is unknown: add the bot there first, or use its @username`,
      );
    },

    async canPost(chatId): Promise<PostCheck> {
      let peer: Api.TypeInputPeer;
      try {
        peer = await inputPeer(chatId);
      } catch {
        return { ok: false, reason: "unknown_chat" };
      }
      if (!(peer instanceof Api.InputPeerChannel)) return { ok: true };
      try {
        const channel = new Api.InputChannel({ channelId: peer.channelId, accessHash: peer.accessHash });
        const [{ participant }, chats] = await Promise.all([
          call<Api.channels.ChannelParticipant>(
            new Api.channels.GetParticipant({ channel, participant: new Api.InputPeerSelf() }),
          ),
          call<Api.messages.TypeChats>(new Api.channels.GetChannels({ id: [channel] })),
        ]);
        const info = chats.chats.find((c): c is Api.Channel => c instanceof Api.Channel);
        if (participant instanceof Api.ChannelParticipantCreator) return { ok: true };
        if (participant instanceof Api.ChannelParticipantAdmin) {
          return info?.megagroup || participant.adminRights.postMessages
            ? { ok: true }
            : { ok: false, reason: "no_rights" };
        }
        if (
          participant instanceof Api.ChannelParticipantBanned ||
          participant instanceof Api.ChannelParticipantLeft
        ) {
          return { ok: false, reason: "not_member" };
        }
        // A plain member posts in a group unless the group forbids it; never in a broadcast channel.
        if (!info?.megagroup) return { ok: false, reason: "no_rights" };
        return info.defaultBannedRights?.sendMessages ? { ok: false, reason: "no_rights" } : { ok: true };
      } catch (error) {
        if (
          error instanceof TelegramError &&
          /USER_NOT_PARTICIPANT|CHANNEL_PRIVATE|CHANNEL_INVALID/.test(error.code)
        ) {
          return { ok: false, reason: "not_member" };
        }
        throw error;
      }
    },

    async messageFile(chatId, messageId) {
      const peer = await inputPeer(chatId);
      const id = [new Api.InputMessageID({ id: messageId })];
      const result = await call<Api.messages.TypeMessages>(
        peer instanceof Api.InputPeerChannel
          ? new Api.channels.GetMessages({
              channel: new Api.InputChannel({ channelId: peer.channelId, accessHash: peer.accessHash }),
              id,
            })
          : new Api.messages.GetMessages({ id }),
      );
      if (result instanceof Api.messages.MessagesNotModified) return undefined;
      const message = result.messages.find((m): m is Api.Message => m instanceof Api.Message);
      // messages.getMessages looks in the bot's own box: a message of another chat with the same id is not it.
      if (!message || markedId(message.peerId) !== chatId) return undefined;
      return fileOf(message.media);
    },

    async downloadFile(file: IncomingFile, { maxBytes, signal }) {
      if (file.size > maxBytes) {
        throw new TelegramError(
          "FILE_TOO_BIG",
          `The file has ${file.size} bytes, over the ${maxBytes} allowed`,
        );
      }
      const loc = file.location;
      const location =
        loc.kind === "document"
          ? new Api.InputDocumentFileLocation({
              id: bigId(loc.id),
              accessHash: bigId(loc.accessHash),
              fileReference: loc.fileReference,
              thumbSize: loc.thumbSize,
            })
          : new Api.InputPhotoFileLocation({
              id: bigId(loc.id),
              accessHash: bigId(loc.accessHash),
              fileReference: loc.fileReference,
              thumbSize: loc.thumbSize,
            });
      const data = await withDeadline(
        client.downloadFile(location, { dcId: loc.dcId, fileSize: bigId(String(file.size)) }),
        DOWNLOAD_TIMEOUT_MS,
        signal,
        () => new TelegramError("DOWNLOAD_TIMEOUT", "Telegram did not hand the file over in time"),
      );
      const buffer = Buffer.isBuffer(data) ? data : Buffer.from(String(data ?? ""));
      if (buffer.length > maxBytes)
        throw new TelegramError("FILE_TOO_BIG", "The file is bigger than it said");
      return buffer;
    },

    async downloadDocument(document, path, downloadOptions = {}) {
      const { signal, onProgress } = downloadOptions;
      throwIfAborted(signal);
      const location = new Api.InputDocumentFileLocation({
        id: bigId(document.id),
        accessHash: bigId(document.accessHash),
        fileReference: document.fileReference,
        thumbSize: "",
      });
      // gramjs picks the sender of the document's DC; each chunk is bounded like any call.
      const chunks = client
        .iterDownload({
          file: location,
          dcId: document.dcId,
          fileSize: bigId(String(document.size)),
          requestSize: DOWNLOAD_CHUNK_BYTES,
        })
        [Symbol.asyncIterator]();
      const out = await open(path, "w");
      let bytes = 0;
      try {
        for (;;) {
          const next = await withDeadline(
            chunks.next().catch((error: unknown) => {
              throw asTelegramError(error);
            }),
            CALL_TIMEOUT_MS,
            signal,
            () => new TelegramError("DOWNLOAD_TIMEOUT", "Telegram did not hand the file over in time"),
          );
          if (next.done) break;
          const chunk = Buffer.from(next.value as Buffer);
          await out.write(chunk, 0, chunk.length, bytes);
          bytes += chunk.length;
          onProgress?.(bytes, document.size);
          throwIfAborted(signal);
          if (bytes >= document.size) break;
        }
      } finally {
        // Not awaited: an async iterator's return() waits behind a next() still in flight (an abort mid-chunk).
        void chunks.return?.().catch(() => undefined);
        await out.close();
      }
      if (bytes !== document.size) {
        throw new TelegramError("FILE_INCOMPLETE", `Got ${bytes} of ${document.size} bytes`);
      }
    },

    uploadFile: (path, uploadOptions) =>
      uploadFile(client, path, {
        ...uploadOptions,
        onFloodWait: (seconds, method) => {
          options.onFloodWait?.(method, seconds);
          uploadOptions?.onFloodWait?.(seconds, method);
        },
      }),

    async sendFile(chatId, params) {
      return sendFile(client, { ...params, peer: await inputPeer(chatId) });
    },

    async storeDocument(chatId, params) {
      return uploadMedia(client, { ...params, peer: await inputPeer(chatId) });
    },

    async sendDocument(chatId, document, sendOptions) {
      const [caption, entities] = formatText(sendOptions.caption ?? "", { html: sendOptions.html ?? false });
      try {
        return await sendStoredDocument(client, {
          peer: await inputPeer(chatId),
          document,
          randomId: sendOptions.randomId,
          caption,
          entities,
          ...(sendOptions.signal ? { signal: sendOptions.signal } : {}),
        });
      } catch (error) {
        throw asTelegramError(error);
      }
    },

    async sendAlbum(chatId, items, sendOptions) {
      try {
        return await sendStoredAlbum(client, {
          peer: await inputPeer(chatId),
          items: items.map((item) => {
            const [caption, entities] = formatText(item.caption ?? "", { html: sendOptions.html ?? false });
            return { document: item.document, randomId: item.randomId, caption, entities };
          }),
          ...(sendOptions.signal ? { signal: sendOptions.signal } : {}),
        });
      } catch (error) {
        throw asTelegramError(error);
      }
    },

    async sendTextOnce(chatId, text, onceOptions) {
      const [message, entities] = formatText(text, { html: onceOptions.html ?? false });
      try {
        const sent = await sendTextOnce(client, {
          peer: await inputPeer(chatId),
          message,
          entities,
          randomId: onceOptions.randomId,
          signal: onceOptions.signal,
        });
        if (sent.duplicate) return { messageId: undefined, duplicate: true };
        acknowledgeSent(sent.result);
        return { messageId: sentMessageId(sent.result), duplicate: false };
      } catch (error) {
        throw asTelegramError(error);
      }
    },

    async refreshDocument(chatId, document, refreshOptions = {}) {
      throwIfAborted(refreshOptions.signal);
      const media = await call<Api.TypeMessageMedia>(
        new Api.messages.UploadMedia({
          peer: await inputPeer(chatId),
          media: new Api.InputMediaDocument({
            id: new Api.InputDocument({
              id: returnBigInt(document.id),
              accessHash: returnBigInt(document.accessHash),
              fileReference: document.fileReference,
            }),
          }),
        }),
      );
      if (!(media instanceof Api.MessageMediaDocument) || !(media.document instanceof Api.Document)) {
        throw new TelegramError("MEDIA_INVALID", `Telegram answered uploadMedia with ${media.className}`);
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
    },

    connectionState: () => state,
    onConnectionState(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async stop() {
      clearInterval(watch);
      if (rawHandler) client.removeEventHandler(rawHandler, rawEvent);
      await box?.close();
      await disconnectClient(client);
    },
  };

  async function commandScope(scope: CommandScope): Promise<Api.TypeBotCommandScope> {
    switch (scope.type) {
      case "default":
        return new Api.BotCommandScopeDefault();
      case "private":
        return new Api.BotCommandScopeUsers();
      case "admins":
        return new Api.BotCommandScopeChatAdmins();
      case "chat":
        return new Api.BotCommandScopePeer({ peer: await inputPeer(scope.chatId) });
    }
  }

  return gateway;
}
