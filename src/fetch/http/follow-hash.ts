/**
 * SHA-256 of a file written out of order (a segmented download): the bytes are read back as the written prefix
 * grows, from the page cache while they are fresh, so the digest is ready when the last byte lands instead of
 * costing a read of the whole file afterwards.
 */
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import { abortableSleep } from "../../lib/abort.js";

/** How often the prefix is looked at: bytes wait here at most this long before they are hashed. */
const FOLLOW_POLL_MS = 100;
const READ_BYTES = 1024 * 1024;

export class FollowingHash {
  private hash = createHash("sha256");
  private position = 0;
  private seenGeneration: number;
  private done = false;
  private cancelled = false;
  private readonly stop = new AbortController();
  private readonly loop: Promise<void>;

  constructor(
    private readonly file: string,
    private readonly written: () => number,
    private readonly generation: () => number,
  ) {
    this.seenGeneration = generation();
    this.loop = this.run();
    this.loop.catch(() => undefined); // a failure shows as no digest in finish()
  }

  /** The digest of the file's first `size` bytes once they are written; undefined when reading failed. */
  async finish(size: number): Promise<string | undefined> {
    this.done = true;
    this.stop.abort();
    try {
      await this.loop;
    } catch {
      return undefined; // the caller hashes the file itself
    }
    return this.position === size ? this.hash.digest("hex") : undefined;
  }

  /** Stops reading; the digest is not wanted. */
  async cancel(): Promise<void> {
    this.cancelled = true;
    this.stop.abort();
    await this.loop.catch(() => undefined);
  }

  private async run(): Promise<void> {
    const handle = await fs.open(this.file, "r");
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    try {
      // Bounded: each pass reads what is written or waits; finish() and cancel() end it.
      for (;;) {
        // Read before the pass: a pass that starts after finish() sees every byte there will be.
        const finishing = this.done;
        if (this.generation() !== this.seenGeneration) {
          // The download started over from byte 0: what was hashed is void.
          this.seenGeneration = this.generation();
          this.hash = createHash("sha256");
          this.position = 0;
        }
        const end = this.written();
        while (this.position < end && !this.cancelled) {
          const want = Math.min(READ_BYTES, end - this.position);
          const { bytesRead } = await handle.read(buffer, 0, want, this.position);
          if (bytesRead === 0)
            throw new Error(`${this.file} ended at ${this.position} of ${end} written bytes`);
          this.hash.update(buffer.subarray(0, bytesRead));
          this.position += bytesRead;
        }
        if (finishing || this.cancelled) return;
        await abortableSleep(FOLLOW_POLL_MS, this.stop.signal).catch(() => undefined); // woken by finish()
      }
    } finally {
      await handle.close();
    }
  }
}
