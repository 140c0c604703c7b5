/**
 * The live status board of one chat as Telegram HTML and inline buttons: a pure function of the jobs' states, the
 * page asked for and a text catalog. Pages are packed so that each fits Telegram's message limit; names and reasons
 * come from users and sites, so they are made plain (no bidi controls or line breaks), shortened and escaped.
 */
import { formatDuration } from "../jobs/caption.js";
import {
  escapeHtml,
  MESSAGE_LIMIT,
  plainText,
  truncateHtml,
  truncateText,
  visibleLength,
} from "../jobs/telegram-html.js";
import { formatBytes } from "../lib/size.js";
import type { Button } from "../telegram/gateway.js";
import type { StatusTexts } from "./status-texts.js";

/** What a job is doing, as the board tells it. */
export type BoardStage =
  | "queued"
  | "retrying"
  | "downloading"
  | "processing"
  | "uploading"
  | "sending"
  | "cancelling"
  | "pausing"
  | "paused"
  | "done"
  | "failed"
  | "cancelled";

export const FINISHED_STAGES: readonly BoardStage[] = ["done", "failed", "cancelled"];

export interface BoardJob {
  id: number;
  /** The file name, or the link while it is not known: someone else's text. */
  name: string;
  stage: BoardStage;
  /** Place in the queue, for queued jobs. */
  position: number | null;
  bytesDone: number;
  bytesTotal: number | null;
  /** The stage's current speed; null when not measured. */
  bytesPerSecond: number | null;
  /** Time left in the stage (or until a retry); null when unknown. */
  etaMs: number | null;
  /** The delivered message, for done jobs, when it has a link. */
  link: string | null;
  /** Why it failed, for failed jobs: someone else's text. */
  reason: string | null;
}

export interface RenderedBoard {
  text: string;
  buttons: Button[][];
  /** The page shown (clamped), 0-based, and how many there are. */
  page: number;
  pages: number;
  /** Every job on the board has finished: this is the final state. */
  finished: boolean;
}

/** Callback data of the board's buttons; each well under Telegram's 64 bytes. */
export const STATUS_CALLBACK_PREFIX = "st:";
export const cancelJobData = (jobId: number) => `st:c:${jobId}`;
export const CANCEL_ALL_DATA = "st:ca";
export const pauseJobData = (jobId: number) => `st:pz:${jobId}`;
export const resumeJobData = (jobId: number) => `st:r:${jobId}`;
export const pageData = (page: number) => `st:p:${page}`;

/** Enough jobs per page to read at a glance, and few enough buttons (Telegram allows 100) to press the right one. */
export const JOBS_PER_PAGE = 10;
/** A name longer than this says nothing more on a phone screen. */
const NAME_MAX = 80;
/** Errors are one sentence; a longer one is someone's HTML page or a stack. */
const REASON_MAX = 200;
const BAR_CELLS = 10;
/** Each job has two buttons (pause or resume, cancel): two jobs a row. */
const JOBS_PER_ROW = 2;

const STAGE_RANK: Record<BoardStage, number> = {
  downloading: 0,
  processing: 0,
  uploading: 0,
  sending: 0,
  cancelling: 0,
  pausing: 0,
  retrying: 1,
  queued: 2,
  paused: 2,
  done: 3,
  failed: 3,
  cancelled: 3,
};

/** Running jobs first, then waiting ones in queue order, then finished ones; by id within each. */
export function boardOrder(a: BoardJob, b: BoardJob): number {
  const rank = STAGE_RANK[a.stage] - STAGE_RANK[b.stage];
  if (rank !== 0) return rank;
  if (a.position !== null || b.position !== null) {
    const pa = a.position ?? Number.MAX_SAFE_INTEGER;
    const pb = b.position ?? Number.MAX_SAFE_INTEGER;
    if (pa !== pb) return pa - pb;
  }
  return a.id - b.id;
}

export function isFinishedStage(stage: BoardStage): boolean {
  return FINISHED_STAGES.includes(stage);
}

function bar(fraction: number): string {
  const filled = Math.floor(Math.min(1, Math.max(0, fraction)) * BAR_CELLS);
  return "█".repeat(filled) + "░".repeat(BAR_CELLS - filled);
}

function seconds(ms: number): string {
  return formatDuration(Math.max(0, Math.ceil(ms / 1000)));
}

/** The second line of a job: its stage and numbers. */
function stageLine(job: BoardJob, texts: StatusTexts): string {
  switch (job.stage) {
    case "queued":
      return escapeHtml(texts.queued(job.position));
    case "retrying":
      return escapeHtml(texts.retrying(seconds(job.etaMs ?? 0)));
    case "cancelling":
      return escapeHtml(texts.cancelling);
    case "pausing":
      return escapeHtml(texts.pausing);
    case "paused":
      return escapeHtml(texts.paused);
    case "done":
      return job.link
        ? `✅ ${escapeHtml(texts.done)} · <a href="${escapeHtml(job.link)}">${escapeHtml(texts.open)}</a>`
        : `✅ ${escapeHtml(texts.done)}`;
    case "failed": {
      const reason = job.reason ? truncateText(plainText(job.reason), REASON_MAX) : "";
      return `❌ ${escapeHtml(texts.failed)}${reason ? `: ${escapeHtml(reason)}` : ""}`;
    }
    case "cancelled":
      return `🚫 ${escapeHtml(texts.cancelled)}`;
    default: {
      const parts = [escapeHtml(texts[job.stage])];
      const total = job.bytesTotal;
      // Processing and sending move no bytes worth a bar: the file is whole on disk, or sent by reference.
      const transfer = job.stage === "downloading" || job.stage === "uploading";
      if (transfer && total !== null && total > 0) {
        const fraction = Math.min(1, job.bytesDone / total);
        parts.push(`${bar(fraction)} ${Math.floor(fraction * 100)}%`);
        parts.push(`${formatBytes(job.bytesDone)} / ${formatBytes(total)}`);
      } else if (transfer && job.bytesDone > 0) {
        parts.push(formatBytes(job.bytesDone));
      }
      if (job.bytesPerSecond !== null && job.bytesPerSecond > 0) {
        parts.push(escapeHtml(texts.speed(formatBytes(Math.round(job.bytesPerSecond)))));
      }
      if (job.etaMs !== null) parts.push(escapeHtml(texts.eta(seconds(job.etaMs))));
      return parts.join(" · ");
    }
  }
}

/** One job's lines; its name shown literally, whatever it holds. */
export function renderJob(job: BoardJob, texts: StatusTexts): string {
  const name = truncateText(plainText(job.name), NAME_MAX);
  return `<b>#${job.id}</b> ${escapeHtml(name)}\n${stageLine(job, texts)}`;
}

/**
 * Splits the blocks into pages of at most JOBS_PER_PAGE whose text, with the header and the page line, fits `limit`.
 * Every block is bounded (names and reasons are cut), so one always fits; a page holds at least one.
 */
function paginate(blocks: readonly string[], room: number): string[][] {
  const pages: string[][] = [];
  let page: string[] = [];
  let used = 0;
  for (const block of blocks) {
    const length = visibleLength(block) + 2; // the blank line before it
    if (page.length > 0 && (page.length >= JOBS_PER_PAGE || used + length > room)) {
      pages.push(page);
      page = [];
      used = 0;
    }
    page.push(length > room ? truncateHtml(block, Math.max(1, room - 2)) : block);
    used += length;
  }
  if (page.length > 0 || pages.length === 0) pages.push(page);
  return pages;
}

/** The board of a chat: the jobs in board order, the page asked for (clamped), its buttons. */
export function renderBoard(
  jobs: readonly BoardJob[],
  page: number,
  texts: StatusTexts,
  limit: number = MESSAGE_LIMIT,
): RenderedBoard {
  const ordered = [...jobs].sort(boardOrder);
  const active = ordered.filter((j) => !isFinishedStage(j.stage)).length;
  const finished = active === 0;
  const header = `<b>${escapeHtml(finished ? texts.titleFinished : texts.title(active))}</b>`;
  // The page line is the longest it can be for this many jobs, so a page never overflows once it is added.
  const widest = escapeHtml(texts.page(ordered.length, ordered.length));
  const room = limit - visibleLength(header) - visibleLength(widest) - 2;
  const blocks = ordered.map((job) => renderJob(job, texts));
  const pages = paginate(blocks, room);
  const current = Math.min(Math.max(0, Math.trunc(page) || 0), pages.length - 1);
  let text = header;
  for (const block of pages[current] ?? []) text += `\n\n${block}`;
  if (pages.length > 1) text += `\n\n${escapeHtml(texts.page(current + 1, pages.length))}`;

  const buttons: Button[][] = [];
  const start = pages.slice(0, current).reduce((n, p) => n + p.length, 0);
  const shown = ordered.slice(start, start + (pages[current]?.length ?? 0));
  const actionable = shown.filter((j) => !isFinishedStage(j.stage) && j.stage !== "cancelling");
  for (let i = 0; i < actionable.length; i += JOBS_PER_ROW) {
    buttons.push(
      actionable.slice(i, i + JOBS_PER_ROW).flatMap((j): Button[] => {
        const label = `#${j.id}`;
        const pause =
          j.stage === "paused" || j.stage === "pausing"
            ? { text: texts.resumeButton(label), data: resumeJobData(j.id) }
            : { text: texts.pauseButton(label), data: pauseJobData(j.id) };
        return [pause, { text: texts.cancelButton(label), data: cancelJobData(j.id) }];
      }),
    );
  }
  if (ordered.some((j) => !isFinishedStage(j.stage) && j.stage !== "cancelling")) {
    buttons.push([{ text: texts.cancelAll, data: CANCEL_ALL_DATA }]);
  }
  const nav: Button[] = [];
  if (current > 0) nav.push({ text: texts.previous, data: pageData(current - 1) });
  if (current < pages.length - 1) nav.push({ text: texts.next, data: pageData(current + 1) });
  if (nav.length > 0) buttons.push(nav);
  return { text, buttons, page: current, pages: pages.length, finished };
}
