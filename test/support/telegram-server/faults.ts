/**
 * Network conditions and injected faults, settable at start and at run time. The bandwidth cap is a token
 * bucket per connection and direction with a burst of at most 64 KiB, so that the number of parts in flight
 * matters as it does on a real network; latency is added once in each direction.
 */
import { RpcFailure } from "./rpc-error.js";

/** Larger bursts would let one connection ignore its cap for a whole part; 64 KiB keeps pacing honest. */
export const MAX_BURST = 64 * 1024;

export interface NetworkConditions {
  /** Bytes per second per connection and direction; 0 means unlimited. */
  bandwidth: number;
  /** Milliseconds added in each direction (the round trip grows by twice this). */
  latencyMs: number;
}

export interface MethodFault {
  /** gramjs class name of the request, e.g. "messages.SendMedia" or "upload.SaveBigFilePart". */
  method: string;
  code: number;
  message: string;
  /** How many calls fail; undefined means every call until cleared. */
  times?: number;
}

export interface FaultSettings {
  /** Share (0..1) of calls answered FLOOD_WAIT_X. */
  floodWaitShare: number;
  floodWaitSeconds: number;
  /** Limit FLOOD_WAIT to these methods; empty means every method except help.GetConfig. */
  floodWaitMethods: string[];
  /** Share (0..1) of new connections that get dropped after `dropAfterBytes` received bytes. */
  dropShare: number;
  dropAfterBytes: number;
  /** At most this many connections are dropped by `dropShare` (so reconnects can succeed); 0 = no limit. */
  dropLimit: number;
  /**
   * Share (0..1) of calls (all but help.GetConfig) whose connection is closed instead of answered: before the call
   * runs, or after it ran, so the client never learns that it did (the answer is lost); see `dropCallWhen`.
   */
  dropCallShare: number;
  /** Limit `dropCallShare` to these methods; empty means every method except help.GetConfig. */
  dropCallMethods: string[];
  /** When a call's connection closes: before it runs, after (its answer lost), or either at random. */
  dropCallWhen: "before" | "after" | "either";
  methodFaults: MethodFault[];
  /** Answer the next N auth-key exchanges with a wrong new_nonce_hash1 (what gramjs hits 1 time in 256). */
  badNonceHashCount: number;
}

export const DEFAULT_CONDITIONS: NetworkConditions = { bandwidth: 0, latencyMs: 0 };

export const DEFAULT_FAULTS: FaultSettings = {
  floodWaitShare: 0,
  floodWaitSeconds: 1,
  floodWaitMethods: [],
  dropShare: 0,
  dropAfterBytes: 256 * 1024,
  dropLimit: 1,
  dropCallShare: 0,
  dropCallMethods: [],
  dropCallWhen: "either",
  methodFaults: [],
  badNonceHashCount: 0,
};

export class Faults {
  conditions: NetworkConditions = { ...DEFAULT_CONDITIONS };
  settings: FaultSettings = { ...DEFAULT_FAULTS, methodFaults: [] };
  dropped = 0;
  floodWaits = 0;
  /** Calls whose connection `dropCallShare` closed, by when. */
  callsDropped = { before: 0, after: 0 };

  constructor(conditions?: Partial<NetworkConditions>, faults?: Partial<FaultSettings>) {
    if (conditions) this.setConditions(conditions);
    if (faults) this.setFaults(faults);
  }

  setConditions(c: Partial<NetworkConditions>): void {
    c = Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));
    for (const [k, v] of Object.entries(c)) {
      if (v === undefined) continue;
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
        throw new Error(`Expected ${k} >= 0, got ${v}`);
    }
    this.conditions = { ...this.conditions, ...c };
  }

  setFaults(f: Partial<FaultSettings>): void {
    f = Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined));
    for (const k of ["floodWaitShare", "dropShare", "dropCallShare"] as const) {
      const v = f[k];
      if (v !== undefined && !(v >= 0 && v <= 1)) throw new Error(`Expected ${k} from 0 to 1, got ${v}`);
    }
    this.settings = {
      ...this.settings,
      ...f,
      methodFaults: [...(f.methodFaults ?? this.settings.methodFaults)],
    };
  }

  /** Throws the injected error for this call, if any. */
  beforeCall(method: string): void {
    const mf = this.settings.methodFaults.find((m) => m.method === method);
    if (mf) {
      if (mf.times !== undefined) {
        mf.times--;
        if (mf.times <= 0) this.settings.methodFaults = this.settings.methodFaults.filter((m) => m !== mf);
      }
      throw new RpcFailure(mf.code, mf.message);
    }
    const s = this.settings;
    if (s.floodWaitShare > 0 && method !== "help.GetConfig") {
      const applies = s.floodWaitMethods.length === 0 || s.floodWaitMethods.includes(method);
      if (applies && Math.random() < s.floodWaitShare) {
        this.floodWaits++;
        throw new RpcFailure(420, `FLOOD_WAIT_${s.floodWaitSeconds}`);
      }
    }
  }

  /** For a call: whether to close its connection before it runs or after (its answer lost), or not at all. */
  dropPointForCall(method: string): "before" | "after" | undefined {
    const { dropCallShare: share, dropCallMethods: methods } = this.settings;
    if (share <= 0 || method === "help.GetConfig") return undefined;
    if ((methods.length > 0 && !methods.includes(method)) || Math.random() >= share) return undefined;
    const chosen = this.settings.dropCallWhen;
    const when = chosen !== "either" ? chosen : Math.random() < 0.5 ? "before" : "after";
    this.callsDropped[when]++;
    return when;
  }

  /** For a new connection: after how many received bytes to drop it, or undefined. */
  dropPointForNewConnection(): number | undefined {
    const s = this.settings;
    if (s.dropShare <= 0 || (s.dropLimit > 0 && this.dropped >= s.dropLimit)) return undefined;
    return Math.random() < s.dropShare ? s.dropAfterBytes : undefined;
  }

  takeBadNonceHash(): boolean {
    if (this.settings.badNonceHashCount <= 0) return false;
    this.settings.badNonceHashCount--;
    return true;
  }
}

/**
 * Delays and rate-limits one direction of one connection. Chunks come out in order, split to at most the burst
 * size while a cap is set. Reads its conditions on every step, so changes apply at once.
 */
export class Pacer {
  private queue: { data: Buffer; readyAt: number }[] = [];
  private queued = 0;
  private tokens = MAX_BURST;
  private lastRefill = performance.now();
  private timer: NodeJS.Timeout | undefined;
  /** When the pending timer should fire: tokens owed for the time it fires late are not capped by the burst. */
  private dueAt = 0;
  private closed = false;

  constructor(
    private readonly conditions: () => NetworkConditions,
    private readonly deliver: (chunk: Buffer) => void,
    /** Called with true when more than `highWater` bytes wait, false when drained (for socket.pause). */
    private readonly onPressure: (high: boolean) => void = () => {},
    private readonly highWater = 1024 * 1024,
  ) {}

  push(data: Buffer): void {
    if (this.closed) return;
    const c = this.conditions();
    if (this.queue.length === 0 && c.bandwidth === 0 && c.latencyMs === 0) {
      this.deliver(data);
      return;
    }
    this.queue.push({ data, readyAt: performance.now() + c.latencyMs });
    this.queued += data.length;
    if (this.queued > this.highWater) this.onPressure(true);
    this.pump();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
  }

  private pump(): void {
    if (this.timer || this.closed) return;
    for (;;) {
      const head = this.queue[0];
      if (!head) {
        this.onPressure(false);
        return;
      }
      const t = performance.now();
      if (head.readyAt > t) {
        this.wait(head.readyAt - t);
        return;
      }
      const { bandwidth } = this.conditions();
      let piece = head.data;
      if (bandwidth > 0) {
        const burst = Math.min(MAX_BURST, Math.max(1024, bandwidth));
        // Time a late timer (a busy server, a loaded machine) cost is owed in full: a link would have carried
        // those bytes meanwhile. Only credit built up while idle is capped at the burst.
        const late = this.dueAt > 0 ? Math.min(Math.max(0, t - this.dueAt), t - this.lastRefill) : 0;
        this.dueAt = 0;
        this.tokens =
          Math.min(burst, this.tokens + ((t - late - this.lastRefill) / 1000) * bandwidth) +
          (late / 1000) * bandwidth;
        this.lastRefill = t;
        // Wake at a quarter of the burst and send what has built up: waiting for a full bucket would lose every
        // token that arrives while the timer fires late (a busy server), capping throughput below the cap.
        const threshold = Math.min(piece.length, Math.max(1024, burst / 4));
        if (this.tokens < threshold) {
          this.wait(((threshold - this.tokens) / bandwidth) * 1000);
          return;
        }
        const take = Math.min(piece.length, Math.floor(this.tokens));
        piece = piece.subarray(0, take);
        this.tokens -= take;
      }
      if (piece.length === head.data.length) this.queue.shift();
      else head.data = head.data.subarray(piece.length);
      this.queued -= piece.length;
      if (this.queued <= this.highWater / 2) this.onPressure(false);
      this.deliver(piece);
    }
  }

  private wait(ms: number): void {
    this.dueAt = performance.now() + ms;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(1, Math.ceil(ms)),
    );
  }
}
