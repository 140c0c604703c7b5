/**
 * A runner follows the database's job signals (PostgreSQL's LISTEN/NOTIFY, src/db/job-signals.ts): new work wakes its
 * idle lanes, a Cancel or Pause of a job it runs is read at once. Its polling and heartbeats go on unchanged, and
 * cover whatever a dropped listening connection misses.
 */
import { type JobListener, listenJobs } from "../db/job-signals.js";
import type { Logger } from "../logger.js";
import type { Runner } from "./runner.js";

export function followJobSignals(
  runner: Pick<Runner, "wake" | "check">,
  url: string,
  log: Logger,
): JobListener {
  return listenJobs(
    url,
    (signal) => {
      if (signal.kind === "queued" || signal.kind === "resume") runner.wake();
      else runner.check(signal.job);
    },
    // What was queued while the connection was down is claimed now rather than on the next poll.
    { log, onListening: () => runner.wake() },
  );
}
