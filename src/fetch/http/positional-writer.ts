/** The write path of a download: batches of body bytes written at increasing offsets of one file. */
import type { FileHandle } from "node:fs/promises";
import { collectAllGarbage, collectYoungGarbage } from "../../gc-hint.js";

/** Batches being written at once per connection: rides out thread-pool delays without stopping the socket. */
/** Socket chunks die as soon as they are written; collecting them every few MiB keeps RSS near the live set. */
const YOUNG_GC_EVERY_BYTES = 8 * 1024 * 1024;
/** Chunks that waited through two young collections are only freed by a full one (~3 ms). */
const FULL_GC_EVERY_BYTES = 128 * 1024 * 1024;

export const WRITES_IN_FLIGHT = 2;
/**
 * Writes at increasing offsets in batches (one writev per batch, 256 KiB to 2 MiB). A couple of batches may be in
 * flight at once (they cover different offsets), so a thread-pool hiccup does not stop the socket; more waits.
 */
export class PositionalWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly inflight: Array<Promise<void>> = [];
  /** Bytes handed to writes so far, finished or not. */
  private handed = 0;
  /** Writes started, oldest first, so that the durable end moves only over a contiguous run of finished ones. */
  private readonly order: Array<{ end: number; done: boolean }> = [];

  /** `onDurable(end)`: every byte from `start` to `end` is written (a kill now keeps them); called as it moves. */
  constructor(
    private readonly fh: FileHandle,
    private readonly start: number,
    private readonly batchBytes: number,
    private readonly onDurable?: (end: number) => void,
  ) {}

  /** End offset of every byte pushed so far, written or not. */
  get accepted(): number {
    return this.start + this.handed + this.pendingBytes;
  }

  /** End of the bytes written (valid once `flush` resolved). */
  get position(): number {
    return this.start + this.handed;
  }

  push(chunk: Buffer): Promise<void> | undefined {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    return this.pendingBytes >= this.batchBytes ? this.startWrite() : undefined;
  }

  /** Writes what is pending and waits for every write; throws the first write error. */
  async flush(): Promise<void> {
    if (this.pendingBytes > 0) await this.startWrite();
    const results = await Promise.allSettled(this.inflight.splice(0));
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  private sinceYoungGc = 0;
  private sinceFullGc = 0;

  /** The written chunks are garbage now: hint V8 to free them rather than let external memory pile up. */
  private written(bytes: number): void {
    this.sinceYoungGc += bytes;
    this.sinceFullGc += bytes;
    if (this.sinceFullGc >= FULL_GC_EVERY_BYTES) {
      this.sinceFullGc = 0;
      this.sinceYoungGc = 0;
      collectAllGarbage();
    } else if (this.sinceYoungGc >= YOUNG_GC_EVERY_BYTES) {
      this.sinceYoungGc = 0;
      collectYoungGarbage();
    }
  }

  private advanceDurable(): void {
    let end: number | undefined;
    while (this.order[0]?.done) end = this.order.shift()?.end;
    if (end !== undefined) this.onDurable?.(end);
  }

  private async startWrite(): Promise<void> {
    while (this.inflight.length >= WRITES_IN_FLIGHT) await this.inflight.shift();
    const buffers = this.pending;
    const bytes = this.pendingBytes;
    const at = this.position;
    this.handed += bytes;
    this.pending = [];
    this.pendingBytes = 0;
    const entry = { end: at + bytes, done: false };
    this.order.push(entry);
    const write = writeFully(this.fh, buffers, at).then(() => {
      entry.done = true;
      this.written(bytes);
      this.advanceDurable();
    });
    // Failures surface when this write is awaited (above, or in flush); until then it counts as handled.
    write.catch(() => undefined);
    this.inflight.push(write);
  }
}

async function writeFully(fh: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let at = position;
  let rest = buffers;
  // A regular file takes a writev whole; a short write (disk nearly full) continues where it stopped.
  for (let guard = 0; rest.length > 0 && guard < 1_000_000; guard++) {
    const { bytesWritten } = await fh.writev(rest, at);
    if (bytesWritten === 0) throw Object.assign(new Error("No space left on device"), { code: "ENOSPC" });
    at += bytesWritten;
    let skip = bytesWritten;
    const remaining: Buffer[] = [];
    for (const buffer of rest) {
      if (skip >= buffer.length) {
        skip -= buffer.length;
        continue;
      }
      remaining.push(skip > 0 ? buffer.subarray(skip) : buffer);
      skip = 0;
    }
    rest = remaining;
  }
}
