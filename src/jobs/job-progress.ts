/** A job's progress columns, written at most once a second whatever the transfer's own pace. */
import type { Db } from "../db/database.js";
import { recordProgress } from "../db/jobs.js";

/** Progress rows are written at most this often per job. */
const PROGRESS_EVERY_MS = 1000;

export function throttledProgress(db: Db, jobId: number): (bytes: number, total: number | null) => void {
  let last = 0;
  return (bytes, total) => {
    const now = Date.now();
    if (now - last < PROGRESS_EVERY_MS && bytes !== total) return;
    last = now;
    recordProgress(db, jobId, bytes, total).catch(() => undefined); // progress is advisory
  };
}
