/**
 * What a job asked for (jobs.options, JSON) and where it came from: read by the steps, written by the bot and the
 * terminal when they queue jobs.
 */
import type { Job } from "../db/schema.js";
import type { Quality } from "../lib/quality.js";

/**
 * request_chat_id of a job made at the terminal (`medusa upload`): no Telegram chat has id 0, so no message can
 * make a job that claims to come from there. Only such a job may name a local file as its source.
 */
export const TERMINAL_CHAT_ID = 0;

/** What a job asked for, stored as JSON in jobs.options. */
export interface JobOptions {
  quality?: Quality;
  /** Send as a plain file even when it is a video. */
  asDocument?: boolean;
  /** Send again even when the same content was delivered before. */
  fresh?: boolean;
  /** Site downloads (yt-dlp) were turned off when the job was queued: only direct files. */
  directOnly?: boolean;
  /** The user's own JPEG thumbnail for videos (/settings), used instead of a frame. */
  thumbnail?: string;
  /** Split files over this many bytes (/settings), when it is below the account's limit. */
  splitBytes?: number;
  /** "url | subs": the site's subtitles embedded in the video, or sent as files after it (yt-dlp links). */
  subtitles?: "embed" | "file";
  /** "url | trim 1:00-2:30": only that part, in seconds (no end: to the end). Keys in this order (dedupe). */
  trim?: { start: number; end?: number };
}

/** The job's options; a row written by hand gets the defaults. */
export function jobOptions(job: Job): JobOptions {
  try {
    return JSON.parse(job.options) as JobOptions;
  } catch {
    return {}; // a row written by hand: defaults
  }
}
