/**
 * The methods the server answers, one handler each, keyed by gramjs class name. Handlers throw RpcFailure for
 * Telegram's errors; anything not listed answers 400 METHOD_NOT_IMPLEMENTED_<NAME>.
 */
import { randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import { Api } from "telegram";
import { returnBigInt } from "telegram/Helpers.js";
import type { Connection, Session } from "./connection.js";
import { RpcFailure } from "./rpc-error.js";
import type { ServerCore } from "./server-core.js";
import { checkProof, newChallenge, SRP_G, SRP_PRIME } from "./srp.js";
import type { BoxEntry, BoxState, Difference, Origin } from "./update-log.js";
import { containerFor, entitiesOf, renderEntry } from "./updates.js";
import {
  adminRights,
  type ChatRecord,
  type ChatRef,
  chatKey,
  commandSetKey,
  type DocumentRecord,
  type MessageRecord,
  now,
  randomLong,
  type UserRecord,
} from "./world.js";

export interface CallContext {
  core: ServerCore;
  conn: Connection;
  session: Session;
  user: UserRecord | undefined;
}

type Handler = (ctx: CallContext, request: never) => unknown;

/** Methods callable before the auth key is bound to a user (and on a revoked one). */
export const UNAUTHORIZED_METHODS = new Set([
  "help.GetConfig",
  "help.GetNearestDc",
  "auth.ImportBotAuthorization",
  "auth.ExportAuthorization",
  "auth.ImportAuthorization",
  "auth.SendCode",
  "auth.SignIn",
  "auth.CheckPassword",
  "account.GetPassword",
]);

/** How long a client waits before asking getChannelDifference again, as Telegram tells it. */
const CHANNEL_DIFFERENCE_TIMEOUT = 30;

/** upload.getFile: limit divides 1 MiB and is a multiple of 4 KiB; offset a multiple of 4 KiB. */
const GET_FILE_MAX = 1024 * 1024;

function me(ctx: CallContext): UserRecord {
  if (!ctx.user) throw new RpcFailure(401, "AUTH_KEY_UNREGISTERED");
  return ctx.user;
}

/** The session a call comes from, for the updates it causes. */
function origin(ctx: CallContext): Origin {
  return { authKeyId: ctx.conn.authKey!.id, userId: me(ctx).id };
}

/** Logs the key in as the user: a new login clears a revocation and a half-done 2FA login. */
function bindAuthKey(ctx: CallContext, user: UserRecord): Api.auth.Authorization {
  const key = ctx.conn.authKey!;
  key.userId = user.id;
  key.revoked = false;
  key.passwordPendingFor = undefined;
  return new Api.auth.Authorization({ user: ctx.core.world.renderUser(user, user.id) });
}

function num(v: { toString(): string } | number): number {
  return Number(v.toString());
}

function big(v: { toString(): string }): bigint {
  return BigInt(v.toString());
}

/** Inputs arrive as decoded TL objects; gramjs types them as its client-side EntityLike, hence `unknown`. */
function resolveUser(ctx: CallContext, input: unknown): UserRecord {
  if (input instanceof Api.InputUserSelf || input instanceof Api.InputPeerSelf) return me(ctx);
  if (input instanceof Api.InputUser || input instanceof Api.InputPeerUser) {
    const u = ctx.core.world.users.get(num(input.userId));
    if (!u || u.accessHash !== big(input.accessHash)) throw new RpcFailure(400, "USER_ID_INVALID");
    return u;
  }
  throw new RpcFailure(400, "USER_ID_INVALID");
}

function resolvePeer(ctx: CallContext, peer: unknown): ChatRef {
  const self = me(ctx);
  if (peer instanceof Api.InputPeerSelf) return { kind: "private", a: self.id, b: self.id };
  if (peer instanceof Api.InputPeerUser) return { kind: "private", a: self.id, b: resolveUser(ctx, peer).id };
  if (peer instanceof Api.InputPeerChat) {
    const c = ctx.core.world.chats.get(num(peer.chatId));
    if (c?.kind !== "group") throw new RpcFailure(400, "PEER_ID_INVALID");
    return { kind: "group", id: c.id };
  }
  if (peer instanceof Api.InputPeerChannel) return { kind: "channel", id: resolveChannel(ctx, peer).id };
  throw new RpcFailure(400, "PEER_ID_INVALID");
}

/** The id a command scope's peer names: the other user of a private chat, else the chat's own id. */
function scopePeerId(ctx: CallContext, peer: unknown): number {
  const ref = resolvePeer(ctx, peer);
  return ref.kind === "private" ? ref.b : ref.id;
}

function resolveChannel(ctx: CallContext, ch: unknown) {
  if (!(ch instanceof Api.InputChannel || ch instanceof Api.InputPeerChannel)) {
    throw new RpcFailure(400, "CHANNEL_INVALID");
  }
  const c = ctx.core.world.chats.get(num(ch.channelId));
  if (c?.kind !== "channel" || c.accessHash !== big(ch.accessHash))
    throw new RpcFailure(400, "CHANNEL_INVALID");
  return c;
}

/** random_id lets Telegram drop a repeated send; it answers RANDOM_ID_DUPLICATE (a 500, as Telegram does). */
function claimRandomId(ctx: CallContext, randomId: { toString(): string } | undefined): void {
  if (randomId === undefined) return;
  const key = `${me(ctx).id}:${randomId.toString()}`;
  if (ctx.core.usedRandomIds.has(key)) throw new RpcFailure(500, "RANDOM_ID_DUPLICATE");
  ctx.core.usedRandomIds.add(key);
}

function markupButtons(markup: Api.TypeReplyMarkup | undefined): MessageRecord["buttons"] {
  if (!(markup instanceof Api.ReplyInlineMarkup)) return undefined;
  return markup.rows.map((row) =>
    row.buttons.map((b) => {
      if (b instanceof Api.KeyboardButtonCallback)
        return { text: b.text, data: Buffer.from(b.data), url: undefined };
      if (b instanceof Api.KeyboardButtonUrl) return { text: b.text, data: undefined, url: b.url };
      return { text: (b as { text?: string }).text ?? "", data: undefined, url: undefined };
    }),
  );
}

function replyToId(replyTo: Api.TypeInputReplyTo | undefined): number | undefined {
  return replyTo instanceof Api.InputReplyToMessage ? replyTo.replyToMsgId : undefined;
}

/**
 * The Updates a sender gets back for messages it created or edited: the updates its own box (or the channel's)
 * logged for them, with their pts and seq, and UpdateMessageID linking each new message to its random_id.
 */
export function updatesForNew(
  ctx: CallContext,
  records: { message: MessageRecord; randomId?: { toString(): string } }[],
  edit = false,
): Api.Updates | Api.UpdatesCombined {
  const self = me(ctx);
  const kind = edit ? "editMessage" : "newMessage";
  const ids: Api.TypeUpdate[] = [];
  const entries: BoxEntry[] = [];
  let channel: ChatRecord | undefined;
  for (const { message, randomId } of records) {
    if (randomId !== undefined) {
      ids.push(new Api.UpdateMessageID({ id: message.id, randomId: returnBigInt(randomId.toString()) }));
    }
    if (message.chat.kind === "channel") channel = ctx.core.world.chats.get(message.chat.id);
    const box = channel?.box ?? self.box;
    const entry = box.findLast((e) => e.event.kind === kind && e.event.message === message);
    if (!entry) throw new Error(`no logged ${kind} for message ${message.id}`);
    entries.push(entry);
  }
  return containerFor(ctx.core, self.id, entries, channel, ids);
}

function attributeName(attrs: Api.TypeDocumentAttribute[], fallback: string): string {
  for (const a of attrs) if (a instanceof Api.DocumentAttributeFilename) return a.fileName;
  return fallback;
}

async function assembleInput(ctx: CallContext, file: Api.TypeInputFile) {
  const owner = me(ctx).id;
  if (file instanceof Api.InputFileBig) {
    return ctx.core.uploads.assemble(owner, { big: true, id: file.id.toString(), parts: file.parts });
  }
  if (file instanceof Api.InputFile) {
    return ctx.core.uploads.assemble(owner, {
      big: false,
      id: file.id.toString(),
      parts: file.parts,
      md5Checksum: file.md5Checksum,
    });
  }
  throw new RpcFailure(400, "FILE_ID_INVALID");
}

/** Turns an InputMedia into a stored document: uploaded files are assembled, existing ones looked up. */
async function mediaDocument(ctx: CallContext, media: Api.TypeInputMedia): Promise<DocumentRecord> {
  const world = ctx.core.world;
  if (media instanceof Api.InputMediaUploadedDocument || media instanceof Api.InputMediaUploadedPhoto) {
    const file = await assembleInput(ctx, media.file);
    const isPhoto = media instanceof Api.InputMediaUploadedPhoto;
    const attributes = isPhoto ? [] : media.attributes;
    const inputName = (media.file as Api.InputFile).name ?? "file";
    let thumb: DocumentRecord["thumb"];
    if (!isPhoto && media.thumb) {
      const t = await assembleInput(ctx, media.thumb);
      thumb = { path: t.path, size: t.size, w: 320, h: 320 };
    }
    const doc: DocumentRecord = {
      id: randomLong(),
      accessHash: randomLong(),
      fileReference: Buffer.from(randomLong().toString(16)),
      date: now(),
      name: attributeName(attributes, inputName),
      mimeType: isPhoto ? "image/jpeg" : media.mimeType,
      size: file.size,
      sha256: file.sha256,
      path: file.path,
      attributes: attributes.some((a) => a instanceof Api.DocumentAttributeFilename)
        ? attributes
        : [...attributes, new Api.DocumentAttributeFilename({ fileName: inputName })],
      thumb,
      photo: isPhoto,
    };
    world.documents.set(doc.id.toString(), doc);
    return doc;
  }
  if (media instanceof Api.InputMediaDocument || media instanceof Api.InputMediaPhoto) {
    const ref = media.id;
    if (!(ref instanceof Api.InputDocument || ref instanceof Api.InputPhoto)) {
      throw new RpcFailure(400, "MEDIA_INVALID");
    }
    const doc = world.documents.get(ref.id.toString());
    if (!doc || doc.accessHash !== big(ref.accessHash)) throw new RpcFailure(400, "MEDIA_INVALID");
    return doc;
  }
  throw new RpcFailure(400, "MEDIA_INVALID");
}

/** What an album may group together: photos with videos, documents with documents, audio with audio. */
function albumKind(doc: DocumentRecord): "visual" | "audio" | "document" {
  if (doc.photo) return "visual";
  if (doc.attributes.some((a) => a instanceof Api.DocumentAttributeVideo && !a.roundMessage)) return "visual";
  if (doc.attributes.some((a) => a instanceof Api.DocumentAttributeAudio)) return "audio";
  return "document";
}

function newMessage(
  ctx: CallContext,
  chat: ChatRef,
  fields: Partial<
    Pick<MessageRecord, "text" | "document" | "buttons" | "replyToMsgId" | "forwardedFrom" | "groupedId">
  >,
): MessageRecord {
  const self = me(ctx);
  if (!ctx.core.world.canWrite(self.id, chat)) throw new RpcFailure(403, "CHAT_WRITE_FORBIDDEN");
  return ctx.core.world.addMessage(
    {
      chat,
      fromId: self.id,
      text: fields.text ?? "",
      document: fields.document,
      buttons: fields.buttons,
      replyToMsgId: fields.replyToMsgId,
      forwardedFrom: fields.forwardedFrom,
      ...(fields.groupedId === undefined ? {} : { groupedId: fields.groupedId }),
    },
    origin(ctx),
  );
}

function findVisibleMessage(ctx: CallContext, id: number): MessageRecord | undefined {
  const self = me(ctx).id;
  for (const list of ctx.core.world.messages.values()) {
    const m = list.find((x) => x.id === id);
    if (!m || m.deleted || m.chat.kind === "channel") continue;
    if (ctx.core.world.audience(m.chat).includes(self)) return m;
  }
  return undefined;
}

function messagesResult(ctx: CallContext, found: MessageRecord[], requested: number) {
  const viewer = me(ctx).id;
  const world = ctx.core.world;
  const users = new Map<number, Api.TypeUser>();
  const chats = new Map<number, Api.TypeChat>();
  for (const m of found) {
    for (const u of world.entitiesFor(m, viewer).users) users.set(num((u as Api.User).id), u);
    if (m.chat.kind !== "private")
      chats.set(m.chat.id, world.renderChat(world.chats.get(m.chat.id)!, viewer));
  }
  return { messages: found.map((m) => world.renderMessage(m, viewer)), users, chats, requested };
}

function stateOf(s: BoxState): Api.updates.State {
  return new Api.updates.State({ pts: s.pts, qts: s.qts, date: s.date, seq: s.seq, unreadCount: 0 });
}

/** new_messages (new messages still there), other_updates (the rest) and the users and chats they mention. */
function splitEntries(ctx: CallContext, entries: BoxEntry[], channel?: ChatRecord) {
  const viewer = me(ctx).id;
  const newMessages: Api.TypeMessage[] = [];
  const otherUpdates: Api.TypeUpdate[] = [];
  for (const e of entries) {
    if (e.event.kind === "newMessage") {
      if (!e.event.message.deleted) newMessages.push(ctx.core.world.renderMessage(e.event.message, viewer));
    } else otherUpdates.push(renderEntry(ctx.core, e, viewer, channel));
  }
  const { users, chats } = entitiesOf(ctx.core, entries, viewer);
  if (channel && !chats.some((c) => Number((c as Api.Channel).id) === channel.id)) {
    chats.push(ctx.core.world.renderChat(channel, viewer));
  }
  return { newMessages, otherUpdates, users, chats };
}

function renderDifference(ctx: CallContext, d: Difference): Api.updates.TypeDifference {
  switch (d.kind) {
    case "empty":
      return new Api.updates.DifferenceEmpty({ date: d.state.date, seq: d.state.seq });
    case "tooLong":
      return new Api.updates.DifferenceTooLong({ pts: d.state.pts });
    case "entries": {
      const parts = { ...splitEntries(ctx, d.entries), newEncryptedMessages: [] };
      return d.final
        ? new Api.updates.Difference({ ...parts, state: stateOf(d.state) })
        : new Api.updates.DifferenceSlice({ ...parts, intermediateState: stateOf(d.state) });
    }
  }
}

function passwordAlgo(salt1: Buffer, salt2: Buffer) {
  return new Api.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow({
    salt1,
    salt2,
    g: SRP_G,
    p: SRP_PRIME,
  });
}

const methods = {
  "help.GetConfig": (ctx: CallContext) => {
    const { core } = ctx;
    return new Api.Config({
      date: now(),
      expires: now() + 3600,
      testMode: false,
      thisDc: core.dcId,
      dcOptions: [
        new Api.DcOption({ id: core.dcId, ipAddress: core.host, port: core.port() }),
        new Api.DcOption({ id: core.dcId, ipAddress: core.host, port: core.port(), mediaOnly: true }),
      ],
      dcTxtDomainName: "localhost",
      chatSizeMax: 200,
      megagroupSizeMax: 200000,
      forwardedCountMax: 100,
      onlineUpdatePeriodMs: 210000,
      offlineBlurTimeoutMs: 5000,
      offlineIdleTimeoutMs: 30000,
      onlineCloudTimeoutMs: 300000,
      notifyCloudDelayMs: 30000,
      notifyDefaultDelayMs: 1500,
      pushChatPeriodMs: 60000,
      pushChatLimit: 2,
      editTimeLimit: 172800,
      revokeTimeLimit: 2147483647,
      revokePmTimeLimit: 2147483647,
      ratingEDecay: 2419200,
      stickersRecentLimit: 200,
      channelsReadMediaPeriod: 604800,
      callReceiveTimeoutMs: 20000,
      callRingTimeoutMs: 90000,
      callConnectTimeoutMs: 30000,
      callPacketTimeoutMs: 10000,
      meUrlPrefix: "https://t.me/",
      captionLengthMax: 1024,
      messageLengthMax: 4096,
      webfileDcId: core.dcId,
    });
  },
  "help.GetNearestDc": (ctx: CallContext) =>
    new Api.NearestDc({ country: "XX", thisDc: ctx.core.dcId, nearestDc: ctx.core.dcId }),

  "auth.ImportBotAuthorization": (ctx: CallContext, r: Api.auth.ImportBotAuthorization) => {
    const bot = ctx.core.world.userByToken(r.botAuthToken);
    if (!bot) throw new RpcFailure(401, "ACCESS_TOKEN_INVALID");
    return bindAuthKey(ctx, bot);
  },
  "auth.SendCode": (ctx: CallContext, r: Api.auth.SendCode) => {
    const code = ctx.core.loginCodes.issue(r.phoneNumber, ctx.conn.authKey!.id);
    ctx.core.log(`login code ${code.code} for +${code.phone}`);
    return new Api.auth.SentCode({
      type: new Api.auth.SentCodeTypeApp({ length: code.code.length }),
      phoneCodeHash: code.phoneCodeHash,
      timeout: Math.ceil(ctx.core.loginCodes.ttlMs / 1000),
    });
  },
  "auth.SignIn": (ctx: CallContext, r: Api.auth.SignIn) => {
    const key = ctx.conn.authKey!;
    const code = ctx.core.loginCodes.check(r.phoneNumber, r.phoneCodeHash, r.phoneCode, key.id);
    const user = ctx.core.world.userByPhone(code.phone);
    if (!user) throw new RpcFailure(400, "PHONE_NUMBER_UNOCCUPIED");
    if (user.password) {
      key.passwordPendingFor = user.id;
      throw new RpcFailure(401, "SESSION_PASSWORD_NEEDED");
    }
    return bindAuthKey(ctx, user);
  },
  "account.GetPassword": (ctx: CallContext) => {
    const pending = ctx.conn.authKey!.passwordPendingFor;
    const user = ctx.user ?? (pending !== undefined ? ctx.core.world.users.get(pending) : undefined);
    if (!user) throw new RpcFailure(401, "AUTH_KEY_UNREGISTERED");
    // For setting a new password: the client appends 32 random bytes to new_algo's salt1.
    const common = {
      newAlgo: passwordAlgo(randomBytes(8), randomBytes(16)),
      newSecureAlgo: new Api.SecurePasswordKdfAlgoPBKDF2HMACSHA512iter100000({ salt: randomBytes(8) }),
      secureRandom: randomBytes(256),
    };
    if (!user.password) return new Api.account.Password({ hasPassword: false, ...common });
    user.srp = newChallenge(user.password);
    return new Api.account.Password({
      hasPassword: true,
      currentAlgo: passwordAlgo(user.password.salt1, user.password.salt2),
      srp_B: user.srp.B,
      srpId: returnBigInt(user.srp.id),
      hint: user.password.hint,
      ...common,
    });
  },
  "auth.CheckPassword": (ctx: CallContext, r: Api.auth.CheckPassword) => {
    const pending = ctx.conn.authKey!.passwordPendingFor;
    const user = pending !== undefined ? ctx.core.world.users.get(pending) : undefined;
    if (!user?.password) throw new RpcFailure(401, "AUTH_KEY_UNREGISTERED");
    const check = r.password;
    if (!(check instanceof Api.InputCheckPasswordSRP)) throw new RpcFailure(400, "PASSWORD_HASH_INVALID");
    if (!user.srp || user.srp.id !== big(check.srpId)) throw new RpcFailure(400, "SRP_ID_INVALID");
    if (!checkProof(user.password, user.srp, Buffer.from(check.A), Buffer.from(check.M1))) {
      throw new RpcFailure(400, "PASSWORD_HASH_INVALID");
    }
    user.srp = undefined;
    return bindAuthKey(ctx, user);
  },
  "auth.LogOut": (ctx: CallContext) => {
    ctx.conn.authKey!.userId = undefined;
    return new Api.auth.LoggedOut({});
  },

  "updates.GetState": (ctx: CallContext) => stateOf(me(ctx).box.state()),
  "updates.GetDifference": (ctx: CallContext, r: Api.updates.GetDifference) => {
    const self = me(ctx);
    const key = ctx.conn.authKey!.id;
    // What the asking session caused it learnt from its answers; a bot has one session, so all it caused.
    const own = (e: BoxEntry) =>
      e.origin !== undefined && (e.origin.authKeyId === key || (self.bot && e.origin.userId === self.id));
    // An absent flag field decodes as null.
    const d = self.box.difference(
      { pts: r.pts, date: r.date, ptsTotalLimit: r.ptsTotalLimit ?? undefined },
      own,
    );
    return renderDifference(ctx, d);
  },
  "updates.GetChannelDifference": (ctx: CallContext, r: Api.updates.GetChannelDifference) => {
    const c = resolveChannel(ctx, r.channel);
    const self = me(ctx);
    if (!c.members.has(self.id) && !c.username) throw new RpcFailure(400, "CHANNEL_PRIVATE");
    const limit = Math.max(1, Math.min(r.limit || 100, self.bot ? 100_000 : 1000));
    const d = c.box.difference({ pts: r.pts, date: 0, limit }, () => false);
    if (d.kind === "empty") {
      return new Api.updates.ChannelDifferenceEmpty({
        final: true,
        pts: d.state.pts,
        timeout: CHANNEL_DIFFERENCE_TIMEOUT,
      });
    }
    const viewer = self.id;
    if (d.kind === "tooLong") {
      const messages = (ctx.core.world.messages.get(`channel:${c.id}`) ?? [])
        .filter((m) => !m.deleted)
        .slice(-limit);
      const res = messagesResult(ctx, messages, messages.length);
      return new Api.updates.ChannelDifferenceTooLong({
        final: true,
        timeout: CHANNEL_DIFFERENCE_TIMEOUT,
        dialog: new Api.Dialog({
          peer: new Api.PeerChannel({ channelId: returnBigInt(c.id) }),
          topMessage: messages.at(-1)?.id ?? 0,
          readInboxMaxId: 0,
          readOutboxMaxId: 0,
          unreadCount: 0,
          unreadMentionsCount: 0,
          unreadReactionsCount: 0,
          notifySettings: new Api.PeerNotifySettings({}),
          pts: d.state.pts,
        }),
        messages: res.messages,
        chats: [ctx.core.world.renderChat(c, viewer)],
        users: [...res.users.values()],
      });
    }
    const { newMessages, otherUpdates, users, chats } = splitEntries(ctx, d.entries, c);
    return new Api.updates.ChannelDifference({
      final: d.final,
      pts: d.state.pts,
      timeout: CHANNEL_DIFFERENCE_TIMEOUT,
      newMessages,
      otherUpdates,
      chats,
      users,
    });
  },

  "users.GetUsers": (ctx: CallContext, r: Api.users.GetUsers) =>
    r.id.map((input) => {
      try {
        return ctx.core.world.renderUser(resolveUser(ctx, input), me(ctx).id);
      } catch {
        return new Api.UserEmpty({ id: returnBigInt((input as Api.InputUser).userId ?? 0) });
      }
    }),
  "users.GetFullUser": (ctx: CallContext, r: Api.users.GetFullUser) => {
    const u = resolveUser(ctx, r.id);
    return new Api.users.UserFull({
      fullUser: new Api.UserFull({
        id: returnBigInt(u.id),
        settings: new Api.PeerSettings({}),
        notifySettings: new Api.PeerNotifySettings({}),
        commonChatsCount: 0,
        botInfo: u.bot
          ? new Api.BotInfo({
              userId: returnBigInt(u.id),
              commands: u.commands.map((c) => new Api.BotCommand(c)),
            })
          : undefined,
      }),
      chats: [],
      users: [ctx.core.world.renderUser(u, me(ctx).id)],
    });
  },
  "contacts.ResolveUsername": (ctx: CallContext, r: Api.contacts.ResolveUsername) => {
    const found = ctx.core.world.findByUsername(r.username);
    const viewer = me(ctx).id;
    if (!found) throw new RpcFailure(400, "USERNAME_NOT_OCCUPIED");
    if ("bot" in found) {
      return new Api.contacts.ResolvedPeer({
        peer: new Api.PeerUser({ userId: returnBigInt(found.id) }),
        chats: [],
        users: [ctx.core.world.renderUser(found, viewer)],
      });
    }
    return new Api.contacts.ResolvedPeer({
      peer:
        found.kind === "channel"
          ? new Api.PeerChannel({ channelId: returnBigInt(found.id) })
          : new Api.PeerChat({ chatId: returnBigInt(found.id) }),
      chats: [ctx.core.world.renderChat(found, viewer)],
      users: [],
    });
  },

  "channels.GetChannels": (ctx: CallContext, r: Api.channels.GetChannels) =>
    new Api.messages.Chats({
      chats: r.id.map((c) => ctx.core.world.renderChat(resolveChannel(ctx, c), me(ctx).id)),
    }),
  "channels.GetParticipant": (ctx: CallContext, r: Api.channels.GetParticipant) => {
    const c = resolveChannel(ctx, r.channel);
    const u = resolveUser(ctx, r.participant);
    if (!c.members.has(u.id)) throw new RpcFailure(400, "USER_NOT_PARTICIPANT");
    const userId = returnBigInt(u.id);
    const participant =
      c.creatorId === u.id
        ? new Api.ChannelParticipantCreator({ userId, adminRights: adminRights() })
        : c.admins.has(u.id)
          ? new Api.ChannelParticipantAdmin({
              userId,
              promotedBy: returnBigInt(c.creatorId),
              date: c.date,
              adminRights: adminRights(),
            })
          : new Api.ChannelParticipant({ userId, date: c.date });
    return new Api.channels.ChannelParticipant({
      participant,
      chats: [ctx.core.world.renderChat(c, me(ctx).id)],
      users: [ctx.core.world.renderUser(u, me(ctx).id)],
    });
  },

  "messages.SendMessage": (ctx: CallContext, r: Api.messages.SendMessage) => {
    const chat = resolvePeer(ctx, r.peer);
    if (!ctx.core.world.canWrite(me(ctx).id, chat)) throw new RpcFailure(403, "CHAT_WRITE_FORBIDDEN");
    if (!r.message.trim()) throw new RpcFailure(400, "MESSAGE_EMPTY");
    if (r.message.length > 4096) throw new RpcFailure(400, "MESSAGE_TOO_LONG");
    claimRandomId(ctx, r.randomId);
    const message = newMessage(ctx, chat, {
      text: r.message,
      buttons: markupButtons(r.replyMarkup),
      replyToMsgId: replyToId(r.replyTo),
    });
    return updatesForNew(ctx, [{ message, randomId: r.randomId }]);
  },
  "messages.SendMedia": async (ctx: CallContext, r: Api.messages.SendMedia) => {
    const chat = resolvePeer(ctx, r.peer);
    if (!ctx.core.world.canWrite(me(ctx).id, chat)) throw new RpcFailure(403, "CHAT_WRITE_FORBIDDEN");
    if (r.message.length > 1024) throw new RpcFailure(400, "MEDIA_CAPTION_TOO_LONG");
    // A send refused for its media (MEDIA_INVALID) posted nothing: its random_id stays free for the retry.
    const document = await mediaDocument(ctx, r.media);
    claimRandomId(ctx, r.randomId);
    const message = newMessage(ctx, chat, {
      text: r.message,
      document,
      buttons: markupButtons(r.replyMarkup),
      replyToMsgId: replyToId(r.replyTo),
    });
    return updatesForNew(ctx, [{ message, randomId: r.randomId }]);
  },
  "messages.UploadMedia": async (ctx: CallContext, r: Api.messages.UploadMedia) => {
    const doc = await mediaDocument(ctx, r.media);
    return doc.photo
      ? new Api.MessageMediaPhoto({ photo: ctx.core.world.renderPhoto(doc) })
      : new Api.MessageMediaDocument({ document: ctx.core.world.renderDocument(doc) });
  },
  "messages.SendMultiMedia": async (ctx: CallContext, r: Api.messages.SendMultiMedia) => {
    const chat = resolvePeer(ctx, r.peer);
    if (!ctx.core.world.canWrite(me(ctx).id, chat)) throw new RpcFailure(403, "CHAT_WRITE_FORBIDDEN");
    if (r.multiMedia.length < 1 || r.multiMedia.length > 10)
      throw new RpcFailure(400, "MULTI_MEDIA_TOO_LONG");
    for (const m of r.multiMedia)
      if (m.message.length > 1024) throw new RpcFailure(400, "MEDIA_CAPTION_TOO_LONG");
    // All or nothing, as Telegram: one used random_id and the whole album is refused, none of its ids claimed.
    const ids = r.multiMedia.map((m) => m.randomId?.toString());
    if (ids.some((id) => id === undefined || id === "0")) throw new RpcFailure(400, "RANDOM_ID_EMPTY");
    if (new Set(ids).size !== ids.length) throw new RpcFailure(400, "RANDOM_ID_INVALID");
    for (const id of ids) {
      if (ctx.core.usedRandomIds.has(`${me(ctx).id}:${id}`)) throw new RpcFailure(500, "RANDOM_ID_DUPLICATE");
    }
    const docs: DocumentRecord[] = [];
    for (const m of r.multiMedia) docs.push(await mediaDocument(ctx, m.media));
    // An album is photos and videos, or documents, or audio: never a mix.
    if (new Set(docs.map(albumKind)).size > 1) throw new RpcFailure(400, "MEDIA_INVALID");
    for (const m of r.multiMedia) claimRandomId(ctx, m.randomId);
    const groupedId = r.multiMedia.length > 1 ? randomLong() : undefined;
    const records = r.multiMedia.map((m, i) => ({
      message: newMessage(ctx, chat, {
        text: m.message,
        document: docs[i],
        replyToMsgId: replyToId(r.replyTo),
        ...(groupedId === undefined ? {} : { groupedId }),
      }),
      randomId: m.randomId,
    }));
    return updatesForNew(ctx, records);
  },
  "messages.ForwardMessages": (ctx: CallContext, r: Api.messages.ForwardMessages) => {
    const from = resolvePeer(ctx, r.fromPeer);
    const to = resolvePeer(ctx, r.toPeer);
    if (r.id.length !== r.randomId.length) throw new RpcFailure(400, "RANDOM_ID_INVALID");
    for (const id of r.randomId) claimRandomId(ctx, id);
    const records = r.id.map((id, i) => {
      const src = ctx.core.world.getMessage(from, id);
      if (!src) throw new RpcFailure(400, "MESSAGE_ID_INVALID");
      const message = newMessage(ctx, to, {
        text: src.text,
        document: src.document,
        forwardedFrom: { chat: from, id },
      });
      return { message, randomId: r.randomId[i] };
    });
    return updatesForNew(ctx, records);
  },
  "messages.EditMessage": async (ctx: CallContext, r: Api.messages.EditMessage) => {
    const chat = resolvePeer(ctx, r.peer);
    const m = ctx.core.world.getMessage(chat, r.id);
    if (!m) throw new RpcFailure(400, "MESSAGE_ID_INVALID");
    if (m.fromId !== me(ctx).id) throw new RpcFailure(403, "MESSAGE_AUTHOR_REQUIRED");
    const buttons = r.replyMarkup !== undefined ? markupButtons(r.replyMarkup) : null;
    const sameText = r.message === undefined || r.message === m.text;
    const sameButtons = buttons === null || JSON.stringify(buttons) === JSON.stringify(m.buttons);
    if (sameText && sameButtons && !r.media) throw new RpcFailure(400, "MESSAGE_NOT_MODIFIED");
    if (r.media) m.document = await mediaDocument(ctx, r.media);
    ctx.core.world.editMessage(m, r.message, buttons, origin(ctx));
    return updatesForNew(ctx, [{ message: m }], true);
  },
  "messages.DeleteMessages": (ctx: CallContext, r: Api.messages.DeleteMessages) => {
    const self = me(ctx);
    // Private chats and basic groups share the account's message ids: one deletion per chat they live in.
    const byChat = new Map<string, { chat: ChatRef; ids: number[] }>();
    for (const id of r.id) {
      const m = findVisibleMessage(ctx, id);
      if (!m) continue;
      const chat = m.chat.kind === "group" ? ctx.core.world.chats.get(m.chat.id) : undefined;
      if (chat && m.fromId !== self.id && !chat.admins.has(self.id))
        throw new RpcFailure(403, "MESSAGE_DELETE_FORBIDDEN");
      const key = chatKey(m.chat);
      const group = byChat.get(key) ?? { chat: m.chat, ids: [] };
      group.ids.push(id);
      byChat.set(key, group);
    }
    const before = self.box.pts;
    for (const { chat, ids } of byChat.values()) ctx.core.world.deleteMessages(chat, ids, origin(ctx));
    return new Api.messages.AffectedMessages({ pts: self.box.pts, ptsCount: self.box.pts - before });
  },
  "channels.DeleteMessages": (ctx: CallContext, r: Api.channels.DeleteMessages) => {
    const c = resolveChannel(ctx, r.channel);
    const self = me(ctx).id;
    const ref: ChatRef = { kind: "channel", id: c.id };
    for (const id of r.id) {
      const m = ctx.core.world.getMessage(ref, id);
      if (m && m.fromId !== self && !c.admins.has(self))
        throw new RpcFailure(403, "MESSAGE_DELETE_FORBIDDEN");
    }
    const done = ctx.core.world.deleteMessages(ref, r.id, origin(ctx));
    return new Api.messages.AffectedMessages({ pts: c.box.pts, ptsCount: done.length });
  },
  /**
   * The account's chats, newest first: its groups and channels and the private chats that have messages, each with
   * its top message, and the users and chats they name (which is how a client learns their access hashes). One
   * slice of at most `limit`; no folders, pins or offsets.
   */
  "messages.GetDialogs": (ctx: CallContext, r: Api.messages.GetDialogs) => {
    const self = me(ctx).id;
    const world = ctx.core.world;
    const found: { peer: Api.TypePeer; top: MessageRecord | undefined; chat?: ChatRecord; user?: number }[] =
      [];
    for (const c of world.chats.values()) {
      if (!c.members.has(self)) continue;
      const list = world.messages.get(chatKey({ kind: c.kind, id: c.id })) ?? [];
      const peer =
        c.kind === "channel"
          ? new Api.PeerChannel({ channelId: returnBigInt(c.id) })
          : new Api.PeerChat({ chatId: returnBigInt(c.id) });
      found.push({ peer, top: list.findLast((m) => !m.deleted), chat: c });
    }
    for (const list of world.messages.values()) {
      const first = list[0];
      if (first?.chat.kind !== "private" || (first.chat.a !== self && first.chat.b !== self)) continue;
      const other = first.chat.a === self ? first.chat.b : first.chat.a;
      found.push({
        peer: new Api.PeerUser({ userId: returnBigInt(other) }),
        top: list.findLast((m) => !m.deleted),
        user: other,
      });
    }
    found.sort((a, b) => (b.top?.date ?? 0) - (a.top?.date ?? 0));
    const slice = found.slice(0, Math.max(0, Math.min(r.limit || 100, 100)));
    const users = new Map<number, Api.TypeUser>();
    for (const { user } of slice) {
      const u = user === undefined ? undefined : world.users.get(user);
      if (u) users.set(u.id, world.renderUser(u, self));
    }
    return new Api.messages.DialogsSlice({
      count: found.length,
      dialogs: slice.map(
        ({ peer, top }) =>
          new Api.Dialog({
            peer,
            topMessage: top?.id ?? 0,
            readInboxMaxId: 0,
            readOutboxMaxId: 0,
            unreadCount: 0,
            unreadMentionsCount: 0,
            unreadReactionsCount: 0,
            notifySettings: new Api.PeerNotifySettings({}),
          }),
      ),
      messages: slice.flatMap(({ top }) => (top ? [world.renderMessage(top, self)] : [])),
      chats: slice.flatMap(({ chat }) => (chat ? [world.renderChat(chat, self)] : [])),
      users: [...users.values()],
    });
  },
  "messages.GetMessages": (ctx: CallContext, r: Api.messages.GetMessages) => {
    const found: MessageRecord[] = [];
    const ids = r.id.map((x) => (x instanceof Api.InputMessageID ? x.id : 0));
    for (const id of ids) {
      const m = findVisibleMessage(ctx, id);
      if (m) found.push(m);
    }
    const res = messagesResult(ctx, found, ids.length);
    return new Api.messages.Messages({
      messages: ids.map((id) => {
        const i = found.findIndex((m) => m.id === id);
        return i >= 0 ? res.messages[i]! : new Api.MessageEmpty({ id });
      }),
      chats: [...res.chats.values()],
      users: [...res.users.values()],
    });
  },
  "channels.GetMessages": (ctx: CallContext, r: Api.channels.GetMessages) => {
    const c = resolveChannel(ctx, r.channel);
    if (!c.members.has(me(ctx).id) && !c.username) throw new RpcFailure(400, "CHANNEL_PRIVATE");
    const ids = r.id.map((x) => (x instanceof Api.InputMessageID ? x.id : 0));
    const ref: ChatRef = { kind: "channel", id: c.id };
    const found = ids.flatMap((id) => {
      const m = ctx.core.world.getMessage(ref, id);
      return m ? [m] : [];
    });
    const res = messagesResult(ctx, found, ids.length);
    return new Api.messages.ChannelMessages({
      pts: c.box.pts,
      count: found.length,
      messages: ids.map((id) => {
        const i = found.findIndex((m) => m.id === id);
        return i >= 0 ? res.messages[i]! : new Api.MessageEmpty({ id });
      }),
      topics: [],
      chats: [ctx.core.world.renderChat(c, me(ctx).id)],
      users: [...res.users.values()],
    });
  },
  "messages.SetBotCallbackAnswer": (ctx: CallContext, r: Api.messages.SetBotCallbackAnswer) => {
    const key = r.queryId.toString();
    const pending = ctx.core.callbackQueries.get(key);
    if (!pending || pending.botId !== me(ctx).id) throw new RpcFailure(400, "QUERY_ID_INVALID");
    pending.answer({ message: r.message, alert: !!r.alert });
    ctx.core.callbackQueries.delete(key);
    return true;
  },
  "bots.SetBotCommands": (ctx: CallContext, r: Api.bots.SetBotCommands) => {
    const self = me(ctx);
    if (!self.bot) throw new RpcFailure(400, "USER_BOT_REQUIRED");
    const commands = r.commands.map((c) => ({ command: c.command, description: c.description }));
    const scope = r.scope;
    const name =
      scope instanceof Api.BotCommandScopeUsers
        ? "users"
        : scope instanceof Api.BotCommandScopeChatAdmins
          ? "chat_admins"
          : scope instanceof Api.BotCommandScopePeer
            ? `peer:${scopePeerId(ctx, scope.peer)}`
            : "default";
    if (name === "default" && r.langCode === "") self.commands = commands;
    self.commandSets.set(commandSetKey(name, r.langCode), commands);
    return true;
  },

  "upload.SaveFilePart": (ctx: CallContext, r: Api.upload.SaveFilePart) => {
    ctx.core.uploads.saveSmallPart(me(ctx).id, r.fileId.toString(), r.filePart, r.bytes);
    return true;
  },
  "upload.SaveBigFilePart": async (ctx: CallContext, r: Api.upload.SaveBigFilePart) => {
    const self = me(ctx);
    await ctx.core.uploads.saveBigPart(
      self.id,
      r.fileId.toString(),
      r.filePart,
      r.fileTotalParts,
      r.bytes,
      self.premium,
    );
    return true;
  },
  "upload.GetFile": async (ctx: CallContext, r: Api.upload.GetFile) => {
    const offset = num(r.offset);
    if (offset < 0 || offset % 4096 !== 0) throw new RpcFailure(400, "OFFSET_INVALID");
    if (r.limit <= 0 || r.limit % 4096 !== 0 || GET_FILE_MAX % r.limit !== 0)
      throw new RpcFailure(400, "LIMIT_INVALID");
    const loc = r.location;
    let doc: DocumentRecord | undefined;
    let thumb = false;
    if (loc instanceof Api.InputDocumentFileLocation || loc instanceof Api.InputPhotoFileLocation) {
      doc = ctx.core.world.documents.get(loc.id.toString());
      if (!doc || doc.accessHash !== big(loc.accessHash)) throw new RpcFailure(400, "FILE_ID_INVALID");
      if (!Buffer.from(loc.fileReference).equals(doc.fileReference)) {
        throw new RpcFailure(400, "FILE_REFERENCE_EXPIRED");
      }
      thumb = loc instanceof Api.InputDocumentFileLocation && loc.thumbSize !== "" && !!doc.thumb;
    } else throw new RpcFailure(400, "LOCATION_INVALID");
    const filePath = thumb ? doc.thumb!.path : doc.path;
    const fh = await open(filePath, "r");
    try {
      const buf = Buffer.alloc(r.limit);
      const { bytesRead } = await fh.read(buf, 0, r.limit, offset);
      return new Api.upload.File({
        type:
          doc.mimeType.startsWith("image/jpeg") || thumb
            ? new Api.storage.FileJpeg()
            : new Api.storage.FileUnknown(),
        mtime: doc.date,
        bytes: buf.subarray(0, bytesRead),
      });
    } finally {
      await fh.close();
    }
  },
} satisfies Record<string, (ctx: CallContext, request: never) => unknown>;

export const METHODS: Record<string, Handler> = methods;
