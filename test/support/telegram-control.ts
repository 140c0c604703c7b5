/**
 * A typed client for the local Telegram server's control API (test/support/telegram-server/README.md), for
 * tests and scripts that run the server in another process (`npm run local-telegram`).
 */
import type { FaultSettings, MethodFault, NetworkConditions } from "./telegram-server/faults.js";
import type { LoginCode } from "./telegram-server/login-codes.js";
import type {
  ChatSpec,
  MediaView,
  MessageView,
  OutageMode,
  OutageView,
  UserOptions,
  UserView,
} from "./telegram-server/server.js";
import type { Counters } from "./telegram-server/server-core.js";
import type { BoxState, UpdateLogSettings } from "./telegram-server/update-log.js";
import type { CreateChatOptions } from "./telegram-server/world.js";

export type { ChatSpec, LoginCode, MediaView, MessageView, OutageMode, OutageView, UserOptions, UserView };

export interface ChatView {
  id: number;
  accessHash: string;
  kind: "group" | "channel";
  title: string;
  /** The id gramjs and the Bot API use: -id for groups, -100id for channels. */
  peerId: string;
}

/** The server's counters plus the fault tallies, as the control API returns them. */
export type CountersView = Counters & {
  floodWaits: number;
  dropped: number;
  callsDropped: { before: number; after: number };
};

export class TelegramControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Every request gives up after this long (waits add their own timeout on top). */
const REQUEST_TIMEOUT_MS = 30_000;

export class TelegramControl {
  constructor(readonly baseUrl: string) {}

  private async request<T>(method: string, route: string, body?: unknown, extraMs = 0): Promise<T> {
    const res = await fetch(new URL(route, this.baseUrl), {
      method,
      headers: body === undefined ? undefined : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS + extraMs),
    });
    const json = (await res.json()) as T & { error?: string };
    if (!res.ok)
      throw new TelegramControlError(res.status, `${method} ${route}: ${json.error ?? res.status}`);
    return json;
  }

  info() {
    return this.request<{ mtproto: string; dcId: number; publicKeyPem: string; fingerprint: string }>(
      "GET",
      "/info",
    );
  }
  createUser(opts: UserOptions = {}) {
    return this.request<UserView>("POST", "/users", opts);
  }
  createBot(opts: { firstName?: string; username?: string } = {}) {
    return this.request<UserView>("POST", "/bots", opts);
  }
  createChat(opts: CreateChatOptions) {
    return this.request<ChatView>("POST", "/chats", opts);
  }
  addMember(chatId: number, userId: number, admin = false) {
    return this.request<{ ok: true }>("POST", `/chats/${chatId}/members`, { userId, admin });
  }
  removeMember(chatId: number, userId: number) {
    return this.request<{ ok: true }>("DELETE", `/chats/${chatId}/members/${userId}`);
  }
  /** A StringSession already logged in as the user. */
  async createSession(userId: number): Promise<string> {
    return (await this.request<{ session: string }>("POST", "/sessions", { userId })).session;
  }
  sendText(from: number, chat: ChatSpec, text: string, replyTo?: number) {
    return this.request<MessageView>("POST", "/act/send-text", { from, chat, text, replyTo });
  }
  sendDocument(
    from: number,
    chat: ChatSpec,
    file: { name: string; content: Buffer; mimeType?: string; caption?: string; thumb?: Buffer },
  ) {
    return this.request<MessageView>("POST", "/act/send-document", {
      from,
      chat,
      name: file.name,
      mimeType: file.mimeType,
      caption: file.caption,
      contentBase64: file.content.toString("base64"),
      thumbBase64: file.thumb?.toString("base64"),
    });
  }
  editText(from: number, chat: ChatSpec, messageId: number, text: string) {
    return this.request<MessageView>("POST", "/act/edit-text", { from, chat, messageId, text });
  }
  async deleteMessages(from: number, chat: ChatSpec, ids: number[]): Promise<number[]> {
    return (await this.request<{ deleted: number[] }>("POST", "/act/delete-messages", { from, chat, ids }))
      .deleted;
  }
  pressButton(
    from: number,
    chat: ChatSpec,
    messageId: number,
    button: { data?: string; text?: string },
    timeoutMs = 5000,
  ) {
    return this.request<{ answered: boolean; message: string | null; alert: boolean }>(
      "POST",
      "/act/press-button",
      { from, chat, messageId, ...button, timeoutMs },
      timeoutMs,
    );
  }
  messages(chat: ChatSpec, includeDeleted = true) {
    const q = "chat" in chat ? `chat=${chat.chat}` : `user=${chat.user}&peer=${chat.peer}`;
    return this.request<MessageView[]>("GET", `/messages?${q}&deleted=${includeDeleted}`);
  }
  /** Waits for a message matching every given condition. */
  waitForMessage(
    chat: ChatSpec,
    match: { fromId?: number; textIncludes?: string; hasMedia?: boolean; afterId?: number },
    timeoutMs = 10_000,
  ) {
    return this.request<MessageView>("POST", "/messages/wait", { chat, ...match, timeoutMs }, timeoutMs);
  }
  documents() {
    return this.request<MediaView[]>("GET", "/documents");
  }
  setConditions(c: Partial<NetworkConditions>) {
    return this.request<NetworkConditions>("PUT", "/conditions", c);
  }
  setFaults(f: Partial<Omit<FaultSettings, "methodFaults">> & { methodFaults?: MethodFault[] }) {
    return this.request<FaultSettings>("PUT", "/faults", f);
  }
  dropConnections(userId?: number) {
    return this.request<{ dropped: number }>("POST", "/connections/drop", { userId });
  }
  counters() {
    return this.request<CountersView>("GET", "/counters");
  }
  /** The newest login code sent to the phone; rejects with status 404 when none was. */
  loginCode(phone: string) {
    return this.request<LoginCode>("GET", `/codes/${encodeURIComponent(phone)}`);
  }
  setLoginCodeTtl(ttlMs: number) {
    return this.request<{ ttlMs: number }>("PUT", "/login-codes", { ttlMs });
  }
  /** Every auth key logged in as the user then answers 401 SESSION_REVOKED; returns how many there were. */
  async revokeSession(userId: number): Promise<number> {
    return (await this.request<{ revoked: number }>("POST", "/sessions/revoke", { userId })).revoked;
  }
  updateState(userId: number) {
    return this.request<BoxState & { logged: number }>("GET", `/users/${userId}/update-state`);
  }
  updateLog() {
    return this.request<UpdateLogSettings>("GET", "/update-log");
  }
  setUpdateLog(settings: Partial<UpdateLogSettings>) {
    return this.request<UpdateLogSettings>("PUT", "/update-log", settings);
  }
  serverState() {
    return this.request<{ listening: boolean; port: number; outage: OutageView | null }>("GET", "/server");
  }
  stopListening() {
    return this.request<{ listening: boolean; port: number }>("POST", "/server/stop");
  }
  listen() {
    return this.request<{ listening: boolean; port: number }>("POST", "/server/start");
  }
  /** Closes every connection, stays down `downMs`, listens again on the same port. */
  restart(downMs = 0) {
    return this.request<{ listening: boolean; port: number }>("POST", "/server/restart", { downMs }, downMs);
  }
  async startOutage(mode: OutageMode, durationMs?: number): Promise<OutageView> {
    return (await this.request<{ outage: OutageView }>("PUT", "/outage", { mode, durationMs })).outage;
  }
  async endOutage(): Promise<void> {
    await this.request<{ outage: null }>("DELETE", "/outage");
  }
}
