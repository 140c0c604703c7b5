/**
 * Reads parts of a file from disk into caller-owned buffers: the upload never holds the whole file, only its
 * part buffers. A growing file (a download still writing it) is read as its bytes arrive.
 */
import { type FileHandle, open } from "node:fs/promises";
import { UploadError } from "../errors.js";
import { abortableSleep, throwIfAborted } from "../lib/abort.js";

/** How often to look again when a growing file has not reached the part yet. */
const GROW_POLL_MS = 100;
/** A growing file that gains no byte for this long is taken as abandoned by its writer. */
export const DEFAULT_STALL_TIMEOUT_MS = 60_000;

export interface PartSourceOptions {
  /**
   * The final size of a file that is still being written. Without it the file is taken as complete and its
   * size is read now.
   */
  growingToSize?: number;
  /** Bytes from the start that are final now (a file written out of order); see UploadOptions. */
  available?: (() => number) | undefined;
  /** @default 60_000 */
  stallTimeoutMs?: number;
}

export interface PartSource {
  readonly size: number;
  /** Fills `target` with the bytes at `position` (waiting for a growing file to reach them). */
  readInto(position: number, target: Buffer, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export async function openPartSource(path: string, options: PartSourceOptions = {}): Promise<PartSource> {
  const handle = await open(path, "r");
  try {
    const current = (await handle.stat()).size;
    const growing = options.growingToSize !== undefined;
    const size = options.growingToSize ?? current;
    if (growing && current > size) {
      throw new UploadError(
        "UPLOAD_SOURCE_CHANGED",
        `The file is already ${current} bytes, more than the expected final size of ${size} bytes`,
      );
    }
    return new FilePartSource(
      handle,
      path,
      size,
      growing,
      options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
      growing ? options.available : undefined,
    );
  } catch (error) {
    await handle.close();
    throw error;
  }
}

class FilePartSource implements PartSource {
  readonly size: number;
  readonly #handle: FileHandle;
  readonly #path: string;
  readonly #growing: boolean;
  readonly #stallTimeoutMs: number;
  readonly #available: (() => number) | undefined;

  constructor(
    handle: FileHandle,
    path: string,
    size: number,
    growing: boolean,
    stallTimeoutMs: number,
    available?: () => number,
  ) {
    this.#handle = handle;
    this.#path = path;
    this.size = size;
    this.#growing = growing;
    this.#stallTimeoutMs = stallTimeoutMs;
    this.#available = available;
  }

  /** Waits until the writer says the bytes up to `end` are final; bounded by the stall timeout. */
  async #awaitAvailable(end: number, signal: AbortSignal | undefined): Promise<void> {
    const available = this.#available;
    if (!available) return;
    let seen = available();
    let lastProgress = Date.now();
    while (seen < end) {
      throwIfAborted(signal);
      if (Date.now() - lastProgress > this.#stallTimeoutMs) {
        throw new UploadError(
          "UPLOAD_SOURCE_STALLED",
          `The file ${this.#path} stopped growing at ${seen} of ${this.size} bytes for ${this.#stallTimeoutMs} ms`,
        );
      }
      await abortableSleep(GROW_POLL_MS, signal);
      const now = available();
      if (now > seen) lastProgress = Date.now();
      seen = now;
    }
  }

  async readInto(position: number, target: Buffer, signal?: AbortSignal): Promise<void> {
    if (position + target.length > this.size) {
      throw new RangeError(`Expected a range within ${this.size} bytes, got ${position}+${target.length}`);
    }
    await this.#awaitAvailable(position + target.length, signal);
    let filled = 0;
    let lastProgress = Date.now();
    // Bounded: every pass either reads bytes or waits, and waiting stops at the stall timeout.
    while (filled < target.length) {
      throwIfAborted(signal);
      const { bytesRead } = await this.#handle.read(
        target,
        filled,
        target.length - filled,
        position + filled,
      );
      if (bytesRead > 0) {
        filled += bytesRead;
        lastProgress = Date.now();
        continue;
      }
      if (!this.#growing) {
        throw new UploadError(
          "UPLOAD_SOURCE_CHANGED",
          `The file ${this.#path} shrank while uploading: no byte at offset ${position + filled} of ${this.size}`,
        );
      }
      if (Date.now() - lastProgress > this.#stallTimeoutMs) {
        throw new UploadError(
          "UPLOAD_SOURCE_STALLED",
          `The file ${this.#path} stopped growing at ${position + filled} of ${this.size} bytes for ${this.#stallTimeoutMs} ms`,
        );
      }
      await abortableSleep(GROW_POLL_MS, signal);
    }
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}
