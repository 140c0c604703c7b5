/**
 * One extra MTProto connection to the account's home DC, sharing the main client's auth key (authorisation
 * belongs to the key, so no initConnection or import is needed). We own its lifecycle: gramjs's automatic
 * reconnect is replaced by ours, so a drop fails the requests in flight at once and the uploader re-sends them
 * on a fresh connection, instead of gramjs waiting a second and sometimes leaving requests stuck.
 */
import type { TelegramClient } from "telegram";
import { errors } from "telegram";
import { abortReason, withDeadline } from "../lib/abort.js";
import { createExtraSender, type ExtraSender } from "./gramjs-internals.js";

/** A TCP connect plus the first encrypted exchange takes ~50 ms here; 10 s means the DC is unreachable. */
const CONNECT_TIMEOUT_MS = 10_000;
/** gramjs's own connect attempts per open; ours retry around it with backoff. */
const GRAMJS_CONNECT_ATTEMPTS = 1;

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
  readonly #client: TelegramClient;
  readonly #dcId: number;
  #sender: ExtraSender | undefined;
  #generation = 0;
  #opening: Promise<void> | undefined;
  #closed = false;
  readonly #inflight = new Set<(error: Error) => void>();

  constructor(client: TelegramClient, dcId: number, index: number) {
    this.#client = client;
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
    let generation = 0;
    const sender = await createExtraSender(this.#client, this.#dcId, {
      connectAttempts: GRAMJS_CONNECT_ATTEMPTS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      // Our reconnect instead of gramjs's: fail what is in flight now, re-open on the next send.
      onBreak: () => this.#markBroken(generation, "The server closed the connection"),
    });
    generation = ++this.#generation;
    let connected = false;
    try {
      connected = await withDeadline(
        sender.connect(),
        CONNECT_TIMEOUT_MS,
        signal,
        () => new ConnectionLostError(`Could not connect to DC ${this.#dcId} in ${CONNECT_TIMEOUT_MS} ms`),
      );
    } finally {
      if (!connected) await sender.disarm();
    }
    if (!connected) throw new ConnectionLostError(`Could not connect to DC ${this.#dcId}`);
    if (this.#closed || generation !== this.#generation) {
      await sender.disarm();
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
    void sender.disarm();
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
    if (sender) await sender.disarm();
    // An open in progress sees `#closed` and disarms its own sender.
    await opening?.catch(() => {});
  }
}
