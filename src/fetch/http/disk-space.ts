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
