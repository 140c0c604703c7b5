/**
 * Watching a gramjs client from a test: the Updates containers and connection states its main sender saw, and the
 * TCP connects it tried. Separate from helpers.ts so that each concept has its file.
 */
import { Api, type TelegramClient } from "telegram";
import { UpdateConnectionState } from "telegram/network/index.js";
import { withTimeout } from "./helpers.js";

/** What a gramjs client went through, recorded as it happened (see watchClient). */
export interface ClientWatch {
  /** Updates containers the main sender received, in order. */
  received: (Api.Updates | Api.UpdatesCombined)[];
  /** gramjs's UpdateConnectionState values in order: 1 connected, -1 disconnected, 0 broken. */
  states: number[];
  /** TCP connects gramjs attempted (main sender, reconnects, extra senders), and those that failed. */
  connects: { attempted: number; failed: number };
  /** Resolves with what `check` returns once it returns something, re-checked on every recorded event. */
  until<T>(check: () => T | undefined, what: string, timeoutMs?: number): Promise<T>;
  /** The first container (already received or still to come) that `pred` accepts. */
  waitFor(
    pred: (u: Api.Updates | Api.UpdatesCombined) => boolean,
    timeoutMs?: number,
  ): Promise<Api.Updates | Api.UpdatesCombined>;
}

interface ClientInternals {
  _sender?: { _updateCallback: (c: unknown, u: unknown) => void };
  networkSocket: { prototype: { connect(port: number, ip: string): Promise<unknown> } };
}

/**
 * Records what a connected client goes through. gramjs hands event handlers single updates, without the
 * container's seq and date, and reports connection states only to handlers that ask for raw updates; this wraps
 * its main sender's update callback (gramjs 2.26.22 `_updateCallback`; the sender object survives reconnects)
 * and the connect() of the client's own socket class (connect.ts makes one per client).
 */
export function watchClient(client: TelegramClient): ClientWatch {
  const internals = client as unknown as ClientInternals;
  const sender = internals._sender;
  if (!sender) throw new Error("client is not connected");
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const w of [...waiters]) w();
  };
  const watch: ClientWatch = {
    received: [],
    states: [],
    connects: { attempted: 0, failed: 0 },
    until<T>(check: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
      const now = check();
      if (now !== undefined) return Promise.resolve(now);
      let onChange: () => void = () => undefined;
      const hit = new Promise<T>((resolve) => {
        onChange = () => {
          const v = check();
          if (v !== undefined) resolve(v);
        };
        waiters.add(onChange);
      });
      return withTimeout(hit, timeoutMs, what).finally(() => waiters.delete(onChange));
    },
    waitFor(pred, timeoutMs = 5000) {
      return watch.until(() => watch.received.find(pred), "pushed Updates", timeoutMs);
    },
  };
  const original = sender._updateCallback;
  sender._updateCallback = (c, u) => {
    if (u instanceof Api.Updates || u instanceof Api.UpdatesCombined) watch.received.push(u);
    else if (u instanceof UpdateConnectionState) watch.states.push(u.state);
    original(c, u);
    changed();
  };
  const proto = internals.networkSocket.prototype;
  const connect = proto.connect;
  proto.connect = async function (this: unknown, port: number, ip: string) {
    watch.connects.attempted++;
    try {
      return await connect.call(this, port, ip);
    } catch (e) {
      watch.connects.failed++;
      throw e;
    } finally {
      changed();
    }
  };
  return watch;
}
