/**
 * The server's lifecycle and its in-process API: listen on 127.0.0.1 (stop, restart and outages keep the world),
 * build the world, act as users, read chats and update state, log users in and out, set faults, read counters,
 * close (removing every temp file).
 */
import { createHash, randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import os, { availableParallelism } from "node:os";
import path from "node:path";
import { Api } from "telegram";
import { AuthKey } from "telegram/crypto/AuthKey.js";
import { StringSession } from "telegram/sessions/index.js";
import { Connection } from "./connection.js";
import { authKeyId, generateServerRsaKey, initCrypto, type ServerRsaKey } from "./crypto.js";
import { DecryptPool } from "./decrypt-pool.js";
import { type FaultSettings, Faults, type NetworkConditions } from "./faults.js";
import type { LoginCode } from "./login-codes.js";
import { ServerCore } from "./server-core.js";
import type { BoxState, UpdateLogSettings } from "./update-log.js";
import { deliverEvent } from "./updates.js";
import { UploadStore } from "./uploads.js";
import {
  type ChatRecord,
  type ChatRef,
  type CreateChatOptions,
  type CreateUserOptions,
  chatKey,
  type DocumentRecord,
  type MessageRecord,
  newAuthKeyRecord,
  now,
  randomLong,
  type UserRecord,
  World,
} from "./world.js";

export interface TelegramServerOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** The data-centre id the server claims to be. @default 2 */
  dcId?: number;
  conditions?: Partial<NetworkConditions>;
  faults?: Partial<FaultSettings>;
  /** Where uploads are assembled; a fresh temp dir (removed on close) by default. */
  tempDir?: string;
  /** Receives one line per notable event (unknown methods, drops, errors). @default a line on stderr */
  log?: (line: string) => void;
  /** A reusable RSA key (generating one takes ~100 ms). */
  rsaKey?: ServerRsaKey;
  /**
   * Worker threads decrypting big packets (file parts); 0 decrypts on the main thread.
   * @default env LOCAL_TELEGRAM_DECRYPT_WORKERS, else min(4, available cores)
   */
  decryptWorkers?: number;
  /** getDifference slice size and the bound of each account's update log. @default { sliceSize: 100, maxEntries: 10000 } */
  updateLog?: Partial<UpdateLogSettings>;
  /** How long a login code stays valid. @default 300000 (5 minutes) */
  loginCodeTtlMs?: number;
}

/**
 * How new connections fare during an outage (existing ones are dropped when it starts): `refuse` closes the
 * listening socket (ECONNREFUSED, as a server that is down), `reset` accepts and resets at once (counted),
 * `blackhole` accepts, reads and never answers (counted; closed when the outage ends).
 */
export type OutageMode = "refuse" | "reset" | "blackhole";

export interface OutageView {
  mode: OutageMode;
  /** When it lifts by itself (epoch ms), or null: until endOutage(). */
  until: number | null;
}

export interface UserOptions {
  firstName?: string;
  username?: string;
  premium?: boolean;
  /** Also return a StringSession already logged in as the user. */
  session?: boolean;
  /** The phone the user logs in with (auth.sendCode / auth.signIn). */
  phone?: string;
  /** A cloud password: auth.signIn then answers SESSION_PASSWORD_NEEDED and auth.checkPassword (SRP) follows. */
  password?: string;
  passwordHint?: string;
  /** The app's language ("en", "ru"), which Telegram shows to bots. */
  langCode?: string;
}

/** What the server tells in-process listeners (tests wait on these instead of sleeping). */
export interface ServerEvents {
  /** A connection is being served. */
  connection: [id: number];
  /** A connection was reset or black-holed by an outage. */
  outageConnection: [mode: "reset" | "blackhole"];
  outageEnded: [];
  listening: [port: number];
  stopped: [];
}

/** Which chat: a private chat between two users, or a group/channel by id. */
export type ChatSpec = { user: number; peer: number } | { chat: number };

export interface MediaView {
  kind: "document" | "photo";
  name: string;
  size: number;
  mimeType: string;
  sha256: string;
  attributes: Record<string, unknown>[];
  hasThumb: boolean;
  /** Where the server keeps the thumbnail uploaded with the file, to check its bytes. */
  thumbPath: string | null;
  /** Where the server keeps the file itself, to probe what arrived. */
  path: string;
}

export interface MessageView {
  id: number;
  fromId: number;
  date: number;
  text: string;
  editDate: number | null;
  edits: { date: number; text: string }[];
  deleted: boolean;
  replyToMsgId: number | null;
  buttons: { text: string; data: string | null; url: string | null }[][] | null;
  media: MediaView | null;
  /** The album it was sent in (messages.sendMultiMedia), as text; null for a lone message. */
  groupedId: string | null;
}

export interface UserView {
  id: number;
  accessHash: string;
  firstName: string;
  username: string | null;
  bot: boolean;
  premium: boolean;
  /** Digits only. */
  phone: string | null;
  hasPassword: boolean;
  botToken: string | null;
  /** A gramjs StringSession already logged in as this user, when asked for. */
  session: string | null;
}

export class TelegramServer {
  readonly world = new World();
  readonly faults: Faults;
  readonly core: ServerCore;
  readonly rsa: ServerRsaKey;
  readonly dcId: number;
  readonly host = "127.0.0.1";
  readonly events = new EventEmitter<ServerEvents>();
  private tcp: Server | undefined;
  /** The port given at start, then the one first bound: restarts listen on it again. */
  private listenPort: number;
  private outage: (OutageView & { timer: NodeJS.Timeout | undefined }) | undefined;
  private readonly blackholed = new Set<Socket>();
  private nextConnId = 1;
  private closed = false;

  private constructor(options: TelegramServerOptions, tempDir: string) {
    initCrypto();
    this.rsa = options.rsaKey ?? generateServerRsaKey();
    this.dcId = options.dcId ?? 2;
    this.faults = new Faults(options.conditions, options.faults);
    this.core = new ServerCore(
      this.world,
      new UploadStore(tempDir),
      this.faults,
      this.rsa,
      this.dcId,
      this.host,
      () => this.port,
      options.log ?? ((line) => process.stderr.write(`[local-telegram] ${line}\n`)),
    );
    this.tempDir = tempDir;
    const envWorkers = process.env.LOCAL_TELEGRAM_DECRYPT_WORKERS;
    const workers =
      options.decryptWorkers ?? (envWorkers ? Number(envWorkers) : Math.min(4, availableParallelism()));
    if (workers > 0) this.core.decryptPool = new DecryptPool(workers);
    this.world.on("event", (e) => deliverEvent(this.core, e));
    if (options.updateLog) this.world.setUpdateLog(options.updateLog);
    if (options.loginCodeTtlMs !== undefined) this.setLoginCodeTtl(options.loginCodeTtlMs);
    this.listenPort = options.port ?? 0;
  }

  private onSocket(socket: Socket): void {
    const mode = this.outage?.mode;
    if (mode === "reset" || mode === "blackhole") {
      socket.on("error", () => undefined);
      if (mode === "reset") {
        this.core.counters.connectionsReset++;
        socket.resetAndDestroy();
      } else {
        this.core.counters.connectionsBlackholed++;
        this.blackholed.add(socket);
        socket.on("data", () => undefined); // read, never answer
        socket.on("close", () => this.blackholed.delete(socket));
      }
      this.events.emit("outageConnection", mode);
      return;
    }
    const conn = new Connection(this.core, socket, this.nextConnId++);
    this.core.connections.add(conn);
    this.core.counters.connectionsOpen++;
    this.core.counters.connectionsTotal++;
    this.events.emit("connection", conn.id);
  }

  readonly tempDir: string;

  static async start(options: TelegramServerOptions = {}): Promise<TelegramServer> {
    const dir = options.tempDir ?? (await mkdtemp(path.join(os.tmpdir(), "local-telegram-")));
    const server = new TelegramServer(options, dir);
    await server.listen();
    return server;
  }

  /** The MTProto port; the same across stopListening()/listen() and restart(). */
  get port(): number {
    return this.listenPort;
  }

  get listening(): boolean {
    return this.tcp !== undefined;
  }

  // ---- lifecycle: restarts and outages keep the world, auth keys, update logs and uploads ----

  /** Listens again (on the same port) after stopListening(); not while a "refuse" outage lasts. */
  async listen(): Promise<void> {
    if (this.tcp || this.closed || this.outage?.mode === "refuse") return;
    const tcp = createServer((socket) => this.onSocket(socket));
    await new Promise<void>((resolve, reject) => {
      tcp.once("error", reject);
      tcp.listen(this.listenPort, this.host, () => {
        tcp.off("error", reject);
        resolve();
      });
    });
    const a = tcp.address();
    if (a && typeof a === "object") this.listenPort = a.port;
    this.tcp = tcp;
    this.events.emit("listening", this.listenPort);
  }

  /** Closes the listening socket and every connection: clients see the server go away (ECONNREFUSED). */
  async stopListening(): Promise<void> {
    const tcp = this.tcp;
    if (!tcp) return;
    this.tcp = undefined;
    const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
    this.dropConnections();
    for (const socket of this.blackholed) socket.destroy();
    await closed;
    this.events.emit("stopped");
  }

  /** stopListening(), `downMs` without a server, listen() on the same port. */
  async restart(opts: { downMs?: number } = {}): Promise<void> {
    await this.stopListening();
    if (opts.downMs) await new Promise((resolve) => setTimeout(resolve, opts.downMs));
    await this.listen();
  }

  /**
   * A network outage: drops every connection now, then treats new ones as `mode` says until endOutage() or, with
   * `durationMs`, until that time has passed. A new outage replaces the current one.
   */
  async startOutage(opts: { mode: OutageMode; durationMs?: number }): Promise<OutageView> {
    if (!["refuse", "reset", "blackhole"].includes(opts.mode)) {
      throw new Error(`Expected mode refuse, reset or blackhole, got ${opts.mode}`);
    }
    if (opts.durationMs !== undefined && !(opts.durationMs > 0)) {
      throw new Error(`Expected durationMs > 0, got ${opts.durationMs}`);
    }
    await this.endOutage();
    const until = opts.durationMs !== undefined ? Date.now() + opts.durationMs : null;
    const timer =
      opts.durationMs !== undefined ? setTimeout(() => void this.endOutage(), opts.durationMs) : undefined;
    this.outage = { mode: opts.mode, until, timer };
    if (opts.mode === "refuse") await this.stopListening();
    else {
      this.dropConnections();
      await this.listen(); // reset and blackhole accept connections
    }
    this.core.log(`outage (${opts.mode}) ${until === null ? "until lifted" : `for ${opts.durationMs} ms`}`);
    return this.outageState()!;
  }

  /** Lifts the outage: black-holed connections close, the server listens and answers again. */
  async endOutage(): Promise<void> {
    const o = this.outage;
    if (!o) return;
    this.outage = undefined;
    clearTimeout(o.timer);
    for (const socket of this.blackholed) socket.destroy();
    if (o.mode === "refuse") await this.listen();
    this.core.log(`outage (${o.mode}) lifted`);
    this.events.emit("outageEnded");
  }

  outageState(): OutageView | null {
    return this.outage ? { mode: this.outage.mode, until: this.outage.until } : null;
  }

  // ---- world ----

  createUser(opts: UserOptions = {}): UserView {
    const { session, ...rest } = opts;
    const u = this.world.createUser({ ...rest, bot: false } satisfies CreateUserOptions);
    return this.viewUser(u, session ? this.createSession(u.id) : null);
  }

  createBot(opts: { firstName?: string; username?: string } = {}): UserView {
    return this.viewUser(this.world.createUser({ ...opts, bot: true }), null);
  }

  /** A StringSession whose auth key the server already bound to the user: no login flow needed. */
  createSession(userId: number): string {
    if (!this.world.users.has(userId)) throw new Error(`no user ${userId}`);
    const key = randomBytes(256);
    const id = authKeyId(key);
    this.world.authKeys.set(id, newAuthKeyRecord(id, key, randomBytes(8).readBigInt64LE(0), userId));
    const session = new StringSession("");
    session.setDC(this.dcId, this.host, 443);
    // The (key, sha1) constructor form is synchronous, unlike AuthKey.setKey().
    session.setAuthKey(new AuthKey(key, createHash("sha1").update(key).digest()));
    return session.save();
  }

  createChat(opts: CreateChatOptions): {
    id: number;
    accessHash: string;
    kind: string;
    title: string;
    peerId: string;
  } {
    for (const id of [opts.creatorId, ...(opts.admins ?? []), ...(opts.members ?? [])]) {
      if (!this.world.users.has(id)) throw new Error(`no user ${id}`);
    }
    const c = this.world.createChat(opts);
    return this.viewChat(c);
  }

  addMember(chatId: number, userId: number, admin = false): void {
    const c = this.requireChat(chatId);
    if (!this.world.users.has(userId)) throw new Error(`no user ${userId}`);
    c.members.add(userId);
    if (admin) c.admins.add(userId);
  }

  removeMember(chatId: number, userId: number): void {
    const c = this.requireChat(chatId);
    c.members.delete(userId);
    c.admins.delete(userId);
  }

  // ---- acting as a user ----

  sendText(from: number, chat: ChatSpec, text: string, replyTo?: number): MessageView {
    const ref = this.chatRef(chat);
    if (!this.world.canWrite(from, ref)) throw new Error(`user ${from} cannot write to that chat`);
    const m = this.world.addMessage({
      chat: ref,
      fromId: from,
      text,
      document: undefined,
      buttons: undefined,
      replyToMsgId: replyTo,
      forwardedFrom: undefined,
    });
    return this.viewMessage(m);
  }

  async sendDocument(
    from: number,
    chat: ChatSpec,
    file: { name: string; mimeType?: string; content: Buffer; caption?: string; thumb?: Buffer },
  ): Promise<MessageView> {
    const ref = this.chatRef(chat);
    if (!this.world.canWrite(from, ref)) throw new Error(`user ${from} cannot write to that chat`);
    const filePath = path.join(this.tempDir, `user-doc-${randomBytes(6).toString("hex")}`);
    await writeFile(filePath, file.content);
    let thumb: DocumentRecord["thumb"];
    if (file.thumb) {
      await writeFile(`${filePath}.thumb.jpg`, file.thumb);
      thumb = { path: `${filePath}.thumb.jpg`, size: file.thumb.length, w: 90, h: 90 };
    }
    const doc: DocumentRecord = {
      id: randomLong(),
      accessHash: randomLong(),
      fileReference: randomBytes(8),
      date: now(),
      name: file.name,
      mimeType: file.mimeType ?? "application/octet-stream",
      size: file.content.length,
      sha256: createHash("sha256").update(file.content).digest("hex"),
      path: filePath,
      attributes: [new Api.DocumentAttributeFilename({ fileName: file.name })],
      thumb,
      photo: false,
    };
    this.world.documents.set(doc.id.toString(), doc);
    const m = this.world.addMessage({
      chat: ref,
      fromId: from,
      text: file.caption ?? "",
      document: doc,
      buttons: undefined,
      replyToMsgId: undefined,
      forwardedFrom: undefined,
    });
    return this.viewMessage(m);
  }

  /** Sends a photo as the user (Telegram would recompress it to JPEG; here its bytes are kept as sent). */
  async sendPhoto(
    from: number,
    chat: ChatSpec,
    file: { content: Buffer; caption?: string },
  ): Promise<MessageView> {
    const ref = this.chatRef(chat);
    if (!this.world.canWrite(from, ref)) throw new Error(`user ${from} cannot write to that chat`);
    const filePath = path.join(this.tempDir, `user-photo-${randomBytes(6).toString("hex")}`);
    await writeFile(filePath, file.content);
    const doc: DocumentRecord = {
      id: randomLong(),
      accessHash: randomLong(),
      fileReference: randomBytes(8),
      date: now(),
      name: "photo.jpg",
      mimeType: "image/jpeg",
      size: file.content.length,
      sha256: createHash("sha256").update(file.content).digest("hex"),
      path: filePath,
      attributes: [],
      thumb: undefined,
      photo: true,
    };
    this.world.documents.set(doc.id.toString(), doc);
    const m = this.world.addMessage({
      chat: ref,
      fromId: from,
      text: file.caption ?? "",
      document: doc,
      buttons: undefined,
      replyToMsgId: undefined,
      forwardedFrom: undefined,
    });
    return this.viewMessage(m);
  }

  /** Edits a message the user wrote (as from another device: every session of the user is told). */
  editText(from: number, chat: ChatSpec, messageId: number, text: string): MessageView {
    const m = this.world.getMessage(this.chatRef(chat), messageId);
    if (!m) throw new Error(`no message ${messageId} in that chat`);
    if (m.fromId !== from) throw new Error(`user ${from} did not write message ${messageId}`);
    if (m.text === text) throw new Error("MESSAGE_NOT_MODIFIED");
    this.world.editMessage(m, text, null);
    return this.viewMessage(m);
  }

  /** Deletes messages for everyone, as the user (their own, or any in a group they administer); returns the ids. */
  deleteMessages(from: number, chat: ChatSpec, ids: number[]): number[] {
    const ref = this.chatRef(chat);
    const group = ref.kind === "private" ? undefined : this.world.chats.get(ref.id);
    for (const id of ids) {
      const m = this.world.getMessage(ref, id);
      if (m && m.fromId !== from && !group?.admins.has(from)) {
        throw new Error(`user ${from} may not delete message ${id}`);
      }
    }
    return this.world.deleteMessages(ref, ids);
  }

  /** Presses an inline button; resolves with the bot's answer, or `answered: false` after the timeout. */
  async pressButton(
    from: number,
    chat: ChatSpec,
    messageId: number,
    button: { data?: string; text?: string; forged?: boolean },
    timeoutMs = 5000,
  ): Promise<{ answered: boolean; message: string | null; alert: boolean }> {
    const ref = this.chatRef(chat);
    const m = this.world.getMessage(ref, messageId);
    if (!m) throw new Error(`no message ${messageId} in that chat`);
    // A forged press sends data no button carries, as a modified client can (messages.getBotCallbackAnswer).
    const b =
      button.forged && button.data !== undefined
        ? { data: Buffer.from(button.data, "utf8") }
        : m.buttons
            ?.flat()
            .find(
              (x) =>
                x.data &&
                (button.data !== undefined ? x.data.toString() === button.data : x.text === button.text),
            );
    if (!b?.data) throw new Error("no such callback button on that message");
    const user = this.world.users.get(from)!;
    const queryId = randomLong();
    const answer = new Promise<{ answered: boolean; message: string | null; alert: boolean }>((resolve) => {
      const timer = setTimeout(() => {
        this.core.callbackQueries.delete(queryId.toString());
        resolve({ answered: false, message: null, alert: false });
      }, timeoutMs);
      this.core.callbackQueries.set(queryId.toString(), {
        botId: m.fromId,
        answer: (a) => {
          clearTimeout(timer);
          resolve({ answered: true, message: a.message ?? null, alert: a.alert });
        },
      });
    });
    this.world.addCallbackQuery(queryId, user, m, b.data);
    return answer;
  }

  // ---- logins and sessions ----

  /** The newest login code sent to the phone (auth.sendCode), as the user would read it in their app. */
  loginCode(phone: string): LoginCode | undefined {
    const c = this.core.loginCodes.latest(phone);
    return c ? { ...c } : undefined;
  }

  setLoginCodeTtl(ms: number): void {
    if (!(Number.isFinite(ms) && ms > 0)) throw new Error(`Expected loginCodeTtlMs > 0, got ${ms}`);
    this.core.loginCodes.ttlMs = ms;
  }

  /**
   * Ends every session of the user, as "terminate all sessions" on another device does: each auth key logged in
   * as the user answers 401 SESSION_REVOKED to every call that needs a login, until it logs in again.
   */
  revokeSession(userId: number): number {
    if (!this.world.users.has(userId)) throw new Error(`no user ${userId}`);
    let n = 0;
    for (const key of this.world.authKeys.values()) {
      if (key.userId !== userId && key.passwordPendingFor !== userId) continue;
      key.userId = undefined;
      key.passwordPendingFor = undefined;
      key.revoked = true;
      n++;
    }
    this.core.log(`revoked ${n} session(s) of user ${userId}`);
    return n;
  }

  // ---- update state ----

  /** The account's common message box now: what updates.getState answers. */
  updateState(userId: number): BoxState & { logged: number } {
    const u = this.world.users.get(userId);
    if (!u) throw new Error(`no user ${userId}`);
    return { ...u.box.state(), logged: u.box.size };
  }

  /** Sets the getDifference slice size and/or the bound of every update log (applied at once). */
  setUpdateLog(settings: Partial<UpdateLogSettings>): UpdateLogSettings {
    return this.world.setUpdateLog(settings);
  }

  // ---- reading ----

  messages(chat: ChatSpec, includeDeleted = true): MessageView[] {
    return (this.world.messages.get(chatKey(this.chatRef(chat))) ?? [])
      .filter((m) => includeDeleted || !m.deleted)
      .map((m) => this.viewMessage(m));
  }

  /** Resolves when a message matching `predicate` exists in the chat, or rejects after `timeoutMs`. */
  async waitForMessage(
    chat: ChatSpec,
    predicate: (m: MessageView) => boolean,
    timeoutMs = 10_000,
  ): Promise<MessageView> {
    const found = this.messages(chat, false).find(predicate);
    if (found) return found;
    return new Promise((resolve, reject) => {
      const onEvent = () => {
        const hit = this.messages(chat, false).find(predicate);
        if (hit) {
          cleanup();
          resolve(hit);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching message within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.world.off("event", onEvent);
      };
      this.world.on("event", onEvent);
    });
  }

  /** Forgets every saved part of uploads not yet sent, as Telegram's expiry does; returns how many uploads. */
  expireUploadedParts(): Promise<number> {
    return this.core.uploads.expireParts();
  }

  /** Every uploaded-and-sent file, newest last. */
  documents(): MediaView[] {
    return [...this.world.documents.values()].map((d) => viewMedia(d));
  }

  counters() {
    const c = this.core.counters;
    return {
      connectionsOpen: c.connectionsOpen,
      connectionsTotal: c.connectionsTotal,
      handshakes: c.handshakes,
      bytesIn: c.bytesIn,
      bytesOut: c.bytesOut,
      rpcs: { ...c.rpcs },
      errors: { ...c.errors },
      unknownMethods: { ...c.unknownMethods },
      undecodable: { ...c.undecodable },
      layersRefused: { ...c.layersRefused },
      connectionsReset: c.connectionsReset,
      connectionsBlackholed: c.connectionsBlackholed,
      floodWaits: this.faults.floodWaits,
      dropped: this.faults.dropped,
      callsDropped: { ...this.faults.callsDropped },
    };
  }

  /** Closes every open connection now (clients see a dropped connection and reconnect). */
  dropConnections(userId?: number): number {
    let n = 0;
    for (const conn of [...this.core.connections]) {
      if (userId !== undefined && conn.userId !== userId) continue;
      conn.close();
      n++;
    }
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.outage) clearTimeout(this.outage.timer);
    this.outage = undefined;
    await this.stopListening();
    for (const q of this.core.callbackQueries.values()) q.answer({ message: undefined, alert: false });
    await this.core.uploads.close();
    await this.core.decryptPool?.close();
  }

  // ---- helpers ----

  private requireChat(id: number): ChatRecord {
    const c = this.world.chats.get(id);
    if (!c) throw new Error(`no chat ${id}`);
    return c;
  }

  private chatRef(chat: ChatSpec): ChatRef {
    if ("chat" in chat) {
      const c = this.requireChat(chat.chat);
      return { kind: c.kind, id: c.id };
    }
    for (const id of [chat.user, chat.peer]) if (!this.world.users.has(id)) throw new Error(`no user ${id}`);
    return { kind: "private", a: chat.user, b: chat.peer };
  }

  private viewUser(u: UserRecord, session: string | null): UserView {
    return {
      id: u.id,
      accessHash: u.accessHash.toString(),
      firstName: u.firstName,
      username: u.username ?? null,
      bot: u.bot,
      premium: u.premium,
      phone: u.phone ?? null,
      hasPassword: u.password !== undefined,
      botToken: u.botToken ?? null,
      session,
    };
  }

  private viewChat(c: ChatRecord) {
    // The id gramjs and the Bot API use for the chat: -id for groups, -100id for channels.
    const peerId = c.kind === "group" ? `-${c.id}` : `-100${c.id}`;
    return { id: c.id, accessHash: c.accessHash.toString(), kind: c.kind, title: c.title, peerId };
  }

  private viewMessage(m: MessageRecord): MessageView {
    return {
      id: m.id,
      fromId: m.fromId,
      date: m.date,
      text: m.text,
      editDate: m.editDate ?? null,
      edits: m.edits,
      deleted: m.deleted,
      replyToMsgId: m.replyToMsgId ?? null,
      buttons:
        m.buttons?.map((row) =>
          row.map((b) => ({ text: b.text, data: b.data ? b.data.toString() : null, url: b.url ?? null })),
        ) ?? null,
      media: m.document ? viewMedia(m.document) : null,
      groupedId: m.groupedId?.toString() ?? null,
    };
  }
}

function viewMedia(d: DocumentRecord): MediaView {
  return {
    kind: d.photo ? "photo" : "document",
    name: d.name,
    size: d.size,
    mimeType: d.mimeType,
    sha256: d.sha256,
    attributes: d.attributes.map(viewAttribute),
    hasThumb: d.thumb !== undefined,
    thumbPath: d.thumb?.path ?? null,
    path: d.path,
  };
}

function viewAttribute(a: Api.TypeDocumentAttribute): Record<string, unknown> {
  if (a instanceof Api.DocumentAttributeFilename) return { type: "filename", fileName: a.fileName };
  if (a instanceof Api.DocumentAttributeVideo) {
    return { type: "video", duration: a.duration, w: a.w, h: a.h, supportsStreaming: !!a.supportsStreaming };
  }
  if (a instanceof Api.DocumentAttributeAudio) {
    return { type: "audio", duration: a.duration, title: a.title ?? null, performer: a.performer ?? null };
  }
  if (a instanceof Api.DocumentAttributeImageSize) return { type: "imageSize", w: a.w, h: a.h };
  return { type: a.className };
}
