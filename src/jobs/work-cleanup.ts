/**
 * A job's folder under data/work goes once the job has ended, whatever the end: the deliver step removes it after
 * the last send, and this removes it for a job that failed or was cancelled (a 404 after the folder was made, a
 * cancel mid-download), at once and at start for any a crash left behind. Only folders named as the fetch step
 * names them (job-<id>) whose job has ended are touched.
 */
import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import type { Db } from "../db/database.js";
import { getJob } from "../db/jobs.js";
import { FINISHED_STATUSES, type Job } from "../db/schema.js";
import type { Logger } from "../logger.js";

const JOB_DIR = /^job-(\d+)$/;
/** A work root holds a folder per unfinished job; this bounds one sweep over a root that grew by mistake. */
const MAX_SWEPT = 10_000;

export interface WorkCleanup {
  /** A job ended: its folder goes unless it is running again (a retry by hand). */
  jobEnded(job: Pick<Job, "id">): Promise<void>;
  /** Removes the folders of every job that has ended, or that no longer exists. */
  sweep(): Promise<number>;
}

export function createWorkCleanup(db: Db, workRoot: string, log: Logger): WorkCleanup {
  async function removeIfEnded(id: number): Promise<boolean> {
    const job = await getJob(db, id);
    if (job && !FINISHED_STATUSES.includes(job.status)) return false;
    const dir = job?.work_dir ?? path.join(workRoot, `job-${id}`);
    await rm(dir, { recursive: true, force: true });
    return true;
  }
  return {
    async jobEnded(job) {
      await removeIfEnded(job.id).catch((error: unknown) =>
        log.warn({ err: error, job: job.id }, "removing an ended job's folder failed"),
      );
    },
    async sweep() {
      let names: string[];
      try {
        names = await readdir(workRoot);
      } catch {
        return 0; // no work folder yet: nothing to remove
      }
      let removed = 0;
      for (const name of names.slice(0, MAX_SWEPT)) {
        const match = JOB_DIR.exec(name);
        if (match && (await removeIfEnded(Number(match[1])))) removed++;
      }
      return removed;
    },
  };
}
