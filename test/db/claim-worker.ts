/**
 * A worker thread for the concurrent-claim test: opens its own connection (a pool on PostgreSQL) to the store, says it is ready, waits for
 * the start signal, then claims until the queue is empty and posts the ids it got.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openStore } from "../../src/db/database.js";
import { claimJob } from "../../src/db/job-queue.js";

const { file, url, workerId, now, leaseMs, start } = workerData as {
  file: string | undefined;
  url: string | undefined;
  workerId: string;
  now: string;
  leaseMs: number;
  start: Int32Array;
};
const opened = openStore({ file: file ?? "", url });
parentPort?.postMessage("ready");
Atomics.wait(start, 0, 0);
const claimed: number[] = [];
for (let job = await claimJob(opened.db, { workerId, leaseMs, now }); job; ) {
  claimed.push(job.id);
  job = await claimJob(opened.db, { workerId, leaseMs, now });
}
await opened.close();
parentPort?.postMessage(claimed);
