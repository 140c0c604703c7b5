/** The write path of a download: batches of body bytes written at increasing offsets of one file. */
import type { FileHandle } from "node:fs/promises";

/** Batches being written at once per connection: rides out thread-pool delays without stopping the socket. */
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

  constructor(
    private readonly fh: FileHandle,
    private readonly start: number,
    private readonly batchBytes: number,
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

  private async startWrite(): Promise<void> {
    while (this.inflight.length >= WRITES_IN_FLIGHT) await this.inflight.shift();
    const buffers = this.pending;
    const at = this.position;
    this.handed += this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    const write = writeFully(this.fh, buffers, at);
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
