/**
 * yt-dlp's progress, machine-readable: our template makes each update one JSON line on stdout, and the tracker turns
 * those lines into the engine's throttled TransferProgress reports.
 */
import type { ProgressCallback, TransferProgress } from "../types.js";

/** The transfer-progress contract: at most a few reports a second. */
const PROGRESS_INTERVAL_MS = 250;
export const PROGRESS_PREFIX = "medusa-progress ";
/** `j` makes each field JSON; a missing one prints as "NA". One line per update thanks to --newline. */
export const PROGRESS_TEMPLATE =
  `download:${PROGRESS_PREFIX}{"status":%(progress.status)j,"downloaded":%(progress.downloaded_bytes)j,` +
  `"total":%(progress.total_bytes)j,"estimate":%(progress.total_bytes_estimate)j,"speed":%(progress.speed)j}`;

/** One progress line from our template; undefined for anything else. Exported for tests. */
export function parseProgressLine(
  line: string,
): { status: string; downloaded: number; total: number | undefined; speed: number } | undefined {
  if (!line.startsWith(PROGRESS_PREFIX)) return undefined;
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(line.slice(PROGRESS_PREFIX.length)) as Record<string, unknown>;
  } catch {
    return undefined; // a title with odd characters cannot reach this template; a torn line is simply skipped
  }
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);
  const downloaded = num(raw.downloaded);
  if (downloaded === undefined) return undefined;
  return {
    status: typeof raw.status === "string" ? raw.status : "downloading",
    downloaded,
    total: num(raw.total) ?? num(raw.estimate),
    speed: num(raw.speed) ?? 0,
  };
}

/**
 * Sums progress over the files of one download (video, then audio: each restarts at 0 after "finished"),
 * throttles reports and calls `onTooLarge` once the bytes pass the limit.
 */
export function progressTracker(
  maxSize: number,
  estimatedTotal: number | undefined,
  onProgress: ProgressCallback | undefined,
  onTooLarge: () => void,
) {
  let base = 0;
  let last: TransferProgress = { bytes: 0, total: estimatedTotal, speed: 0 };
  let lastReport = 0;
  const report = (force: boolean) => {
    const now = Date.now();
    if (!onProgress || (!force && now - lastReport < PROGRESS_INTERVAL_MS)) return;
    lastReport = now;
    onProgress(last);
  };
  return {
    line(text: string) {
      const p = parseProgressLine(text);
      if (!p) return;
      const bytes = base + p.downloaded;
      const total = estimatedTotal ?? (p.total === undefined ? undefined : base + p.total);
      last = { bytes, total: total !== undefined && total < bytes ? bytes : total, speed: p.speed };
      if (p.status === "finished") base += p.downloaded;
      if (bytes > maxSize) onTooLarge();
      report(false);
    },
    finish() {
      if (last.bytes > 0) {
        last = { ...last, total: last.bytes };
        report(true);
      }
    },
  };
}
