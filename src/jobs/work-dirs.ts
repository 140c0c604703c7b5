/**
 * Job folders whose job is over. A partial download is kept in its job's folder for the next attempt, so a job
 * that fails for good or is cancelled (at the terminal, by a user, while waiting for its retry) would keep those
 * bytes forever: this sweep, at start and now and then, removes the folder of every job that is finished or gone.
 */
import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import type { Db } from "../db/database.js";
import { getJob } from "../db/jobs.js";
import { FINISHED_STATUSES } from "../db/schema.js";
import type { Logger } from "../logger.js";

const JOB_DIR = /^job-(\d{1,15})$/;
/** Entries looked at per sweep: a work folder holds one entry per unfinished job. */
const MAX_ENTRIES = 100_000;

/** Removes `workRoot/job-N` for every job N that is finished or no longer exists; returns how many. */
export async function removeFinishedWorkDirs(db: Db, workRoot: string, log: Logger): Promise<number> {
  const entries = await readdir(workRoot).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [] as string[]; // no job has run here yet
    throw error;
  });
  let removed = 0;
  for (const entry of entries.slice(0, MAX_ENTRIES)) {
    const match = JOB_DIR.exec(entry);
    if (!match) continue;
    const job = await getJob(db, Number(match[1]));
    if (job && !FINISHED_STATUSES.includes(job.status)) continue;
    await rm(path.join(workRoot, entry), { recursive: true, force: true });
    removed++;
  }
  if (removed > 0) log.info({ removed }, "removed the work folders of finished jobs");
  return removed;
}
