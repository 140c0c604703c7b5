/**
 * One extra MTProto connection to the account's home DC, sharing the main client's auth key (authorisation
 * belongs to the key, so no initConnection or import is needed). We own its lifecycle: gramjs's automatic
 * reconnect is replaced by ours, so a drop fails the requests in flight at once and the uploader re-sends them
 * on a fresh connection, instead of gramjs waiting a second and sometimes leaving requests stuck.
 */
import type { TelegramClient } from "telegram";
import { errors } from "telegram";
import { MTProtoSender } from "telegram/network/MTProtoSender.js";
import { abortReason, withDeadline } from "../lib/abort.js";

/** A TCP connect plus the first encrypted exchange takes ~50 ms here; 10 s means the DC is unreachable. */
const CONNECT_TIMEOUT_MS = 10_000;
/** gramjs's own connect attempts per open; ours retry around it with backoff. */
const GRAMJS_CONNECT_ATTEMPTS = 1;

/** The parts of gramjs's client we rely on beyond its typings (read in telegramBaseClient.js, 2.26.22). */
interface ClientInternals {
  session: { dcId: number; getAuthKey(dcId: number): { getKey(): Buffer | undefined } | undefined };
  _log: unknown;
  _connection: new (options: Record<string, unknown>) => unknown;
  _proxy?: unknown;
  testServers: boolean;
  networkSocket: unknown;
  _securityChecks: boolean;
  _errorHandler?: unknown;
  getDC(dcId: number, download?: boolean): Promise<{ ipAddress: string; port: number }>;
}

interface SenderInternals {
  connect(connection: unknown, force?: boolean): Promise<boolean>;
  disconnect(): Promise<void>;
  send(request: unknown): Promise<unknown>;
  reconnect: () => void;
  _reconnect: () => Promise<void>;
  userDisconnected: boolean;
  _handlers: Record<string, ((message: unknown) => Promise<void>) | undefined>;
}

/** rpc_result#f35c6d01 */
const RPC_RESULT_ID = 0xf35c6d01;

/** The connection broke (drop, timeout, gramjs gave up): the request may be re-sent on a new connection. */
export class ConnectionLostError extends Error {
  override name = "ConnectionLostError";
}

export function isRpcError(error: unknown): error is errors.RPCError {
  return error instanceof errors.RPCError;
}

export interface UploadConnectionInfo {
  /** How many times this connection was re-opened after a break. */
  readonly reopens: number;
}

export class UploadConnection implements UploadConnectionInfo {
  readonly index: number;
  reopens = 0;
  /** Set by a FLOOD_WAIT on this connection: its lanes hold their parts until then, others go on. */
  pausedUntil = 0;
  readonly #client: ClientInternals;
  readonly #dcId: number;
  #sender: SenderInternals | undefined;
  #generation = 0;
  #opening: Promise<void> | undefined;
  #closed = false;
  readonly #inflight = new Set<(error: Error) => void>();

  constructor(client: TelegramClient, dcId: number, index: number) {
    this.#client = client as unknown as ClientInternals;
    this.#dcId = dcId;
    this.index = index;
  }

  get isOpen(): boolean {
    return this.#sender !== undefined;
  }

  /** Opens the connection if it is not open (single flight: lanes of one connection share the attempt). */
  ensureOpen(signal?: AbortSignal): Promise<void> {
    if (this.#closed) return Promise.reject(new ConnectionLostError("The connection was closed"));
    if (this.#sender) return Promise.resolve();
    this.#opening ??= this.#open(signal).finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #open(signal?: AbortSignal): Promise<void> {
    const client = this.#client;
    const authKey = client.session.getAuthKey(this.#dcId);
    if (!authKey?.getKey()) {
      throw new Error(
        `Expected the client to hold an auth key for DC ${this.#dcId}, got none (log in first)`,
      );
    }
    const dc = await client.getDC(this.#dcId, false);
    const sender = new MTProtoSender(authKey as never, {
      logger: client._log,
      dcId: this.#dcId,
      retries: GRAMJS_CONNECT_ATTEMPTS,
      delay: 0,
      autoReconnect: true,
      connectTimeout: CONNECT_TIMEOUT_MS / 1000,
      authKeyCallback: undefined,
      isMainSender: false, // else a drop here would make gramjs reconnect the client's own exported senders
      onConnectionBreak: undefined,
      client: client as never,
      securityChecks: client._securityChecks,
      _exportedSenderPromises: new Map(),
      reconnectRetries: 0,
    }) as unknown as SenderInternals;
    keepContainersWhole(sender);
    const generation = ++this.#generation;
    // Our reconnect instead of gramjs's: fail what is in flight now, re-open on the next send.
    sender.reconnect = () => this.#markBroken(generation, "The server closed the connection");
    sender._reconnect = async () => {};
    const connection = new client._connection({
      ip: dc.ipAddress,
      port: dc.port,
      dcId: this.#dcId,
      loggers: client._log,
      proxy: client._proxy,
      testServers: client.testServers,
      socket: client.networkSocket,
    });
    let connected = false;
    try {
      connected = await withDeadline(
        sender.connect(connection, false),
        CONNECT_TIMEOUT_MS,
        signal,
        () => new ConnectionLostError(`Could not connect to DC ${this.#dcId} in ${CONNECT_TIMEOUT_MS} ms`),
      );
    } finally {
      if (!connected) await disarm(sender);
    }
    if (!connected) throw new ConnectionLostError(`Could not connect to DC ${this.#dcId}`);
    if (this.#closed || generation !== this.#generation) {
      await disarm(sender);
      throw new ConnectionLostError("The connection was closed while opening");
    }
    this.#sender = sender;
  }

  /**
   * Sends one request and waits for its answer. Rejects with ConnectionLostError if the connection breaks or
   * stays silent for `timeoutMs` (then the connection is dropped, to be re-opened by the next call).
   */
  invoke(request: unknown, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
    const sender = this.#sender;
    if (!sender) return Promise.reject(new ConnectionLostError("The connection is not open"));
    if (signal?.aborted) return Promise.reject(abortReason(signal, "Upload"));
    const generation = this.#generation;
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = () => {
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#inflight.delete(fail);
      };
      const fail = (error: Error) => {
        if (settled) return;
        finish();
        reject(error);
      };
      const onAbort = () => fail(abortReason(signal as AbortSignal, "Upload"));
      const timer = setTimeout(() => {
        fail(new ConnectionLostError(`No answer in ${timeoutMs} ms`));
        this.#markBroken(generation, `No answer in ${timeoutMs} ms`);
      }, timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#inflight.add(fail);
      sender.send(request).then(
        (value) => {
          if (settled) return;
          finish();
          resolve(value);
        },
        // gramjs rejects with RPC errors, and with strings or plain Errors when the connection gives up.
        (error: unknown) => fail(isRpcError(error) ? error : new ConnectionLostError(String(error))),
      );
    });
  }

  #markBroken(generation: number, reason: string): void {
    if (generation !== this.#generation || !this.#sender) return;
    const sender = this.#sender;
    this.#sender = undefined;
    this.#generation++;
    this.reopens++;
    void disarm(sender);
    const error = new ConnectionLostError(reason);
    for (const fail of [...this.#inflight]) fail(error);
  }

  /** Closes the connection for good; requests in flight fail. Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#generation++;
    const opening = this.#opening;
    const sender = this.#sender;
    this.#sender = undefined;
    const error = new ConnectionLostError("The connection was closed");
    for (const fail of [...this.#inflight]) fail(error);
    if (sender) await disarm(sender);
    // An open in progress sees `#closed` and disarms its own sender.
    await opening?.catch(() => {});
  }
}

/**
 * gramjs's rpc_result handler rejects the request on an RPC error and then throws it again; inside a container
 * that throw skips every later message of the container, so their requests never settle (seen here: one
 * FLOOD_WAIT or 500 left a neighbouring part hanging until our timeout). The request already has its error, so
 * the rethrow is dropped and the rest of the container is processed.
 */
function keepContainersWhole(sender: SenderInternals): void {
  const key = String(RPC_RESULT_ID);
  const original = sender._handlers[key];
  if (!original) return;
  sender._handlers[key] = async (message: unknown) => {
    try {
      await original(message);
    } catch {
      // Already delivered to the request it answers (see above).
    }
  };
}

/** Disconnects a sender so that nothing (gramjs's reconnect included) can bring it back. */
async function disarm(sender: SenderInternals): Promise<void> {
  sender.reconnect = () => {};
  sender._reconnect = async () => {};
  sender.userDisconnected = true;
  try {
    await sender.disconnect();
  } catch {
    // Already closed by the peer: nothing left to release.
  }
}
