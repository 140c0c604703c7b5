/**
 * The small world the server keeps: users and bots, auth keys bound to them, groups and channels with admins and
 * members, messages (with edits, deletions, inline keyboards and media), documents, and each account's and
 * channel's update log (update-log.ts). It renders each thing as the gramjs `Api` object a given viewer would
 * receive; it knows nothing about connections.
 */
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { Api } from "telegram";
import { returnBigInt } from "telegram/Helpers.js";
import { normalizePhone } from "./login-codes.js";
import { newPasswordRecord, type PasswordRecord, type SrpChallenge } from "./srp.js";
import {
  type BoxEntry,
  checkUpdateLogSettings,
  DEFAULT_UPDATE_LOG,
  type Origin,
  UpdateBox,
  type UpdateLogSettings,
} from "./update-log.js";

export interface UserRecord {
  id: number;
  accessHash: bigint;
  firstName: string;
  username: string | undefined;
  bot: boolean;
  premium: boolean;
  botToken: string | undefined;
  /** Bot commands set with bots.setBotCommands (default scope). */
  commands: { command: string; description: string }[];
  /** Every command list set with bots.setBotCommands, by `commandSetKey(scope, langCode)`. */
  commandSets: Map<string, { command: string; description: string }[]>;
  /** The language the user's app reports (shown to bots only, as Telegram does). */
  langCode: string | undefined;
  /** The account's common message box: pts, seq, date and the log getDifference reads. */
  box: UpdateBox;
  /** Digits only; users log in with it (auth.sendCode). */
  phone: string | undefined;
  /** The cloud password (2FA), when set. */
  password: PasswordRecord | undefined;
  /** The last account.getPassword challenge; auth.checkPassword must answer this one. */
  srp: SrpChallenge | undefined;
}

export interface AuthKeyRecord {
  id: string;
  key: Buffer;
  salt: bigint;
  /** The user this key is logged in as. */
  userId: number | undefined;
  /** Logged out from elsewhere (TelegramServer.revokeSession): authorised calls answer SESSION_REVOKED. */
  revoked: boolean;
  /** auth.signIn succeeded but the account has a password: auth.checkPassword finishes the login. */
  passwordPendingFor: number | undefined;
}

export function newAuthKeyRecord(id: string, key: Buffer, salt: bigint, userId?: number): AuthKeyRecord {
  return { id, key, salt, userId, revoked: false, passwordPendingFor: undefined };
}

export interface ChatRecord {
  kind: "group" | "channel";
  id: number;
  accessHash: bigint;
  title: string;
  username: string | undefined;
  /** Channels only: a supergroup rather than a broadcast channel. */
  megagroup: boolean;
  creatorId: number;
  admins: Set<number>;
  members: Set<number>;
  /** Channels number their messages themselves. */
  nextMessageId: number;
  /** Channels only: the channel's own message box (pts and log). */
  box: UpdateBox;
  date: number;
}

export interface DocumentRecord {
  id: bigint;
  accessHash: bigint;
  fileReference: Buffer;
  date: number;
  name: string;
  mimeType: string;
  size: number;
  sha256: string;
  path: string;
  attributes: Api.TypeDocumentAttribute[];
  /** A JPEG thumbnail stored next to the document, when one was uploaded. */
  thumb: { path: string; size: number; w: number; h: number } | undefined;
  photo: boolean;
}

/** Where a message lives: a private chat (two users), a basic group or a channel. */
export type ChatRef = { kind: "private"; a: number; b: number } | { kind: "group" | "channel"; id: number };

export interface MessageRecord {
  id: number;
  chat: ChatRef;
  fromId: number;
  date: number;
  text: string;
  editDate: number | undefined;
  edits: { date: number; text: string }[];
  deleted: boolean;
  document: DocumentRecord | undefined;
  buttons: { text: string; data: Buffer | undefined; url: string | undefined }[][] | undefined;
  replyToMsgId: number | undefined;
  forwardedFrom: { chat: ChatRef; id: number } | undefined;
  /** The album (messages.sendMultiMedia) the message belongs to. */
  groupedId?: bigint;
}

/**
 * What changed, with the update logged for each account it concerns (`entries`, by user id) or for the channel
 * (`channelEntry`), and the session that caused it (undefined: a test acting as a user, "another device").
 */
export type WorldEvent = (
  | { type: "message"; message: MessageRecord }
  | { type: "edit"; message: MessageRecord }
  | { type: "delete"; chat: ChatRef; ids: number[] }
  | { type: "callback"; queryId: bigint; user: UserRecord; message: MessageRecord; data: Buffer }
) & { entries: Map<number, BoxEntry>; channelEntry: BoxEntry | undefined; origin: Origin | undefined };

const FIRST_USER_ID = 1_000_001;
const FIRST_CHAT_ID = 2_000_001;

export function randomLong(): bigint {
  return randomBytes(8).readBigInt64LE(0);
}

export function chatKey(ref: ChatRef): string {
  return ref.kind === "private"
    ? `p:${Math.min(ref.a, ref.b)}:${Math.max(ref.a, ref.b)}`
    : `${ref.kind}:${ref.id}`;
}

export interface CreateUserOptions {
  firstName?: string;
  username?: string;
  premium?: boolean;
  bot?: boolean;
  /** Users only: the phone they log in with (auth.sendCode). */
  phone?: string;
  /** Users only: a cloud password (2FA) asked after the code. */
  password?: string;
  passwordHint?: string;
  /** Users only: the app's language ("en", "ru"), which Telegram shows to bots. */
  langCode?: string;
}

/** The key of a command list: the scope ("default", "users", "chat_admins", "peer:<id>") and the language. */
export function commandSetKey(scope: string, langCode: string): string {
  return `${scope}|${langCode}`;
}

/** What a test says when it makes a group or channel (server, control API and client share it). */
export interface CreateChatOptions {
  kind: "group" | "channel";
  title?: string;
  username?: string;
  megagroup?: boolean;
  creatorId: number;
  admins?: number[];
  members?: number[];
}

export class World extends EventEmitter<{ event: [WorldEvent] }> {
  readonly users = new Map<number, UserRecord>();
  readonly authKeys = new Map<string, AuthKeyRecord>();
  readonly chats = new Map<number, ChatRecord>();
  readonly documents = new Map<string, DocumentRecord>();
  /** Messages per chat key, in id order. */
  readonly messages = new Map<string, MessageRecord[]>();
  /** Private chats and basic groups share one message id sequence, as a user's message box does. */
  private nextMessageId = 1;
  private nextUserId = FIRST_USER_ID;
  private nextChatId = FIRST_CHAT_ID;
  readonly callbackAnswers = new Map<string, { message: string | undefined; alert: boolean }>();
  /** Slice size and bound of every update log; change with setUpdateLog. */
  readonly updateLog: UpdateLogSettings = { ...DEFAULT_UPDATE_LOG };

  setUpdateLog(settings: Partial<UpdateLogSettings>): UpdateLogSettings {
    checkUpdateLogSettings(settings);
    for (const [k, v] of Object.entries(settings)) {
      if (v !== undefined) this.updateLog[k as keyof UpdateLogSettings] = v;
    }
    for (const u of this.users.values()) u.box.trim();
    for (const c of this.chats.values()) c.box.trim();
    return { ...this.updateLog };
  }

  createUser(opts: CreateUserOptions = {}): UserRecord {
    const bot = opts.bot ?? false;
    const phone = opts.phone === undefined ? undefined : normalizePhone(opts.phone);
    if (phone !== undefined) {
      if (phone.length < 5 || phone.length > 15)
        throw new Error(`Expected a phone of 5 to 15 digits, got ${opts.phone}`);
      if (this.userByPhone(phone)) throw new Error(`phone ${phone} is taken`);
    }
    if (bot && (phone !== undefined || opts.password !== undefined))
      throw new Error("bots have no phone or password");
    const id = this.nextUserId++;
    const user: UserRecord = {
      id,
      accessHash: randomLong(),
      firstName: opts.firstName ?? (bot ? `Bot ${id}` : `User ${id}`),
      username: opts.username,
      bot,
      premium: !bot && (opts.premium ?? false),
      botToken: bot ? `${id}:${randomBytes(26).toString("base64url")}` : undefined,
      commands: [],
      commandSets: new Map(),
      langCode: bot ? undefined : opts.langCode,
      box: new UpdateBox(() => this.updateLog, true, now()),
      phone,
      password: opts.password === undefined ? undefined : newPasswordRecord(opts.password, opts.passwordHint),
      srp: undefined,
    };
    this.users.set(id, user);
    return user;
  }

  userByPhone(phone: string): UserRecord | undefined {
    const normalized = normalizePhone(phone);
    for (const u of this.users.values()) if (u.phone === normalized) return u;
    return undefined;
  }

  createChat(opts: CreateChatOptions): ChatRecord {
    const id = this.nextChatId++;
    const chat: ChatRecord = {
      kind: opts.kind,
      id,
      accessHash: randomLong(),
      title: opts.title ?? `Chat ${id}`,
      username: opts.username,
      megagroup: opts.megagroup ?? false,
      creatorId: opts.creatorId,
      admins: new Set([opts.creatorId, ...(opts.admins ?? [])]),
      members: new Set([opts.creatorId, ...(opts.admins ?? []), ...(opts.members ?? [])]),
      nextMessageId: 1,
      box: new UpdateBox(() => this.updateLog, false, now()),
      date: now(),
    };
    this.chats.set(id, chat);
    return chat;
  }

  userByToken(token: string): UserRecord | undefined {
    for (const u of this.users.values()) if (u.bot && u.botToken === token) return u;
    return undefined;
  }

  findByUsername(username: string): UserRecord | ChatRecord | undefined {
    const name = username.toLowerCase();
    for (const u of this.users.values()) if (u.username?.toLowerCase() === name) return u;
    for (const c of this.chats.values()) if (c.username?.toLowerCase() === name) return c;
    return undefined;
  }

  /** Users who see messages of a chat (and get its updates). */
  audience(ref: ChatRef): number[] {
    if (ref.kind === "private") return ref.a === ref.b ? [ref.a] : [ref.a, ref.b];
    return [...(this.chats.get(ref.id)?.members ?? [])];
  }

  canWrite(userId: number, ref: ChatRef): boolean {
    if (ref.kind === "private") return ref.a === userId || ref.b === userId;
    const chat = this.chats.get(ref.id);
    if (!chat?.members.has(userId)) return false;
    return chat.kind === "group" || chat.megagroup || chat.admins.has(userId);
  }

  addMessage(
    m: Omit<MessageRecord, "id" | "date" | "editDate" | "edits" | "deleted">,
    origin?: Origin,
  ): MessageRecord {
    const chat = m.chat.kind === "channel" ? this.chats.get(m.chat.id) : undefined;
    const id = chat ? chat.nextMessageId++ : this.nextMessageId++;
    const record: MessageRecord = { ...m, id, date: now(), editDate: undefined, edits: [], deleted: false };
    const key = chatKey(m.chat);
    const list = this.messages.get(key) ?? [];
    this.messages.set(key, list);
    list.push(record);
    const logged = this.log(m.chat, { kind: "newMessage", message: record }, 1, origin);
    this.emit("event", { type: "message", message: record, origin, ...logged });
    return record;
  }

  /**
   * Logs an update in the box of every account that sees the chat (private chats, basic groups) or in the
   * channel's box.
   */
  private log(
    ref: ChatRef,
    event: BoxEntry["event"],
    ptsCount: number,
    origin: Origin | undefined,
  ): { entries: Map<number, BoxEntry>; channelEntry: BoxEntry | undefined } {
    const entries = new Map<number, BoxEntry>();
    if (ref.kind === "channel") {
      const chat = this.chats.get(ref.id);
      return { entries, channelEntry: chat?.box.add(event, ptsCount, origin, now()) };
    }
    for (const uid of this.audience(ref)) {
      const u = this.users.get(uid);
      if (u) entries.set(uid, u.box.add(event, ptsCount, origin, now()));
    }
    return { entries, channelEntry: undefined };
  }

  getMessage(ref: ChatRef, id: number): MessageRecord | undefined {
    const m = this.messages.get(chatKey(ref))?.find((x) => x.id === id);
    return m && !m.deleted ? m : undefined;
  }

  editMessage(
    m: MessageRecord,
    text: string | undefined,
    buttons: MessageRecord["buttons"] | null,
    origin?: Origin,
  ): void {
    m.edits.push({ date: m.editDate ?? m.date, text: m.text });
    if (text !== undefined) m.text = text;
    if (buttons !== null) m.buttons = buttons;
    m.editDate = now();
    const logged = this.log(m.chat, { kind: "editMessage", message: m }, 1, origin);
    this.emit("event", { type: "edit", message: m, origin, ...logged });
  }

  deleteMessages(ref: ChatRef, ids: number[], origin?: Origin): number[] {
    const done: number[] = [];
    for (const id of ids) {
      const m = this.getMessage(ref, id);
      if (m) {
        m.deleted = true;
        done.push(id);
      }
    }
    if (done.length) {
      const logged = this.log(ref, { kind: "deleteMessages", ids: done }, done.length, origin);
      this.emit("event", { type: "delete", chat: ref, ids: done, origin, ...logged });
    }
    return done;
  }

  /** A user pressed a callback button of a bot's message: logged in the bot's box by date (no pts). */
  addCallbackQuery(queryId: bigint, user: UserRecord, message: MessageRecord, data: Buffer): void {
    const bot = this.users.get(message.fromId);
    if (!bot) throw new Error(`no user ${message.fromId}`);
    const event = { kind: "botCallbackQuery" as const, queryId, userId: user.id, message, data };
    const entry = bot.box.add(event, 0, undefined, now());
    this.emit("event", {
      type: "callback",
      queryId,
      user,
      message,
      data,
      entries: new Map([[bot.id, entry]]),
      channelEntry: undefined,
      origin: undefined,
    });
  }

  // ---- rendering as the viewer sees it ----

  renderUser(u: UserRecord, viewerId: number | undefined): Api.User {
    return new Api.User({
      self: u.id === viewerId,
      phone: u.id === viewerId ? u.phone : undefined,
      bot: u.bot,
      premium: u.premium,
      id: returnBigInt(u.id),
      accessHash: returnBigInt(u.accessHash),
      firstName: u.firstName,
      username: u.username,
      langCode: viewerId !== undefined && this.users.get(viewerId)?.bot ? u.langCode : undefined,
      botInfoVersion: u.bot ? 1 : undefined,
      status: u.bot ? undefined : new Api.UserStatusRecently({}),
    });
  }

  renderChat(c: ChatRecord, viewerId: number | undefined): Api.TypeChat {
    const member = viewerId !== undefined && c.members.has(viewerId);
    const admin = viewerId !== undefined && c.admins.has(viewerId);
    if (c.kind === "group") {
      return new Api.Chat({
        creator: c.creatorId === viewerId,
        left: !member,
        id: returnBigInt(c.id),
        title: c.title,
        photo: new Api.ChatPhotoEmpty(),
        participantsCount: c.members.size,
        date: c.date,
        version: 1,
      });
    }
    return new Api.Channel({
      creator: c.creatorId === viewerId,
      left: !member,
      broadcast: !c.megagroup,
      megagroup: c.megagroup,
      id: returnBigInt(c.id),
      accessHash: returnBigInt(c.accessHash),
      title: c.title,
      username: c.username,
      photo: new Api.ChatPhotoEmpty(),
      date: c.date,
      participantsCount: c.members.size,
      adminRights: admin ? adminRights() : undefined,
    });
  }

  /** The peer a message is "in" for this viewer: in a private chat, the other user. */
  peerFor(ref: ChatRef, viewerId: number): Api.TypePeer {
    if (ref.kind === "private") {
      const other = ref.a === viewerId ? ref.b : ref.a;
      return new Api.PeerUser({ userId: returnBigInt(other) });
    }
    if (ref.kind === "group") return new Api.PeerChat({ chatId: returnBigInt(ref.id) });
    return new Api.PeerChannel({ channelId: returnBigInt(ref.id) });
  }

  renderDocument(d: DocumentRecord): Api.Document {
    return new Api.Document({
      id: returnBigInt(d.id),
      accessHash: returnBigInt(d.accessHash),
      fileReference: d.fileReference,
      date: d.date,
      mimeType: d.mimeType,
      size: returnBigInt(d.size),
      dcId: 2,
      attributes: d.attributes,
      thumbs: d.thumb
        ? [new Api.PhotoSize({ type: "m", w: d.thumb.w, h: d.thumb.h, size: d.thumb.size })]
        : undefined,
    });
  }

  renderPhoto(d: DocumentRecord): Api.Photo {
    return new Api.Photo({
      id: returnBigInt(d.id),
      accessHash: returnBigInt(d.accessHash),
      fileReference: d.fileReference,
      date: d.date,
      sizes: [new Api.PhotoSize({ type: "x", w: 800, h: 800, size: d.size })],
      dcId: 2,
    });
  }

  renderMessage(m: MessageRecord, viewerId: number): Api.Message {
    const channel = m.chat.kind === "channel" ? this.chats.get(m.chat.id) : undefined;
    const broadcast = channel !== undefined && !channel.megagroup;
    return new Api.Message({
      out: m.fromId === viewerId,
      id: m.id,
      peerId: this.peerFor(m.chat, viewerId),
      fromId: broadcast ? undefined : new Api.PeerUser({ userId: returnBigInt(m.fromId) }),
      date: m.date,
      message: m.text,
      editDate: m.editDate,
      post: broadcast,
      groupedId: m.groupedId === undefined ? undefined : returnBigInt(m.groupedId),
      media: m.document
        ? m.document.photo
          ? new Api.MessageMediaPhoto({ photo: this.renderPhoto(m.document) })
          : new Api.MessageMediaDocument({ document: this.renderDocument(m.document) })
        : undefined,
      replyTo: m.replyToMsgId ? new Api.MessageReplyHeader({ replyToMsgId: m.replyToMsgId }) : undefined,
      replyMarkup: m.buttons
        ? new Api.ReplyInlineMarkup({
            rows: m.buttons.map(
              (row) =>
                new Api.KeyboardButtonRow({
                  buttons: row.map((b) =>
                    b.url !== undefined
                      ? new Api.KeyboardButtonUrl({ text: b.text, url: b.url })
                      : new Api.KeyboardButtonCallback({ text: b.text, data: b.data ?? Buffer.alloc(0) }),
                  ),
                }),
            ),
          })
        : undefined,
    });
  }

  /** Users and chats a message mentions, so the viewer's client can cache their access hashes. */
  entitiesFor(m: MessageRecord, viewerId: number): { users: Api.TypeUser[]; chats: Api.TypeChat[] } {
    const ids = new Set<number>([m.fromId, viewerId]);
    if (m.chat.kind === "private") {
      ids.add(m.chat.a);
      ids.add(m.chat.b);
    }
    const users = [...ids].flatMap((id) => {
      const u = this.users.get(id);
      return u ? [this.renderUser(u, viewerId)] : [];
    });
    const chat = m.chat.kind === "private" ? undefined : this.chats.get(m.chat.id);
    return { users, chats: chat ? [this.renderChat(chat, viewerId)] : [] };
  }
}

export function adminRights(): Api.ChatAdminRights {
  return new Api.ChatAdminRights({
    changeInfo: true,
    postMessages: true,
    editMessages: true,
    deleteMessages: true,
    banUsers: true,
    inviteUsers: true,
    pinMessages: true,
  });
}

export function now(): number {
  return Math.floor(Date.now() / 1000);
}
