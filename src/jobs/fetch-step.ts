/**
 * The fetch step: the file onto disk, resuming a partial download. A link delivered before with the same options
 * is sent again by reference instead (dedupe.ts); /merge fetches from Telegram (merge.ts); a plain file uploads
 * while it downloads when the deliver step will not rewrite it (overlap.ts).
 */
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../errors.js";
import { PARTIAL_FILE, PARTIAL_STATE } from "../fetch/http/partial.js";
import { isLocalSource, takeLocalFile } from "../fetch/local-file.js";
import { fetchSource } from "../fetch/source.js";
import type { FetchedFile, TransferProgress } from "../fetch/types.js";
import { YTDLP_PARTIAL_DIR } from "../fetch/ytdlp/download.js";
import { reuseDelivered } from "./dedupe.js";
import { jobOptions, TERMINAL_CHAT_ID } from "./job-options.js";
import { throttledProgress } from "./job-progress.js";
import { fetchMerge, mergeBatchId } from "./merge.js";
import { fetchRecord, mayOverlap, type Overlap, startOverlap, withFetchRecord } from "./overlap.js";
import type { JobSteps } from "./runner.js";
import type { StepDeps } from "./steps.js";

export function createFetchStep(deps: StepDeps, fileLimit: number): JobSteps["fetch"] {
  const { db, gateway } = deps;
  return async (job, ctx) => {
    const reused = await reuseDelivered({ db, gateway }, job, ctx);
    if (reused) return reused;
    const workDir = job.work_dir ?? path.join(deps.workRoot, `job-${job.id}`);
    if (job.download_path && (await isComplete(job.download_path, job.bytes_total))) return {};
    // /merge: the batch's videos from Telegram, joined into one file (src/jobs/merge.ts).
    if (mergeBatchId(job.source_url) !== undefined) {
      const merge = { ...deps, premium: deps.premium, minFreeDisk: deps.source.minFreeDisk ?? 0 };
      return fetchMerge({ ...merge, progress: throttledProgress(db, job.id) }, job, ctx);
    }
    // An earlier attempt's leftovers would only take disk space; its partial download is kept to resume.
    await mkdir(workDir, { recursive: true });
    await removeLeftovers(workDir);
    await ctx.advance("downloading", { work_dir: workDir, bytes_done: 0 });
    const options = jobOptions(job);
    const progress = throttledProgress(db, job.id);
    const started = Date.now();
    const onProgress = (p: TransferProgress) => progress(p.bytes, p.total ?? null);
    let file: { path: string; name: string; size: number; engine: FetchedFile["engine"] | null };
    let checkpoint: string | undefined;
    if (isLocalSource(job.source_url)) {
      // A path on this machine: only the operator at its terminal may name one, never a chat.
      if (job.request_chat_id !== TERMINAL_CHAT_ID) {
        throw new UserError("LOCAL_FILE_REFUSED", "Only http(s) links can be fetched.");
      }
      const local = await takeLocalFile(job.source_url, {
        dir: workDir,
        name: job.name ?? undefined,
        maxSize: deps.source.maxSize,
        minFreeDisk: deps.source.minFreeDisk,
        signal: ctx.signal,
        onProgress,
      });
      file = { ...local, engine: null }; // source_kind stays NULL: it names the download engines only
    } else {
      // Overlap (src/jobs/overlap.ts): a file deliver will not rewrite goes up while it comes down.
      let overlap: Overlap | undefined;
      const fetched = await fetchSource(job.source_url, {
        ...deps.source,
        dir: workDir,
        name: job.name ?? undefined,
        quality: options.quality,
        ...(options.directOnly ? { ytdlp: false } : {}),
        ...(options.subtitles ? { subtitles: options.subtitles } : {}),
        signal: ctx.signal,
        onProgress,
        keepPartial: true,
        hash: true,
        onStart: (start) => {
          const limits = { fileLimit, asDocument: options.asDocument === true };
          // A trimmed file is a new file: uploading the whole download meanwhile would be wasted.
          if (options.trim || !mayOverlap(start, limits)) return undefined;
          overlap = startOverlap(gateway, start, { signal: ctx.signal, log: ctx.log });
          return { followWrites: overlap !== undefined };
        },
      }).catch(async (error: unknown) => {
        await overlap?.abort();
        throw error;
      });
      const uploaded = await overlap?.finish(fetched);
      checkpoint = withFetchRecord(job.checkpoint, await fetchRecord(fetched, uploaded));
      file = fetched;
    }
    return {
      ...(checkpoint === undefined ? {} : { checkpoint }),
      download_path: file.path,
      name: file.name,
      source_kind: file.engine,
      bytes_total: file.size,
      bytes_done: file.size,
      download_ms: Date.now() - started,
    };
  };
}

/** What an interrupted download left to resume from; everything else an earlier attempt left goes. */
const RESUMABLE = new Set([PARTIAL_FILE, PARTIAL_STATE, YTDLP_PARTIAL_DIR]);

async function removeLeftovers(dir: string): Promise<void> {
  for (const entry of await readdir(dir)) {
    if (!RESUMABLE.has(entry)) await rm(path.join(dir, entry), { recursive: true, force: true });
  }
}

async function isComplete(file: string, expected: number | null): Promise<boolean> {
  try {
    const { size } = await stat(file);
    return expected === null || size === expected;
  } catch {
    return false; // gone: fetch again
  }
}
