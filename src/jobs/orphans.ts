/**
 * Process groups (yt-dlp, ffmpeg) that a killed Medusa left running: each job records the groups its tools lead
 * while they run, and the next start ends those still alive. A recorded pid may belong to another program by then
 * (pids are reused, e.g. after a reboot), so only a group leader that is still one of our tools is ended.
 */
import { readFile } from "node:fs/promises";
import type { Db } from "../db/database.js";
import { listJobPids, setJobPids } from "../db/job-queue.js";
import { groupAlive, killGroup, type ToolGroupWatcher } from "../lib/run-tool.js";
import type { Logger } from "../logger.js";

/** What the tools we start look like in /proc/<pid>/cmdline (yt-dlp runs as a Python script). */
const OUR_TOOLS = /(^|\/)(ffmpeg|ffprobe|yt-dlp|python3?(\.\d+)?)(\0|$)|\/yt-dlp(\0|$)/;

/** Ends every recorded group that is still alive and still ours; clears the records. Returns how many. */
export async function endOrphanGroups(db: Db, log: Logger): Promise<number> {
  let ended = 0;
  for (const { jobId, pids } of await listJobPids(db)) {
    for (const pid of pids) {
      if (!groupAlive(pid) || !(await isOurToolLeader(pid))) continue;
      killGroup(pid, "SIGKILL");
      ended++;
      log.warn({ job: jobId, pid }, "ended a tool a stopped Medusa left running");
    }
    await setJobPids(db, jobId, []);
  }
  return ended;
}

async function isOurToolLeader(pid: number): Promise<boolean> {
  try {
    const [cmdline, stat] = await Promise.all([
      readFile(`/proc/${pid}/cmdline`, "utf8"),
      readFile(`/proc/${pid}/stat`, "utf8"),
    ]);
    // Field 5 of /proc/<pid>/stat (after the parenthesised name) is the process group id.
    const pgid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
    return pgid === pid && OUR_TOOLS.test(cmdline);
  } catch {
    return false; // gone, or no /proc: nothing we can safely end
  }
}

/** Records a job's running tool groups in its row, writes one at a time and in order. */
export function jobGroupWatcher(
  db: Db,
  jobId: number,
  log: Logger,
): ToolGroupWatcher & { clear(): Promise<void> } {
  const pids = new Set<number>();
  let writes = Promise.resolve();
  const save = () => {
    const snapshot = [...pids];
    writes = writes
      .then(() => setJobPids(db, jobId, snapshot))
      .catch((error: unknown) => log.warn({ err: error }, "recording tool pids failed"));
    return writes;
  };
  return {
    started(pid) {
      pids.add(pid);
      void save();
    },
    ended(pid) {
      pids.delete(pid);
      void save();
    },
    clear() {
      pids.clear();
      return save();
    },
  };
}
