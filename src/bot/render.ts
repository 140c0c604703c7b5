/** Pieces the bot's replies share: how a job is named, how long lists fit in one message. */
import type { Job } from "../db/schema.js";
import { formatDuration } from "../jobs/caption.js";
import { MESSAGE_LIMIT, plainText, truncateText, visibleLength } from "../jobs/telegram-html.js";
import { displayUrl } from "../logger.js";

/** A name shows whole up to this (a longer one says nothing more; the job id finds it). */
export const NAME_CHARS = 300;
/** A link shown in place of a name: enough to recognise it. */
const LINK_CHARS = 80;

/** What the user calls a job: the name they gave, else its link without credentials. Plain text (t() escapes). */
export function jobLabel(job: Pick<Job, "name" | "source_url">): string {
  if (job.name) return truncateText(plainText(job.name), NAME_CHARS);
  return linkLabel(job.source_url);
}

export function linkLabel(url: string): string {
  return truncateText(plainText(displayUrl(url)), LINK_CHARS);
}

/**
 * Joins `head` and as many `lines` (HTML) as fit in one message, then `more(n)` for the n left out; every part is
 * ours or already escaped.
 */
export function fitLines(
  head: string,
  lines: readonly string[],
  more: (count: number) => string,
  limit = MESSAGE_LIMIT,
): string {
  let out = head;
  let used = visibleLength(out);
  let shown = 0;
  for (const line of lines) {
    const left = lines.length - shown - 1;
    const reserve = left > 0 ? visibleLength(more(left)) + 1 : 0;
    const length = visibleLength(line) + 1;
    if (used + length + reserve > limit) break;
    out += `\n${line}`;
    used += length;
    shown++;
  }
  if (shown < lines.length) out += `\n${more(lines.length - shown)}`;
  return out;
}

/** "≈ 3:20" worth of waiting before a job at `position` starts, from recent jobs; undefined without data. */
export function etaText(position: number, averageJobMs: number | null, workers: number): string | undefined {
  if (averageJobMs === null || averageJobMs <= 0) return undefined;
  const seconds = (Math.ceil(position / Math.max(1, workers)) * averageJobMs) / 1000;
  return formatDuration(seconds);
}

/** "12:03:45" of an epoch-ms time, UTC. */
export function clockUtc(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}
