/**
 * Tools a killed Medusa left running are ended at the next start, and only ours: real process groups here.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { describe, it, type TestContext } from "node:test";
import { openAndMigrate } from "../../src/db/database.js";
import { enqueueJobs, listJobPids, setJobPids } from "../../src/db/job-queue.js";
import { getJob } from "../../src/db/jobs.js";
import { touchUser } from "../../src/db/users.js";
import { endOrphanGroups } from "../../src/jobs/orphans.js";
import { createRunner } from "../../src/jobs/runner.js";
import { groupAlive, killGroup, runTool } from "../../src/lib/run-tool.js";
import { createLogger } from "../../src/logger.js";
import { tempDir } from "../support/temp-dir.js";

const log = createLogger({ level: "silent" });
/** An ffmpeg that never ends on its own: it encodes a test pattern to nowhere. */
const ENDLESS_FFMPEG = [
  "-hide_banner",
  "-loglevel",
  "error",
  "-re",
  "-f",
  "lavfi",
  "-i",
  "testsrc",
  "-f",
  "null",
  "-",
];

async function setup(t: TestContext) {
  const database = await openAndMigrate(path.join(tempDir(t), "medusa.db"));
  t.after(() => database.close());
  await touchUser(database.db, { id: 1 });
  const [job] = await database.db.transaction().execute((trx) =>
    enqueueJobs(
      trx,
      [{ user_id: 1, request_chat_id: 1, destination_chat_id: 1, source_url: "https://a/b" }],
      {
        perUserQueued: 10,
        totalQueued: 10,
      },
    ),
  );
  return { db: database.db, jobId: job?.id ?? 0 };
}

/** Starts `command` as the leader of its own group, like run-tool does, and returns its pid. */
function detached(t: TestContext, command: string, args: string[]): number {
  const child = spawn(command, args, { detached: true, stdio: "ignore" });
  child.unref();
  const pid = child.pid ?? 0;
  t.after(() => killGroup(pid, "SIGKILL"));
  return pid;
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && groupAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return !groupAlive(pid);
}

describe("orphaned tool groups", () => {
  it("ends an ffmpeg a killed Medusa left, and leaves a recycled pid that is not ours alone", async (t) => {
    const { db, jobId } = await setup(t);
    const ffmpeg = detached(t, "ffmpeg", ENDLESS_FFMPEG);
    const stranger = detached(t, "sleep", ["60"]);
    await setJobPids(db, jobId, [ffmpeg, stranger]);
    assert.equal(await endOrphanGroups(db, log), 1);
    assert.ok(await gone(ffmpeg), "the orphaned ffmpeg group is gone");
    assert.ok(groupAlive(stranger), "a process that is not one of our tools is never signalled");
    assert.deepEqual(await listJobPids(db), [], "the records are cleared");
  });

  it("are left alone by a runner that works next to another (medusa upload beside the bot)", async (t) => {
    const { db, jobId } = await setup(t);
    const ffmpeg = detached(t, "ffmpeg", ENDLESS_FFMPEG); // the bot's, running now
    await setJobPids(db, jobId, [ffmpeg]);
    const runner = createRunner({
      db,
      log,
      singleProcess: false,
      onlyJobs: [jobId + 1],
      steps: { fetch: async () => ({}), deliver: async () => ({}) },
    });
    await runner.start();
    await runner.stop();
    assert.ok(groupAlive(ffmpeg), "another worker's tool keeps running");
    assert.deepEqual(await listJobPids(db), [{ jobId, pids: [ffmpeg] }], "and keeps its record");
  });

  it("records the groups a step's tools lead while they run, and clears them after", async (t) => {
    const { db, jobId } = await setup(t);
    let seen: number[] = [];
    const runner = createRunner({
      db,
      log,
      pollMs: 50,
      steps: {
        fetch: async () => {
          const controller = new AbortController();
          const run = runTool("ffmpeg", ENDLESS_FFMPEG, { timeoutMs: 30_000, signal: controller.signal });
          for (let i = 0; i < 200 && seen.length === 0; i++) {
            seen = JSON.parse((await getJob(db, jobId))?.pids ?? "[]") as number[];
            await new Promise((r) => setTimeout(r, 20));
          }
          controller.abort();
          await run.catch(() => undefined); // cancelled on purpose
          return {};
        },
        deliver: async () => ({}),
      },
    });
    await runner.start();
    t.after(() => runner.stop());
    for (let i = 0; i < 500 && (await getJob(db, jobId))?.status !== "done"; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal((await getJob(db, jobId))?.status, "done");
    assert.equal(seen.length, 1, "the running ffmpeg's group was recorded");
    assert.deepEqual(JSON.parse((await getJob(db, jobId))?.pids ?? "[]"), [], "and cleared when it ended");
  });
});
