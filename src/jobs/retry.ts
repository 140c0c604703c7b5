/**
 * What a failed step means for its job: give up (the user's input or the content is the problem), try again
 * after a backoff (the network or the site hiccuped), or try again when Telegram said (FLOOD_WAIT).
 */
import { CancelledError, ConfigError, DownloadError, MedusaError, ToolError, UserError } from "../errors.js";
import { backoffDelay } from "../lib/backoff.js";

export type RetryDecision =
  | { retry: true; delayMs: number; why: "flood_wait" | "transient" | "disk" }
  | { retry: false; why: "cancelled" | "permanent" | "attempts" };

export interface RetryPolicy {
  /** Attempts a job gets in all, the first included. @default 5 */
  maxAttempts: number;
  /** First backoff; doubles per attempt. @default 5000 */
  baseMs: number;
  /** @default 300000 (5 min) */
  maxMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseMs: 5_000, maxMs: 300_000 };

/** Waiting for disk to free up is slower than a network blip. */
const DISK_RETRY_MS = 10 * 60_000;
/** A FLOOD_WAIT longer than this is not waited out by a job: it fails and says so. */
const MAX_FLOOD_WAIT_S = 6 * 3600;

/** Failures that another attempt cannot fix: the link, the content, the limits, the user. */
const PERMANENT_CODES = new Set([
  "URL_INVALID",
  "URL_SCHEME_NOT_ALLOWED",
  "URL_PRIVATE_ADDRESS",
  "DNS_NOT_FOUND",
  "TLS_ERROR",
  "TOO_MANY_REDIRECTS",
  "HTTP_IS_WEB_PAGE",
  "FILE_TOO_LARGE",
  "DRM_PROTECTED",
  "UNSUPPORTED_URL",
  "VIDEO_UNAVAILABLE",
  "LOGIN_REQUIRED",
  "GEO_BLOCKED",
  "NOT_FOUND",
  "FORBIDDEN",
  "LIVE_NOT_SUPPORTED",
  "PLAYLIST_NOT_SUPPORTED",
  "TOO_LARGE",
  "NO_AUDIO",
  "SPLIT_TOO_MANY_PARTS",
  "SPLIT_NO_KEYFRAMES",
  "THUMBNAIL_INVALID",
  "TOOL_NOT_FOUND",
  "CHAT_UNKNOWN",
  "CHAT_NOT_FOUND",
  "CHAT_WRITE_FORBIDDEN",
  "USER_IS_BLOCKED",
  "PEER_ID_INVALID",
  "FILE_PARTS_INVALID",
]);

/** HTTP statuses worth another try: timeouts, rate limits and server errors. */
function retryableHttp(code: string): boolean | undefined {
  const match = /^HTTP_(\d{3})$/.exec(code);
  if (!match) return undefined;
  const status = Number(match[1]);
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/** `attempt` is the attempt that just failed, counting from 1. */
export function retryDecision(
  error: unknown,
  attempt: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): RetryDecision {
  if (error instanceof CancelledError) return { retry: false, why: "cancelled" };
  if (error instanceof UserError || error instanceof ConfigError) return { retry: false, why: "permanent" };
  const code = error instanceof MedusaError ? error.code : undefined;
  if (code !== undefined && PERMANENT_CODES.has(code)) return { retry: false, why: "permanent" };
  if (code !== undefined && retryableHttp(code) === false) return { retry: false, why: "permanent" };
  if (error instanceof ToolError && code !== "TOOL_TIMEOUT" && !code?.startsWith("YTDLP_")) {
    return { retry: false, why: "permanent" }; // ffmpeg refusing a file refuses it again
  }
  if (attempt >= policy.maxAttempts) return { retry: false, why: "attempts" };
  const waitS = error instanceof MedusaError ? error.retryAfterSeconds : undefined;
  if (waitS !== undefined) {
    if (waitS > MAX_FLOOD_WAIT_S) return { retry: false, why: "permanent" };
    return { retry: true, delayMs: waitS * 1000 + 1000, why: "flood_wait" };
  }
  if (error instanceof DownloadError && (code === "DISK_FULL" || code === "DISK_FLOOR_REACHED")) {
    return { retry: true, delayMs: DISK_RETRY_MS, why: "disk" };
  }
  return {
    retry: true,
    delayMs: backoffDelay(attempt, { baseMs: policy.baseMs, maxMs: policy.maxMs, jitter: 0.25 }),
    why: "transient",
  };
}
