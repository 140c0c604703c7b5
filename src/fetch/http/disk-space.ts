/** Refuses a download that would leave the disk fuller than the operator allows (`MIN_FREE_DISK`). */
import fs from "node:fs/promises";
import { DownloadError } from "../../errors.js";
import { formatBytes } from "../../lib/size.js";

/** Bytes available to us (not to root) on the file system that holds `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const stats = await fs.statfs(dir);
  return stats.bavail * stats.bsize;
}

/** Throws DISK_FULL unless `needed` bytes fit in `dir` with `keepFree` bytes to spare. */
export async function ensureDiskSpace(dir: string, needed: number, keepFree: number): Promise<void> {
  const free = await freeBytes(dir);
  if (free - needed >= keepFree) return;
  throw new DownloadError(
    "DISK_FULL",
    `Not enough disk space: need ${formatBytes(needed)} and keep ${formatBytes(keepFree)} free, have ${formatBytes(free)}`,
    {
      userMessage: "The server does not have enough free disk space for this file right now.",
      hint: "Try again later.",
    },
  );
}

/** How often a running download looks at the disk: a statfs every few MiB costs nothing next to writing them. */
const CHECK_EVERY_BYTES = 4 * 1024 * 1024;

/** The floor was reached while bytes arrived (another job, a log, anything filled the disk meanwhile). */
export function diskFloorReached(free: number, needed: number, keepFree: number): DownloadError {
  return new DownloadError(
    "DISK_FLOOR_REACHED",
    `Stopped mid-download: ${formatBytes(free)} free, ${formatBytes(needed)} still to write, ${formatBytes(keepFree)} must stay free`,
    {
      userMessage:
        "The download was stopped because the server was running out of disk space; nothing of it was kept.",
      hint: "Try again later.",
    },
  );
}

/**
 * Checks the disk while a transfer writes: it stops with DISK_FLOOR_REACHED as soon as the bytes still to come
 * (all of them when the size is known, the next batch otherwise) would leave less than `keepFree` free.
 */
export class DiskWatch {
  private sinceCheck = 0;
  private checking: Promise<void> | undefined;

  constructor(
    private readonly dir: string,
    private readonly keepFree: number,
    /** Bytes still to write, when the size is known. */
    private readonly remaining: () => number | undefined,
  ) {}

  /** Counts `bytes` written; every few MiB reads the free space and throws once the floor is near. */
  async note(bytes: number): Promise<void> {
    this.sinceCheck += bytes;
    if (this.sinceCheck < CHECK_EVERY_BYTES) return;
    this.sinceCheck = 0;
    // Several connections may pass here at once: one statfs answers them all.
    this.checking ??= this.check().finally(() => {
      this.checking = undefined;
    });
    await this.checking;
  }

  private async check(): Promise<void> {
    const free = await freeBytes(this.dir);
    const needed = this.remaining() ?? CHECK_EVERY_BYTES;
    if (free - needed < this.keepFree) throw diskFloorReached(free, needed, this.keepFree);
  }
}
