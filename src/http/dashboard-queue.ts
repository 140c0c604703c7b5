/**
 * The live queue as the dashboard shows it: each unfinished job's stage, progress, speed and ETA. The speed is
 * measured from the bytes a job moved between two looks (smoothed), or, until measured, the recent jobs' average;
 * the page's script polls the same rows as JSON, so both renderings come from here.
 */
import type { LiveJob, LiveQueue } from "../db/dashboard.js";
import type { RecentSpeed } from "../db/queue-overview.js";
import { formatBytes } from "../lib/size.js";
import { displayUrl, scrub } from "../logger.js";
import { cleanText } from "./html.js";

/** A speed is measured over at least this long, so two quick polls do not make it jump. */
const MIN_SAMPLE_MS = 1000;
/** Weight of the newest measurement (the rest is the speed before). */
const SPEED_SMOOTHING = 0.5;

export type QueueStage =
  | "queued"
  | "downloading"
  | "processing"
  | "uploading"
  | "sending"
  | "retrying"
  | "paused"
  | "cancelling";

export interface QueueRow {
  id: number;
  user: string;
  name: string;
  stage: QueueStage;
  /** 0–100 while the size is known and bytes move; null: no measure (shown as a moving bar when running). */
  percent: number | null;
  running: boolean;
  bytes: string;
  speed: string;
  eta: string;
  position: number | null;
}

export interface QueueJson {
  at: string;
  running: number;
  waiting: number;
  jobs: QueueRow[];
}

interface Sample {
  stage: QueueStage;
  bytes: number;
  at: number;
  speed: number | null;
}

export function createQueueView() {
  const samples = new Map<number, Sample>();

  function measure(job: LiveJob, stage: QueueStage, now: number): number | null {
    const previous = samples.get(job.id);
    if (previous && previous.stage === stage && now - previous.at < MIN_SAMPLE_MS) return previous.speed;
    let speed: number | null = null;
    if (previous && previous.stage === stage && job.bytesDone >= previous.bytes) {
      const current = ((job.bytesDone - previous.bytes) * 1000) / (now - previous.at);
      speed =
        previous.speed === null
          ? current
          : SPEED_SMOOTHING * current + (1 - SPEED_SMOOTHING) * previous.speed;
    }
    samples.set(job.id, { stage, bytes: job.bytesDone, at: now, speed });
    return speed;
  }

  return {
    rows(queue: LiveQueue, now: number): QueueJson {
      const seen = new Set<number>();
      const jobs = queue.jobs.map((job): QueueRow => {
        seen.add(job.id);
        const stage = stageOf(job, now);
        const transfer = stage === "downloading" || stage === "uploading";
        const speed = transfer ? (measure(job, stage, now) ?? fallbackSpeed(stage, queue.recent)) : null;
        const total = job.bytesTotal;
        const percent =
          transfer && total !== null && total > 0
            ? Math.min(100, Math.round((job.bytesDone / total) * 1000) / 10)
            : null;
        let etaMs: number | null = null;
        if (stage === "retrying") etaMs = Date.parse(job.runAt) - now;
        else if (transfer && total !== null && speed !== null && speed > 0)
          etaMs = (Math.max(0, total - job.bytesDone) / speed) * 1000;
        return {
          id: job.id,
          user: userLabel(job),
          name: cleanText(job.name ?? displayUrl(job.sourceUrl)),
          stage,
          percent,
          running: job.running,
          bytes: transfer
            ? total !== null
              ? `${formatBytes(job.bytesDone)} / ${formatBytes(total)}`
              : formatBytes(job.bytesDone)
            : total !== null
              ? formatBytes(total)
              : "",
          speed: speed !== null ? `${formatBytes(Math.round(speed))}/s` : "",
          eta: etaMs !== null ? formatDuration(etaMs) : "",
          position: job.position,
        };
      });
      for (const id of samples.keys()) if (!seen.has(id)) samples.delete(id);
      return { at: new Date(now).toISOString(), running: queue.running, waiting: queue.waiting, jobs };
    },
  };
}

function stageOf(job: LiveJob, now: number): QueueStage {
  if (job.cancelRequested) return "cancelling";
  if (job.paused) return "paused";
  if (job.running) return job.status === "queued" ? "downloading" : (job.status as QueueStage);
  if (job.attempts > 0 && Date.parse(job.runAt) > now) return "retrying";
  return "queued";
}

function fallbackSpeed(stage: QueueStage, recent: RecentSpeed): number | null {
  if (stage === "downloading") return recent.downloadBytesPerSecond;
  if (stage === "uploading") return recent.uploadBytesPerSecond;
  return null;
}

export function userLabel(user: {
  userId: number;
  username: string | null;
  firstName: string | null;
}): string {
  const name = user.username ? `@${user.username}` : (user.firstName ?? "");
  return cleanText(name ? `${name} (${user.userId})` : String(user.userId));
}

/** "45 s", "3 min 5 s", "2 h 10 min". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** Error text from a job, with any secret-shaped part (tokens, URL credentials) removed. */
export function safeMessage(text: string): string {
  return cleanText(scrub(text));
}
