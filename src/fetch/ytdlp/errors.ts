/**
 * Turns what yt-dlp says on failure (its `ERROR:` lines) into `DownloadError`s with plain replies. Anything we do
 * not recognise stays a `ToolError`: the operator needs its stderr, the user gets the generic reply.
 */
import { DownloadError } from "../../errors.js";
import { GUARD_REFUSAL_PREFIX } from "../guard/proxy.js";
import { GUARD_REPLIES, type GuardCode } from "../guard/url-guard.js";

export type YtdlpErrorCode =
  | "DRM_PROTECTED"
  | "UNSUPPORTED_URL"
  | "VIDEO_UNAVAILABLE"
  | "LOGIN_REQUIRED"
  | "GEO_BLOCKED"
  | "NOT_FOUND"
  | "FORBIDDEN"
  | "LIVE_NOT_SUPPORTED"
  | "PLAYLIST_NOT_SUPPORTED"
  | "TOO_LARGE"
  | "UNREACHABLE"
  | "TIMEOUT";

interface Reply {
  text: string;
  hint?: string;
}

export const YTDLP_REPLIES: Record<YtdlpErrorCode, Reply> = {
  DRM_PROTECTED: {
    text:
      "This video is protected by DRM (digital rights management). Medusa does not download DRM-protected " +
      "media and never tries to get around DRM.",
  },
  UNSUPPORTED_URL: {
    text: "Medusa cannot find a video at this link.",
    hint: "Send a link to a video page or to a media file.",
  },
  VIDEO_UNAVAILABLE: { text: "This video is private or has been removed." },
  LOGIN_REQUIRED: {
    text: "This video needs a signed-in account.",
    hint: "The operator can give Medusa the cookies of a signed-in account (YTDLP_COOKIES_FILE).",
  },
  GEO_BLOCKED: { text: "This video is not available in the country where Medusa runs." },
  NOT_FOUND: { text: "The site says this page does not exist (HTTP 404).", hint: "Check the link." },
  FORBIDDEN: { text: "The site refused access to this video (HTTP 403)." },
  LIVE_NOT_SUPPORTED: {
    text: "Live streams cannot be downloaded.",
    hint: "Send the link again once the stream has ended and the recording is published.",
  },
  PLAYLIST_NOT_SUPPORTED: { text: "This link is a playlist.", hint: "Send the link of one video." },
  TOO_LARGE: { text: "This video is larger than the size limit.", hint: "Try a lower quality." },
  UNREACHABLE: { text: "The site could not be reached.", hint: "Check the link, or try again later." },
  TIMEOUT: { text: "The site took too long to answer." },
};

/** Ordered: the first match wins, so the specific causes come before the broad "not available" ones. */
const PATTERNS: ReadonlyArray<readonly [YtdlpErrorCode, RegExp]> = [
  ["DRM_PROTECTED", /\bDRM\b/],
  [
    "GEO_BLOCKED",
    /geo[ -]?restrict|not available (?:from|in) your (?:location|country)|available in \S+ only/i,
  ],
  [
    "LOGIN_REQUIRED",
    /sign in to confirm|only available for registered users|login required|log ?in to|members[- ]only|--cookies|account (?:is )?required|age[- ]restricted/i,
  ],
  ["LIVE_NOT_SUPPORTED", /live event will begin|premieres in|is live now|this live stream/i],
  [
    "VIDEO_UNAVAILABLE",
    /private video|video unavailable|has been removed|was removed|has been deleted|no longer available|this video is (?:not|no longer) available|content is not available/i,
  ],
  ["NOT_FOUND", /HTTP Error 404/],
  ["FORBIDDEN", /HTTP Error 403/],
  ["UNSUPPORTED_URL", /Unsupported URL|is not a valid URL/],
  ["TOO_LARGE", /larger than max-filesize/i],
  [
    "UNREACHABLE",
    /Connection refused|No route to host|Network is unreachable|Name or service not known|Temporary failure in name resolution|getaddrinfo failed|nodename nor servname/i,
  ],
  ["TIMEOUT", /timed out|timeout/i],
];

/** yt-dlp's `ERROR:` lines from its stderr, last one last. */
export function ytdlpErrorLines(stderr: string): string[] {
  return stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.startsWith("ERROR:"));
}

/** The code for yt-dlp's failure, or undefined when it is none we know. */
export function classifyYtdlpError(stderr: string): YtdlpErrorCode | undefined {
  const lines = ytdlpErrorLines(stderr);
  if (lines.length === 0) return undefined;
  const text = lines.join("\n");
  for (const [code, pattern] of PATTERNS) if (pattern.test(text)) return code;
  return undefined;
}

/** A DownloadError with the plain reply for `code`; `detail` (yt-dlp's own words, the stderr tail) stays internal. */
export function ytdlpDownloadError(code: YtdlpErrorCode, detail: string, cause?: unknown): DownloadError {
  const reply = YTDLP_REPLIES[code];
  return new DownloadError(code, `yt-dlp: ${code}: ${detail}`, {
    cause,
    userMessage: reply.text,
    ...(reply.hint ? { hint: reply.hint } : {}),
    key: `err.YTDLP_${code}`,
  });
}

/** "Medusa guard: URL_PRIVATE_ADDRESS" in the status line yt-dlp quotes ("HTTP Error 403: …", "Tunnel … 403 …"). */
const GUARD_REFUSAL = new RegExp(`${GUARD_REFUSAL_PREFIX}([A-Z_]+)`);

/**
 * The guard code of a request the guard proxy refused, or undefined. Searches all of stderr, not only ERROR lines:
 * a refused HLS fragment shows in yt-dlp's retry warnings, and the final error only says the fragment is missing.
 */
export function guardRefusalIn(stderr: string): GuardCode | undefined {
  const code = GUARD_REFUSAL.exec(stderr)?.[1];
  return code !== undefined && code in GUARD_REPLIES ? (code as GuardCode) : undefined;
}

/** The DownloadError the HTTP engine's guard gives for `code`, for a request yt-dlp made. */
export function guardDownloadError(code: GuardCode, detail: string, cause?: unknown): DownloadError {
  return new DownloadError(code, `yt-dlp: refused by the URL guard: ${detail}`, {
    cause,
    userMessage: GUARD_REPLIES[code],
  });
}
