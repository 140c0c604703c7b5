/**
 * /merge: one job whose source is `merge:<batchId>` joins the batch's delivered videos, in list order, into one
 * file, which the deliver step then sends like any other (thumbnail, duration, split, log channels, history).
 *
 * The batch's work files were deleted when each of its jobs was delivered, so the fetch step takes every video
 * again from Telegram itself (upload.getFile on the documents the batch was delivered as): the very bytes the
 * user got, over the fast link to Telegram, with no second download from sites whose links may have expired or
 * whose formats changed. Each input that is complete on disk is kept across restarts; the joined file is written
 * under a temporary name and renamed when whole, so a crash never leaves half of it taken for done.
 */
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { type BatchDelivery, listBatchDeliveries } from "../db/batch-files.js";
import type { Db } from "../db/database.js";
import type { FileRecord, Job, JobUpdate } from "../db/schema.js";
import { UserError } from "../errors.js";
import { ensureDiskSpace } from "../fetch/http/disk-space.js";
import {
  type ConcatInput,
  canStreamCopy,
  concatCopy,
  concatReencode,
  firstDifference,
  probeConcatInput,
  REENCODE,
} from "../media/concat.js";
import type { MediaTools } from "../media/tools.js";
import type { TelegramGateway } from "../telegram/gateway.js";
import type { StoredDocument } from "../telegram/send.js";
import type { PremiumAccount } from "./accounts.js";
import type { StepContext } from "./runner.js";

const PREFIX = "merge:";
/** Videos one /merge joins: enough for a season or a course, few enough for one ffmpeg command line. */
export const MAX_MERGE_VIDEOS = 50;
/**
 * The inputs may add up to this many times the account's file limit: the joined file then goes out in at most
 * this many parts, and the disk holds the inputs and the output (twice this) for a while.
 */
export const MAX_MERGE_PARTS = 4;
/** A document sent as a file is still a video when its name says so (users who chose "as document"). */
const VIDEO_NAME = /\.(mp4|m4v|mov|mkv|webm|avi|ts|flv|3gp)$/i;
/** Containers the joined file keeps when every input has it; anything else is joined into Matroska. */
const KEPT_CONTAINER = /^\.(mp4|m4v|mov|mkv|webm)$/i;
const STALE_REFERENCE = /^(FILE_REFERENCE_(EXPIRED|INVALID))$/;

export function mergeSource(batchId: number): string {
  return `${PREFIX}${batchId}`;
}

/** The batch a `merge:<id>` source names; undefined for every other source. */
export function mergeBatchId(sourceUrl: string): number | undefined {
  const match = /^merge:(\d{1,15})$/.exec(sourceUrl);
  return match ? Number(match[1]) : undefined;
}

export function isVideoFile(file: Pick<FileRecord, "kind" | "name" | "mime_type">): boolean {
  return (
    file.kind === "video" ||
    (file.kind === "document" && (VIDEO_NAME.test(file.name) || (file.mime_type ?? "").startsWith("video/")))
  );
}

export interface MergePlan {
  /** The delivered videos, in list order. */
  videos: BatchDelivery[];
  /** Delivered links that are not videos (audio, pictures, documents): left out. */
  skipped: BatchDelivery[];
  /** Bytes of every video's parts. */
  bytes: number;
}

export async function planMerge(db: Db, batchId: number): Promise<MergePlan> {
  const delivered = await listBatchDeliveries(db, batchId);
  const videos = delivered.filter((d) => d.files.every(isVideoFile));
  const skipped = delivered.filter((d) => !videos.includes(d));
  const bytes = videos.reduce((sum, v) => sum + v.files.reduce((s, f) => s + f.size, 0), 0);
  return { videos, skipped, bytes };
}

export interface MergeDeps {
  db: Db;
  gateway: TelegramGateway;
  premium: PremiumAccount | undefined;
  media: MediaTools;
  workRoot: string;
  minFreeDisk: number;
  /** The job's progress row, throttled by the caller. */
  progress: (bytes: number, total: number | null) => void;
}

/** How the file was joined, kept in the job's checkpoint for the operator (and the tests). */
export interface MergeRecord {
  mode: "copy" | "reencode";
  inputs: number;
  /** Why it was re-encoded: the first parameter that differs. */
  reason?: string;
  ms: number;
}

/** The fetch step of a merge job: every input from Telegram, then one ffmpeg run; the result is the job's file. */
export async function fetchMerge(deps: MergeDeps, job: Job, ctx: StepContext): Promise<JobUpdate> {
  const batchId = mergeBatchId(job.source_url);
  if (batchId === undefined) throw new Error(`job ${job.id} is not a merge: ${job.source_url}`);
  const plan = await planMerge(deps.db, batchId);
  if (plan.videos.length < 2) {
    throw new UserError("MERGE_TOO_FEW", `batch ${batchId} has ${plan.videos.length} delivered videos`, {
      userMessage: "The batch no longer has two delivered videos to merge.",
    });
  }
  const started = Date.now();
  const workDir = job.work_dir ?? path.join(deps.workRoot, `job-${job.id}`);
  await mkdir(workDir, { recursive: true });
  await ctx.advance("downloading", { work_dir: workDir, bytes_done: 0, bytes_total: plan.bytes });

  const files = plan.videos.flatMap((v) => v.files);
  const wanted = files.map((file, index) => ({
    file,
    path: path.join(workDir, `in-${String(index + 1).padStart(3, "0")}${extOf(file.name)}`),
  }));
  // What an earlier attempt left half-done goes; complete inputs stay.
  const keep = new Set(wanted.map((w) => path.basename(w.path)));
  for (const entry of await readdir(workDir)) {
    if (!keep.has(entry)) await rm(path.join(workDir, entry), { recursive: true, force: true });
  }
  const have = await Promise.all(wanted.map((w) => sizeOf(w.path)));
  const missing = wanted.reduce((sum, w, i) => sum + (have[i] === w.file.size ? 0 : w.file.size), 0);
  // The inputs still to come, and the joined file about as big as all of them.
  await ensureDiskSpace(workDir, missing + plan.bytes, deps.minFreeDisk);

  const kept = wanted.filter((w, i) => have[i] === w.file.size).length;
  if (kept > 0) ctx.log.info({ kept, of: wanted.length }, "merge inputs kept from an earlier attempt");
  let before = 0;
  for (const [index, { file, path: target }] of wanted.entries()) {
    if (have[index] !== file.size) {
      await downloadInput(deps, job, file, target, ctx, (bytes) => deps.progress(before + bytes, plan.bytes));
    }
    before += file.size;
    deps.progress(before, plan.bytes);
  }

  const inputs: ConcatInput[] = [];
  for (const { path: file } of wanted) {
    const input = await probeConcatInput(deps.media, file, { signal: ctx.signal });
    if (input) inputs.push(input);
    else ctx.log.warn({ file: path.basename(file) }, "no video stream in a batch video; left out");
  }
  if (inputs.length < 2) {
    throw new UserError("MERGE_TOO_FEW", `batch ${batchId}: ${inputs.length} inputs with video`, {
      userMessage: "Fewer than two of the batch's files hold a video: there is nothing to merge.",
    });
  }
  const copy = canStreamCopy(inputs);
  const ext = copy ? commonExt(inputs) : ".mp4";
  const output = path.join(workDir, `merged${ext}`);
  const temporary = path.join(workDir, `merged.tmp${ext}`);
  const reason = copy ? undefined : firstDifference(inputs);
  ctx.log.info(
    { mode: copy ? "copy" : "reencode", inputs: inputs.length, ...(reason ? { reason } : {}) },
    copy
      ? "merging by stream copy: the inputs' codec parameters agree"
      : `merging by re-encoding (x264 ${REENCODE.preset}, CRF ${REENCODE.crf}): the inputs differ`,
  );
  const onProgress = (seconds: number, total: number) => {
    if (total > 0)
      deps.progress(Math.min(plan.bytes, Math.round((seconds / total) * plan.bytes)), plan.bytes);
  };
  const joinStarted = Date.now();
  if (copy) await concatCopy(deps.media, inputs, temporary, { signal: ctx.signal, onProgress });
  else await concatReencode(deps.media, inputs, temporary, { signal: ctx.signal, onProgress });
  await rename(temporary, output);
  // The inputs are not needed any more; the disk is.
  for (const { path: file } of wanted) await rm(file, { force: true });
  await rm(`${temporary}.list.txt`, { force: true });

  const record: MergeRecord = {
    mode: copy ? "copy" : "reencode",
    inputs: inputs.length,
    ...(reason ? { reason } : {}),
    ms: Date.now() - joinStarted,
  };
  const size = (await stat(output)).size;
  const name = job.name ?? "merged";
  return {
    checkpoint: JSON.stringify({ ...parseObject(job.checkpoint), merge: record }),
    download_path: output,
    name: path.extname(name).toLowerCase() === ext ? name : `${name}${ext}`,
    source_kind: null,
    bytes_total: size,
    bytes_done: size,
    download_ms: Date.now() - started,
  };
}

/** One stored document onto disk, by the account that stored it; a stale reference is renewed once. */
async function downloadInput(
  deps: MergeDeps,
  job: Job,
  file: FileRecord,
  target: string,
  ctx: StepContext,
  onBytes: (bytes: number) => void,
): Promise<void> {
  const gateway = file.account === "user" ? deps.premium?.gateway : deps.gateway;
  if (!gateway) {
    throw new UserError(
      "MERGE_SOURCE_GONE",
      `file ${file.id} was sent by the user session, which is not open`,
      {
        userMessage: "A video of the batch was sent by the user session, which is not connected now.",
        hint: "Try again once the operator has the user session back.",
      },
    );
  }
  let document: StoredDocument = {
    id: file.document_id,
    accessHash: file.access_hash,
    fileReference: Buffer.from(file.file_reference),
    dcId: file.dc_id,
    size: file.size,
    mimeType: file.mime_type ?? "application/octet-stream",
  };
  const options = { signal: ctx.signal, onProgress: (bytes: number) => onBytes(bytes) };
  try {
    await gateway.downloadDocument(document, target, options);
  } catch (error) {
    if (!STALE_REFERENCE.test((error as { code?: string }).code ?? "")) throw error;
    ctx.log.info({ file: file.id }, "a batch video's file reference went stale; renewing it");
    document = await gateway.refreshDocument(job.destination_chat_id, document, { signal: ctx.signal });
    await gateway.downloadDocument(document, target, options);
  }
}

/** The inputs' container when they all share one Telegram plays; Matroska, which takes any codec, otherwise. */
function commonExt(inputs: readonly ConcatInput[]): string {
  const exts = new Set(inputs.map((i) => path.extname(i.path).toLowerCase()));
  const [only] = exts;
  return exts.size === 1 && only && KEPT_CONTAINER.test(only) ? only : ".mkv";
}

function extOf(name: string): string {
  const ext = path.extname(name).toLowerCase();
  return /^\.[a-z0-9]{1,5}$/.test(ext) ? ext : ".bin";
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch {
    return undefined; // not there yet
  }
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === "object" ? (value as Record<string, unknown>) : {};
  } catch {
    return {}; // a row written by hand
  }
}
