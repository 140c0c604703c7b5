/**
 * The message sent when a batch (a .txt list of links) is over:
 *
 *   <b>Batch finished</b>
 *   Done: 12 · Failed: 2 · Skipped: 1 · Cancelled: 0
 *   Delivered 1.5 GiB in 1:02:03
 *
 *   <b>Failed</b>
 *   Line 3 · Lecture 1: The site refused the download.
 *   Line 7: The file is larger than 2000 MiB.
 *
 * Failures are listed by line number. The message is at most 4096 visible units: when the failures do not all fit,
 * the first ones are listed and a last line says "… and N more".
 */
import { formatBytes } from "../lib/size.js";
import { formatDuration } from "./caption.js";
import {
  escapeHtml,
  MESSAGE_LIMIT,
  plainText,
  truncateHtml,
  truncateText,
  visibleLength,
} from "./telegram-html.js";

export interface BatchFailure {
  /** 1-based line number in the batch file. */
  line: number;
  /** The name written before the link, or the file's name; null when there is none. */
  name: string | null;
  /** Why it failed, already worded for the user. */
  reason: string;
}

export interface BatchSummary {
  done: number;
  failed: number;
  skipped: number;
  cancelled: number;
  /** Bytes delivered. */
  bytes: number;
  /** Seconds from the first link started to the last one ended. */
  seconds: number;
  /** What failed, in any order; there may be fewer than `failed` (those not listed count as "more"). */
  failures: readonly BatchFailure[];
}

/**
 * The summary's words in the reader's language, as plain text (the renderer escapes them); from the bot's catalogs
 * (src/bot/summary-texts.ts), handed in by the composition root.
 */
export interface BatchSummaryTexts {
  title: string;
  counts(counts: { done: number; failed: number; skipped: number; cancelled: number }): string;
  /** `size` and `time` come formatted ("1.5 GiB", "1:02:03"). */
  delivered(size: string, time: string): string;
  failedHeading: string;
  /** One failure; `name` is null when the line had none. */
  line(line: number, name: string | null, reason: string): string;
  /** The reason of a line that never became a job. */
  skipped(reason: string): string;
  /** The last line when not every failure fits. */
  more(count: number): string;
  /** Why a job failed, from its row (error key and params), in these words. */
  reason(job: {
    error_code: string | null;
    error_message: string | null;
    error_key?: string | null;
    error_params?: string | null;
  }): string;
}

export interface BatchSummaryOptions {
  /** Visible UTF-16 units allowed. @default MESSAGE_LIMIT (4096) */
  limit?: number;
}

/** A name longer than this says nothing more: the line number finds it. */
const FAILURE_NAME_MAX = 100;
/** One long reason must not crowd out the others: at this size at least eight failures fit in a message. */
const FAILURE_REASON_MAX = 300;

export function renderBatchSummary(
  summary: BatchSummary,
  texts: BatchSummaryTexts,
  options: BatchSummaryOptions = {},
): string {
  const limit = options.limit ?? MESSAGE_LIMIT;
  const more = (count: number) => `\n${texts.more(count)}`;
  let out = [
    `<b>${escapeHtml(texts.title)}</b>`,
    escapeHtml(texts.counts(summary)),
    escapeHtml(texts.delivered(formatBytes(summary.bytes), formatDuration(summary.seconds) || "0:00")),
  ].join("\n");

  const failures = [...summary.failures].sort((a, b) => a.line - b.line);
  const total = Math.max(summary.failed, failures.length);
  if (total === 0) return truncateHtml(out, limit);
  out += `\n\n<b>${escapeHtml(texts.failedHeading)}</b>`;
  let used = visibleLength(out);
  let shown = 0;
  for (const failure of failures) {
    const line = `\n${failureLine(failure, texts)}`;
    const after = total - shown - 1;
    const reserve = after > 0 ? more(after).length : 0;
    const length = visibleLength(line);
    if (used + length + reserve > limit) break;
    out += line;
    used += length;
    shown++;
  }
  if (total > shown) out += escapeHtml(more(total - shown));
  return truncateHtml(out, limit); // a guard for a tiny limit; 4096 always fits the header and "… and N more"
}

function failureLine(failure: BatchFailure, texts: BatchSummaryTexts): string {
  const name = failure.name ? truncateText(plainText(failure.name), FAILURE_NAME_MAX) : null;
  const reason = truncateText(plainText(failure.reason), FAILURE_REASON_MAX);
  return escapeHtml(plainText(texts.line(failure.line, name || null, reason)));
}
