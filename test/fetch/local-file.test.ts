/**
 * A local file as a job's source: linked into the job's folder when it can be (no copy, no space), copied when it
 * cannot (another file system), and only for jobs made at the terminal.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, it, type TestContext } from "node:test";
import { pathToFileURL } from "node:url";
import { openAndMigrate } from "../../src/db/database.js";
import { enqueueJobs } from "../../src/db/job-queue.js";
import { getJob, transitionJob } from "../../src/db/jobs.js";
import type { Job } from "../../src/db/schema.js";
import { touchUser } from "../../src/db/users.js";
import { DownloadError, UserError } from "../../src/errors.js";
import { isLocalSource, takeLocalFile } from "../../src/fetch/local-file.js";
import type { TransferProgress } from "../../src/fetch/types.js";
import { TERMINAL_CHAT_ID } from "../../src/jobs/job-options.js";
import { retryDecision } from "../../src/jobs/retry.js";
import { createJobSteps } from "../../src/jobs/steps.js";
import { createLogger } from "../../src/logger.js";
import type { TelegramGateway } from "../../src/telegram/gateway.js";
import { FFMPEG, FFPROBE, makeRandomFile, YTDLP } from "../support/media-fixtures.js";
import { tempDir } from "../support/temp-dir.js";

const LIMITS = { maxSize: 1e9, minFreeDisk: 0 };
/** tmpfs: another file system than the temp folder's on most machines, where no link can reach. */
const OTHER_FS = "/dev/shm";

const sha256 = async (file: string) =>
  createHash("sha256")
    .update(await readFile(file))
    .digest("hex");

async function folders(t: TestContext) {
  const dir = tempDir(t, "medusa-local-");
  const home = path.join(dir, "home");
  const work = path.join(dir, "work");
  await mkdir(home);
  await mkdir(work);
  return { dir, home, work };
}

describe("takeLocalFile", () => {
  it("hard-links the file into the job's folder under its name, reporting the whole size at once", async (t) => {
    const { home, work } = await folders(t);
    const original = await makeRandomFile(path.join(home, "My Film.mkv"), 300_000);
    const reports: TransferProgress[] = [];

    const taken = await takeLocalFile(pathToFileURL(original).href, {
      dir: work,
      ...LIMITS,
      onProgress: (p) => reports.push(p),
    });

    assert.deepEqual(
      { ...taken, path: path.relative(work, taken.path) },
      { path: "My Film.mkv", name: "My Film.mkv", size: 300_000, via: "link" },
    );
    assert.equal((await stat(taken.path)).ino, (await stat(original)).ino, "the same file, not a copy");
    assert.equal(reports.at(-1)?.bytes, 300_000);
  });

  it("uses the given name, made safe", async (t) => {
    const { home, work } = await folders(t);
    const original = await makeRandomFile(path.join(home, "a.bin"), 1000);
    const taken = await takeLocalFile(pathToFileURL(original).href, {
      dir: work,
      name: "../x/Report: 1.bin",
      ...LIMITS,
    });
    assert.equal(taken.name, "Report_ 1.bin");
    assert.equal(path.dirname(taken.path), work);
  });

  it("copies across file systems, with progress, and leaves the original as it was", {
    skip: !existsSync(OTHER_FS) || statSync(OTHER_FS).dev === statSync(os.tmpdir()).dev,
  }, async (t) => {
    const { home } = await folders(t);
    const shmWork = mkdtempSync(path.join(OTHER_FS, "medusa-local-"));
    t.after(() => rmSync(shmWork, { recursive: true, force: true }));
    const original = await makeRandomFile(path.join(home, "data.bin"), 2_000_000);
    const reports: TransferProgress[] = [];

    const taken = await takeLocalFile(pathToFileURL(original).href, {
      dir: shmWork,
      ...LIMITS,
      onProgress: (p) => reports.push(p),
    });

    assert.equal(taken.via, "copy");
    assert.equal(await sha256(taken.path), await sha256(original));
    assert.equal((await stat(original)).nlink, 1);
    assert.equal(reports.at(-1)?.bytes, 2_000_000);
    assert.deepEqual(await readdir(shmWork), ["data.bin"], "no .part left");
  });

  it("refuses a file that is gone or too large, with words for the user", async (t) => {
    const { home, work } = await folders(t);
    await assert.rejects(
      takeLocalFile(pathToFileURL(path.join(home, "gone.mp4")).href, { dir: work, ...LIMITS }),
      (error: unknown) => error instanceof UserError && error.code === "LOCAL_FILE_MISSING",
    );
    const big = await makeRandomFile(path.join(home, "big.bin"), 5000);
    await assert.rejects(
      takeLocalFile(pathToFileURL(big).href, { dir: work, maxSize: 4999, minFreeDisk: 0 }),
      (error: unknown) => error instanceof DownloadError && error.code === "TOO_LARGE",
    );
    assert.deepEqual(await readdir(work), []);
  });

  it("tells a file: source from a link", () => {
    assert.equal(isLocalSource("file:///home/me/a.mp4"), true);
    assert.equal(isLocalSource("https://example.com/file:a.mp4"), false);
  });
});

describe("the fetch step with a local source", () => {
  async function world(t: TestContext) {
    const { dir, home, work } = await folders(t);
    const database = await openAndMigrate(path.join(dir, "medusa.db"));
    t.after(() => database.close());
    await touchUser(database.db, { id: 7 });
    const steps = createJobSteps({
      db: database.db,
      gateway: {} as TelegramGateway, // fetching talks to no one
      workRoot: work,
      source: {
        ...LIMITS,
        connectTimeoutMs: 5000,
        idleTimeoutMs: 5000,
        guard: { allowPrivateNetworks: false },
        ytdlpPath: YTDLP,
        timeoutMs: 10_000,
      },
      media: { ffmpegPath: FFMPEG, ffprobePath: FFPROBE, toolTimeoutMs: 10_000 },
      logChats: async () => [],
    });
    const enqueue = async (source: string, requestChatId: number) => {
      const [job] = await database.db
        .transaction()
        .execute((trx) =>
          enqueueJobs(
            trx,
            [{ user_id: 7, request_chat_id: requestChatId, destination_chat_id: 7, source_url: source }],
            { perUserQueued: 10, totalQueued: 10 },
          ),
        );
      return job as Job;
    };
    const fetch = (job: Job) =>
      steps.fetch(job, {
        signal: new AbortController().signal,
        log: createLogger({ level: "silent" }),
        advance: (status, patch) => transitionJob(database.db, job.id, status, patch),
      });
    return { database, home, work, enqueue, fetch };
  }

  it("takes the file of a job made at the terminal", async (t) => {
    const w = await world(t);
    const original = await makeRandomFile(path.join(w.home, "clip.bin"), 10_000);
    const job = await w.enqueue(pathToFileURL(original).href, TERMINAL_CHAT_ID);

    const patch = await w.fetch(job);

    assert.equal(patch.name, "clip.bin");
    assert.equal(patch.bytes_total, 10_000);
    assert.equal(patch.source_kind, null, "no download engine was involved");
    assert.equal((await stat(String(patch.download_path))).ino, (await stat(original)).ino);
  });

  it("refuses a local path in a job that came from a chat, for good, without touching the file", async (t) => {
    const w = await world(t);
    const original = await makeRandomFile(path.join(w.home, "secret.bin"), 10_000);
    const job = await w.enqueue(pathToFileURL(original).href, 7);

    const error = await w.fetch(job).then(
      () => undefined,
      (e: unknown) => e,
    );

    assert.ok(error instanceof UserError && error.code === "LOCAL_FILE_REFUSED", String(error));
    assert.deepEqual(retryDecision(error, 1), { retry: false, why: "permanent" });
    assert.equal((await stat(original)).nlink, 1, "no link was made");
    const workDir = (await getJob(w.database.db, job.id))?.work_dir;
    assert.deepEqual(workDir ? await readdir(workDir) : [], []);
  });
});
