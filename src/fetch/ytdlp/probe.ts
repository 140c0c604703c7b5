/**
 * Reading a page with `yt-dlp -J`: what it is (title, duration, live, playlist), its formats and whether DRM is
 * involved, before any media byte moves.
 */
import { z } from "zod";
import { ToolError } from "../../errors.js";
import type { GuardOptions } from "../guard/url-guard.js";
import { ytdlpDownloadError } from "./errors.js";
import type { YtdlpFormat } from "./formats.js";
import { runYtdlp } from "./run.js";

export interface YtdlpProbeOptions {
  ytdlpPath: string;
  /** The SSRF guard for every request yt-dlp makes. */
  guard: GuardOptions;
  cookiesFile?: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** List a playlist's entries (flat) instead of reading only the one video. @default false */
  playlist?: boolean;
}

export interface YtdlpInfo {
  id: string;
  title: string | undefined;
  /** Seconds. */
  duration: number | undefined;
  isLive: boolean;
  /** yt-dlp saw DRM on some format; those formats are already left out of `formats`. */
  hasDrm: boolean;
  formats: YtdlpFormat[];
  extractor: string | undefined;
  /** Set when the URL is a playlist: its entries' URLs (flat, with `playlist: true`). */
  entries: string[] | undefined;
}

/** `-J` of one video is small, of a big playlist a few MB; past this something is wrong. */
const MAX_PROBE_JSON_CHARS = 32 * 1024 * 1024;

const formatSchema = z.object({
  format_id: z.coerce.string(),
  ext: z.string().nullish(),
  protocol: z.string().nullish(),
  vcodec: z.string().nullish(),
  acodec: z.string().nullish(),
  width: z.number().nullish(),
  height: z.number().nullish(),
  filesize: z.number().nullish(),
  filesize_approx: z.number().nullish(),
  tbr: z.number().nullish(),
  abr: z.number().nullish(),
  vbr: z.number().nullish(),
  // A bool, "maybe", or in some versions the text of a regex match: anything truthy means DRM.
  has_drm: z.unknown().optional(),
});

const infoSchema = z.object({
  _type: z.string().nullish(),
  id: z.coerce.string().default("video"),
  title: z.string().nullish(),
  duration: z.number().nullish(),
  is_live: z.boolean().nullish(),
  live_status: z.string().nullish(),
  _has_drm: z.unknown().optional(),
  extractor: z.string().nullish(),
  format_id: z.coerce.string().nullish(),
  formats: z.array(z.unknown()).nullish(),
  entries: z
    .array(z.object({ url: z.string().nullish(), webpage_url: z.string().nullish() }).loose())
    .nullish(),
});

/** Reads what yt-dlp knows about `url` without downloading media. DownloadError for the known refusals. */
export async function ytdlpProbe(url: string, opts: YtdlpProbeOptions): Promise<YtdlpInfo> {
  assertHttpUrl(url);
  const args = [
    ...(opts.playlist ? ["--yes-playlist", "--flat-playlist"] : ["--no-playlist"]),
    "-J",
    "--",
    url,
  ];
  const { stdout } = await runYtdlp(opts.ytdlpPath, args, {
    guard: opts.guard,
    cookiesFile: opts.cookiesFile,
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
    maxStdoutChars: MAX_PROBE_JSON_CHARS,
  });
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch (error) {
    throw new ToolError("YTDLP_BAD_JSON", "yt-dlp", "yt-dlp -J printed no valid JSON", { cause: error });
  }
  return parseInfo(json);
}

/** The probe JSON in our terms; exported for tests on fixtures. */
export function parseInfo(json: unknown): YtdlpInfo {
  const info = infoSchema.parse(json);
  const formats: YtdlpFormat[] = [];
  for (const raw of info.formats ?? []) {
    const parsed = formatSchema.safeParse(raw);
    if (parsed.success) formats.push({ ...parsed.data, has_drm: Boolean(parsed.data.has_drm) });
  }
  const isPlaylist = info._type === "playlist" || info._type === "multi_video";
  return {
    id: info.id,
    title: info.title ?? undefined,
    duration: info.duration ?? undefined,
    isLive: info.is_live === true || info.live_status === "is_live" || info.live_status === "is_upcoming",
    hasDrm: Boolean(info._has_drm) || formats.some((f) => f.has_drm),
    formats,
    extractor: info.extractor ?? undefined,
    entries: isPlaylist
      ? // Flat entries carry the entry's page in `url`; some extractors give only `webpage_url`.
        (info.entries ?? []).map((e) => e.url ?? e.webpage_url ?? "").filter((u) => u !== "")
      : undefined,
  };
}

export function assertHttpUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw ytdlpDownloadError("UNSUPPORTED_URL", `not a URL: ${url.slice(0, 200)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw ytdlpDownloadError("UNSUPPORTED_URL", `scheme ${parsed.protocol} is not http(s)`);
  }
}
