/**
 * gramjs updates into our own types: Incoming for the bot, peer rows for the database, a stable key per update.
 */
import { Api, utils } from "telegram";
import { returnBigInt } from "telegram/Helpers.js";
import type { NewPeer, PeerKind } from "../db/schema.js";
import type { FileLocation, Incoming, IncomingFile, Sender, TextEntity } from "./gateway.js";
import { updateEntities } from "./gramjs-internals.js";

type Entities = { users: Api.TypeUser[]; chats: Api.TypeChat[] };
type Unkeyed<T> = T extends unknown ? Omit<T, "key" | "redelivered"> : never;

/** Bot API style id of a peer: user > 0, basic group -id, channel -100…id. */
export function markedId(peer: Api.TypePeer | Api.TypeUser | Api.TypeChat): number {
  return Number(utils.getPeerId(peer, true));
}

export function peerKind(peer: Api.TypePeer): PeerKind {
  if (peer instanceof Api.PeerUser) return "user";
  if (peer instanceof Api.PeerChat) return "group";
  return "channel";
}

/** The key that identifies an update across a push and a difference; undefined for updates we do not hand on. */
export function updateKey(update: Api.TypeUpdate): string | undefined {
  if (
    update instanceof Api.UpdateNewMessage ||
    update instanceof Api.UpdateNewChannelMessage ||
    update instanceof Api.UpdateNewScheduledMessage
  ) {
    const m = update.message;
    if (!(m instanceof Api.Message)) return undefined;
    return `msg:${markedId(m.peerId)}:${m.id}`;
  }
  if (update instanceof Api.UpdateBotCallbackQuery) return `cb:${update.queryId.toString()}`;
  return undefined;
}

export function toIncoming(
  update: Api.TypeUpdate,
  entities: Entities,
  selfId: number,
): Unkeyed<Incoming> | undefined {
  if (update instanceof Api.UpdateNewMessage || update instanceof Api.UpdateNewChannelMessage) {
    const m = update.message;
    if (!(m instanceof Api.Message) || m.out) return undefined;
    const fromPeer = m.fromId ?? m.peerId;
    if (!(fromPeer instanceof Api.PeerUser)) return undefined; // channel posts and anonymous admins
    const from = senderOf(Number(fromPeer.userId.toString()), entities);
    if (from.id === selfId) return undefined;
    return {
      kind: "message",
      chatId: markedId(m.peerId),
      chatKind: peerKind(m.peerId),
      from,
      messageId: m.id,
      date: m.date,
      text: m.message ?? "",
      entities: (m.entities ?? []).map(entityOf),
      replyToMessageId: m.replyTo instanceof Api.MessageReplyHeader ? m.replyTo.replyToMsgId : undefined,
      file: fileOf(m.media),
    };
  }
  if (update instanceof Api.UpdateBotCallbackQuery) {
    return {
      kind: "callback",
      chatId: markedId(update.peer),
      chatKind: peerKind(update.peer),
      from: senderOf(Number(update.userId.toString()), entities),
      queryId: update.queryId.toString(),
      messageId: update.msgId,
      data: update.data ? Buffer.from(update.data).toString("utf8") : "",
    };
  }
  return undefined;
}

function senderOf(id: number, entities: Entities): Sender {
  const user = entities.users.find(
    (u): u is Api.User => u instanceof Api.User && Number(u.id.toString()) === id,
  );
  return {
    id,
    username: user?.username ?? undefined,
    firstName: user?.firstName ?? undefined,
    lastName: user?.lastName ?? undefined,
    languageCode: user?.langCode ?? undefined,
    isBot: user?.bot ?? false,
  };
}

function entityOf(e: Api.TypeMessageEntity): TextEntity {
  const base = { offset: e.offset, length: e.length };
  if (e instanceof Api.MessageEntityBold) return { type: "bold", ...base };
  if (e instanceof Api.MessageEntityItalic) return { type: "italic", ...base };
  if (e instanceof Api.MessageEntityCode) return { type: "code", ...base };
  if (e instanceof Api.MessageEntityPre) return { type: "pre", ...base };
  if (e instanceof Api.MessageEntityUrl) return { type: "url", ...base };
  if (e instanceof Api.MessageEntityTextUrl) return { type: "text_url", ...base, url: e.url };
  if (e instanceof Api.MessageEntityMention) return { type: "mention", ...base };
  if (e instanceof Api.MessageEntityBotCommand) return { type: "bot_command", ...base };
  return { type: "other", ...base };
}

export function fileOf(media: Api.TypeMessageMedia | undefined): IncomingFile | undefined {
  if (media instanceof Api.MessageMediaDocument && media.document instanceof Api.Document) {
    const d = media.document;
    const named = d.attributes.find(
      (a): a is Api.DocumentAttributeFilename => a instanceof Api.DocumentAttributeFilename,
    );
    return {
      kind: "document",
      name: named?.fileName,
      size: Number(d.size.toString()),
      mimeType: d.mimeType || undefined,
      location: location("document", d.id, d.accessHash, d.fileReference, d.dcId, ""),
    };
  }
  if (media instanceof Api.MessageMediaPhoto && media.photo instanceof Api.Photo) {
    const p = media.photo;
    // The largest plain size; progressive sizes list their largest step last.
    const sizes = p.sizes.flatMap((s) => {
      if (s instanceof Api.PhotoSize) return [{ type: s.type, size: s.size }];
      if (s instanceof Api.PhotoSizeProgressive) return [{ type: s.type, size: s.sizes.at(-1) ?? 0 }];
      return [];
    });
    const best = sizes.sort((a, b) => b.size - a.size)[0];
    if (!best) return undefined;
    return {
      kind: "photo",
      name: undefined,
      size: best.size,
      mimeType: "image/jpeg",
      location: location("photo", p.id, p.accessHash, p.fileReference, p.dcId, best.type),
    };
  }
  return undefined;
}

function location(
  kind: FileLocation["kind"],
  id: { toString(): string },
  accessHash: { toString(): string },
  fileReference: Buffer,
  dcId: number,
  thumbSize: string,
): FileLocation {
  return {
    kind,
    id: id.toString(),
    accessHash: accessHash.toString(),
    fileReference: Buffer.from(fileReference),
    dcId,
    thumbSize,
  };
}

/** Rows for the peers table from the users and chats that came with an update. */
export function peersOf(entities: Entities): NewPeer[] {
  const rows: NewPeer[] = [];
  for (const u of entities.users) {
    if (!(u instanceof Api.User)) continue;
    rows.push({
      id: markedId(u),
      kind: "user",
      // A "min" user carries an access hash that only works in the chat it came from: do not store it.
      access_hash: u.min || u.accessHash === undefined ? null : u.accessHash.toString(),
      username: u.username ?? null,
      title: [u.firstName, u.lastName].filter(Boolean).join(" ") || null,
      lang_code: u.langCode ?? null,
      is_bot: u.bot ? 1 : 0,
    });
  }
  for (const c of entities.chats) {
    if (c instanceof Api.Chat) {
      rows.push({ id: markedId(c), kind: "group", access_hash: null, username: null, title: c.title });
    } else if (c instanceof Api.Channel) {
      rows.push({
        id: markedId(c),
        kind: "channel",
        access_hash: c.min || c.accessHash === undefined ? null : c.accessHash.toString(),
        username: c.username ?? null,
        title: c.title,
      });
    }
  }
  return rows;
}

/** gramjs hands Raw handlers each inner update with the container's users and chats, or a short form. */
export function normalise(
  update: unknown,
  selfId: number,
): { update: Api.TypeUpdate; entities: Entities } | undefined {
  const entities = entitiesOfUpdate(update);
  if (update instanceof Api.UpdateShortMessage) {
    const other = new Api.PeerUser({ userId: update.userId });
    return {
      update: new Api.UpdateNewMessage({
        message: new Api.Message({
          id: update.id,
          out: update.out,
          peerId: other,
          fromId: update.out ? new Api.PeerUser({ userId: returnBigInt(selfId) }) : other,
          date: update.date,
          message: update.message,
          ...(update.entities ? { entities: update.entities } : {}),
          ...(update.replyTo ? { replyTo: update.replyTo } : {}),
        }),
        pts: update.pts,
        ptsCount: update.ptsCount,
      }),
      entities,
    };
  }
  if (update instanceof Api.UpdateShortChatMessage) {
    return {
      update: new Api.UpdateNewMessage({
        message: new Api.Message({
          id: update.id,
          out: update.out,
          peerId: new Api.PeerChat({ chatId: update.chatId }),
          fromId: new Api.PeerUser({ userId: update.fromId }),
          date: update.date,
          message: update.message,
          ...(update.entities ? { entities: update.entities } : {}),
        }),
        pts: update.pts,
        ptsCount: update.ptsCount,
      }),
      entities,
    };
  }
  if (update instanceof Api.UpdateShort) return { update: update.update, entities };
  if (typeof update === "object" && update !== null && "CONSTRUCTOR_ID" in update) {
    return { update: update as Api.TypeUpdate, entities };
  }
  return undefined;
}

/** The users and chats gramjs attached to an update it split out of its container. */
export function entitiesOfUpdate(update: unknown): Entities {
  const users: Api.TypeUser[] = [];
  const chats: Api.TypeChat[] = [];
  for (const entity of updateEntities(update)) {
    if (entity instanceof Api.User || entity instanceof Api.UserEmpty) users.push(entity);
    else if (entity instanceof Api.Chat || entity instanceof Api.Channel) chats.push(entity);
  }
  return { users, chats };
}
