/** What a caller may ask of an upload, its defaults (chosen by the benchmark) and the up-front checks. */

/**
 * Connections per upload. TDLib opens up to 8 per DC. With a per-connection cap (as on Telegram's DCs)
 * throughput grows with connections: capped bench (8 MiB/s, 30 ms) 8 x 2 gives ~50 MiB/s, 2 x 2 ~13; on loopback
 * 8 costs little (256 MiB: 2 -> 68-119, 4 -> 82-130, 8 -> 112-116 MiB/s) and ~35 MiB more RSS than 2.
 */
export const DEFAULT_CONNECTIONS = 8;
/**
 * Parts in flight per connection: 2 keeps a capped 30 ms link busy (one part on the wire while the previous
 * acknowledgement travels back). Measured 8 x 2/3/4 capped: 50.4/48.1/47.1 MiB/s, so more only adds memory.
 */
export const DEFAULT_IN_FLIGHT = 2;
/** Telegram's documented ceiling is far above; more than this only burns memory and sockets. */
export const MAX_CONNECTIONS = 32;
export const MAX_IN_FLIGHT = 16;
/** A part not acknowledged after this long means a stuck connection: drop it and re-send elsewhere. */
export const DEFAULT_PART_TIMEOUT_MS = 30_000;
/** RPC errors (other than flood waits) tolerated across one upload before giving up. */
export const DEFAULT_RETRY_BUDGET = 20;
/** A FLOOD_WAIT longer than this fails the upload rather than stalling a job for hours. */
export const DEFAULT_MAX_FLOOD_WAIT_S = 600;
export interface UploadOptions {
  /** Parallel connections to the home DC. @default 8 */
  connections?: number;
  /** Parts in flight on each connection. @default 2 */
  inFlight?: number;
  /** A Premium user session may send 8000 parts (4000 MiB) rather than 4000. @default false */
  premium?: boolean;
  signal?: AbortSignal;
  /** Bytes acknowledged by the server so far, and the total. Called once per acknowledged part. */
  onProgress?: (uploadedBytes: number, totalBytes: number) => void;
  /** The name Telegram shows. @default the file's base name */
  fileName?: string;
  /** The file is still being written and will end at this size: parts are sent as their bytes arrive. */
  growingToSize?: number;
  /**
   * With `growingToSize`: how many bytes from the start are final now, for a file written out of order (a segmented
   * download); a part is read only once it lies below. Without it the file's length tells.
   */
  growingAvailable?: () => number;
  /** Continue an earlier upload of the same file: same file id, parts already acknowledged are skipped. */
  resume?: { fileId: bigint; acknowledgedParts: Iterable<number> };
  /** Called after each acknowledged part, so that a caller can persist the progress for `resume`. */
  onPartAcknowledged?: (part: number, fileId: bigint) => void;
  /** Telegram asked one connection to wait (for metrics; the upload handles the wait itself). */
  onFloodWait?: (seconds: number, method: string) => void;
  /** @default 30_000 */
  partTimeoutMs?: number;
  /** @default 20 */
  retryBudget?: number;
  /** @default 600 */
  maxFloodWaitSeconds?: number;
}

/** What uploadFile returns: the handle to send, and what is needed to re-save a part Telegram lost. */
export function checkInteger(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`Expected \`${name}\` to be an integer from ${min} to ${max}, got ${String(value)}`);
  }
}

export function checkOptions(options: UploadOptions): void {
  checkInteger("connections", options.connections, 1, MAX_CONNECTIONS);
  checkInteger("inFlight", options.inFlight, 1, MAX_IN_FLIGHT);
  checkInteger("partTimeoutMs", options.partTimeoutMs, 100, 3_600_000);
  checkInteger("retryBudget", options.retryBudget, 0, 10_000);
  checkInteger("maxFloodWaitSeconds", options.maxFloodWaitSeconds, 0, 86_400);
  checkInteger("growingToSize", options.growingToSize, 0, Number.MAX_SAFE_INTEGER);
  if (options.premium !== undefined && typeof options.premium !== "boolean") {
    throw new TypeError(`Expected \`premium\` to be a boolean, got ${typeof options.premium}`);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError(`Expected \`signal\` to be an AbortSignal, got ${typeof options.signal}`);
  }
  for (const name of ["onProgress", "onPartAcknowledged", "onFloodWait", "growingAvailable"] as const) {
    if (options[name] !== undefined && typeof options[name] !== "function") {
      throw new TypeError(`Expected \`${name}\` to be a function, got ${typeof options[name]}`);
    }
  }
  if (options.fileName !== undefined && (typeof options.fileName !== "string" || options.fileName === "")) {
    throw new TypeError(
      `Expected \`fileName\` to be a non-empty string, got ${JSON.stringify(options.fileName)}`,
    );
  }
  if (options.resume !== undefined && typeof options.resume.fileId !== "bigint") {
    throw new TypeError(`Expected \`resume.fileId\` to be a bigint, got ${typeof options.resume.fileId}`);
  }
}
