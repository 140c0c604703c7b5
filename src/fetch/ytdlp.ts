/**
 * The yt-dlp engine: probe a page (`-J`), refuse what Medusa does not download (DRM, live, too large) before any
 * media byte moves, choose a format that fits, download it with machine-readable progress and hand back one file.
 *
 * yt-dlp writes into a private staging folder inside the job's directory under an id-based name; only a finished
 * file leaves it (renamed to a sanitised title). Failure or cancel removes the folder, so no partial file survives.
 */
import { randomUUID } from "node:crypto";
import {
  access,
  chmod,
  copyFile,
  link,
  mkdir,
  mkdtemp,
  readdir,
  rename,
  rm,
  stat,
  unlink,
} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { CancelledError, DownloadError, isCancelled, ToolError } from "../errors.js";
import { runTool } from "../media/run-tool.js";
import { chooseFormat, type FormatChoice, type YtdlpFormat } from "./formats.js";
import type { FetchedFile, ProgressCallback, Quality, TransferProgress } from "./types.js";
import { classifyYtdlpError, ytdlpDownloadError, ytdlpErrorLines } from "./ytdlp-errors.js";
import { MAX_NAME_ATTEMPTS, safeFileName } from "./ytdlp-name.js";

export interface YtdlpProbeOptions {
  ytdlpPath: string;
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
/** Reading a page should take seconds; a download gets the rest of the caller's budget. */
const PROBE_TIMEOUT_MS = 2 * 60 * 1000;
/** yt-dlp's own per-request network timeout, so a stalled site fails well before our overall timeout. */
const SOCKET_TIMEOUT_S = 30;
const RETRIES = 3;
/** The transfer-progress contract: at most a few reports a second. */
const PROGRESS_INTERVAL_MS = 250;
const PROGRESS_PREFIX = "medusa-progress ";
/** `j` makes each field JSON; a missing one prints as "NA". One line per update thanks to --newline. */
const PROGRESS_TEMPLATE =
  `download:${PROGRESS_PREFIX}{"status":%(progress.status)j,"downloaded":%(progress.downloaded_bytes)j,` +
  `"total":%(progress.total_bytes)j,"estimate":%(progress.total_bytes_estimate)j,"speed":%(progress.speed)j}`;
/** id-based: never a title in a path yt-dlp builds; `.80B` caps its bytes. */
const OUTPUT_TEMPLATE = "%(id).80B.%(ext)s";
/** Suffixes of yt-dlp's temporary files, which are never the result. */
const TEMP_FILE = /\.(?:part|ytdl|temp|tmp)$|\.part-Frag\d+/;

/** link() errors of file systems that have no hard links (FAT, some network and overlay mounts). */
const NO_HARD_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV"]);

const MIME_TYPES: Record<string, string> = {
  mp4: "video/mp4",
  m4v: "video/mp4",
  mkv: "video/x-matroska",
  webm: "video/webm",
  mov: "video/quicktime",
  flv: "video/x-flv",
  ts: "video/mp2t",
  m4a: "audio/mp4",
  mp3: "audio/mpeg",
  opus: "audio/ogg",
  ogg: "audio/ogg",
  flac: "audio/flac",
  wav: "audio/wav",
  aac: "audio/aac",
};

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
    ...commonArgs(),
    ...(opts.playlist ? ["--yes-playlist", "--flat-playlist"] : ["--no-playlist"]),
    "-J",
    "--",
    url,
  ];
  const { stdout } = await runYtdlp(opts.ytdlpPath, args, {
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

/**
 * What Medusa will download of `info`, or the DownloadError that refuses it. Pure; runs before any media byte.
 * DRM is refused outright when it leaves nothing else: Medusa never circumvents DRM.
 */
export function planDownload(
  info: YtdlpInfo,
  options: { maxSize: number; quality?: Quality | undefined },
): FormatChoice {
  if (info.entries)
    throw ytdlpDownloadError("PLAYLIST_NOT_SUPPORTED", `playlist with ${info.entries.length} entries`);
  if (info.isLive) throw ytdlpDownloadError("LIVE_NOT_SUPPORTED", "the probe reports a live stream");
  const usable = info.formats.filter((f) => !f.has_drm);
  if (info.hasDrm && usable.length === 0) throw ytdlpDownloadError("DRM_PROTECTED", "every format has DRM");
  if (info.formats.length === 0) {
    // Some extractors give a single URL without a format list: let yt-dlp pick, the download enforces the limit.
    return {
      formatId: options.quality === "audio" ? "bestaudio/best" : "best",
      estimatedSize: undefined,
      audioOnly: options.quality === "audio",
      height: undefined,
      mergeFormat: undefined,
    };
  }
  const choice = chooseFormat(usable, {
    maxSize: options.maxSize,
    quality: options.quality,
    duration: info.duration,
  });
  if ("reason" in choice) {
    if (choice.reason === "too-large") {
      throw ytdlpDownloadError(
        "TOO_LARGE",
        `smallest version ${choice.smallest} bytes > limit ${options.maxSize} bytes`,
      );
    }
    throw ytdlpDownloadError("UNSUPPORTED_URL", "no downloadable format");
  }
  return choice;
}

export async function ytdlpDownload(
  url: string,
  opts: {
    dir: string;
    ytdlpPath: string;
    cookiesFile?: string;
    maxSize: number;
    quality?: Quality;
    timeoutMs: number;
    signal?: AbortSignal;
    onProgress?: ProgressCallback;
    name?: string;
    ffmpegPath?: string;
  },
): Promise<FetchedFile> {
  if (!(Number.isSafeInteger(opts.maxSize) && opts.maxSize > 0)) {
    throw new TypeError(`Expected maxSize to be a positive whole number of bytes, got ${opts.maxSize}`);
  }
  const deadline = Date.now() + opts.timeoutMs;
  const remaining = () => Math.max(1, deadline - Date.now());
  if (opts.signal?.aborted) throw new CancelledError("Download cancelled", { cause: opts.signal.reason });

  const info = await ytdlpProbe(url, {
    ytdlpPath: opts.ytdlpPath,
    cookiesFile: opts.cookiesFile,
    timeoutMs: Math.min(PROBE_TIMEOUT_MS, remaining()),
    signal: opts.signal,
  });
  const choice = planDownload(info, { maxSize: opts.maxSize, quality: opts.quality });

  const staging = path.join(opts.dir, `.ytdlp-${randomUUID().slice(0, 8)}`);
  await mkdir(staging, { recursive: true });
  try {
    await runDownload(url, staging, choice, { ...opts, timeoutMs: remaining() });
    const produced = await findOutput(staging);
    if (produced.size > opts.maxSize) {
      throw ytdlpDownloadError(
        "TOO_LARGE",
        `download is ${produced.size} bytes > limit ${opts.maxSize} bytes`,
      );
    }
    const ext = path.extname(produced.path).slice(1).toLowerCase();
    const finalPath = await moveOut(produced.path, opts.dir, opts.name ?? info.title ?? info.id, ext);
    return {
      path: finalPath,
      name: path.basename(finalPath),
      size: produced.size,
      mimeType: MIME_TYPES[ext],
      engine: "ytdlp",
      title: info.title,
    };
  } finally {
    await rm(staging, { recursive: true, force: true, maxRetries: 3 });
  }
}

async function runDownload(
  url: string,
  staging: string,
  choice: FormatChoice,
  opts: Parameters<typeof ytdlpDownload>[1],
): Promise<void> {
  const args = [
    ...commonArgs(),
    "--no-playlist",
    "--no-mtime",
    "--newline",
    "--progress-template",
    PROGRESS_TEMPLATE,
    "--max-filesize",
    String(opts.maxSize),
    "-f",
    choice.formatId,
    ...(choice.audioOnly ? ["-x"] : ["--merge-output-format", choice.mergeFormat ?? "mp4/mkv"]),
    // A bare name ("ffmpeg") is found on PATH by yt-dlp itself; --ffmpeg-location wants a path.
    ...(opts.ffmpegPath?.includes(path.sep) ? ["--ffmpeg-location", opts.ffmpegPath] : []),
    "-P",
    staging,
    "-o",
    OUTPUT_TEMPLATE,
    "--",
    url,
  ];

  // Our own stop for "too large": sizes yt-dlp cannot know in advance (HLS, no Content-Length).
  const sizeStop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, sizeStop.signal]) : sizeStop.signal;
  const progress = progressTracker(opts.maxSize, choice.estimatedSize, opts.onProgress, () =>
    sizeStop.abort(),
  );
  let refusedForSize = false;
  try {
    await runYtdlp(opts.ytdlpPath, args, {
      cookiesFile: opts.cookiesFile,
      timeoutMs: opts.timeoutMs,
      signal,
      onStdoutLine: (line) => {
        if (line.startsWith(PROGRESS_PREFIX)) progress.line(line);
        else if (/larger than max-filesize/i.test(line)) refusedForSize = true;
      },
    });
  } catch (error) {
    if (sizeStop.signal.aborted && !opts.signal?.aborted) {
      throw ytdlpDownloadError("TOO_LARGE", `stopped past ${opts.maxSize} bytes`, error);
    }
    throw error;
  }
  if (refusedForSize)
    throw ytdlpDownloadError("TOO_LARGE", `yt-dlp refused: over --max-filesize ${opts.maxSize}`);
  progress.finish();
}

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
function progressTracker(
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

/** Flags every yt-dlp call gets: no user config or cache can change what runs; bounded network retries. */
function commonArgs(): string[] {
  return [
    "--ignore-config",
    "--no-cache-dir",
    "--no-colors",
    "--socket-timeout",
    String(SOCKET_TIMEOUT_S),
    "--retries",
    String(RETRIES),
    "--fragment-retries",
    String(RETRIES),
  ];
}

/**
 * runTool, with yt-dlp's known failures turned into DownloadErrors. yt-dlp writes its cookie jar back into the file
 * it read, so each run gets a private copy (mode 0600, removed after): parallel jobs never race on the operator's file.
 */
async function runYtdlp(
  ytdlpPath: string,
  args: string[],
  options: {
    cookiesFile: string | undefined;
    timeoutMs: number;
    signal: AbortSignal | undefined;
    maxStdoutChars?: number;
    onStdoutLine?: (line: string) => void;
  },
) {
  const cookiesDir = options.cookiesFile
    ? await mkdtemp(path.join(os.tmpdir(), "medusa-cookies-"))
    : undefined;
  try {
    let cookieArgs: string[] = [];
    if (options.cookiesFile && cookiesDir) {
      const copy = path.join(cookiesDir, "cookies.txt");
      await copyFile(options.cookiesFile, copy);
      await chmod(copy, 0o600);
      cookieArgs = ["--cookies", copy];
    }
    return await runTool(ytdlpPath, [...cookieArgs, ...args], {
      tool: "yt-dlp",
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      ...(options.maxStdoutChars ? { maxStdoutChars: options.maxStdoutChars } : {}),
      ...(options.onStdoutLine ? { onStdoutLine: options.onStdoutLine } : {}),
      env: { PYTHONIOENCODING: "utf-8" },
    });
  } catch (error) {
    if (isCancelled(error) || !(error instanceof ToolError)) throw error;
    if (error.code === "TOOL_TIMEOUT") throw ytdlpDownloadError("TIMEOUT", error.message, error);
    const code = classifyYtdlpError(error.stderrTail);
    if (code) {
      const detail = ytdlpErrorLines(error.stderrTail).at(-1) ?? "";
      throw ytdlpDownloadError(code, `${detail}\n${error.stderrTail}`, error);
    }
    throw error;
  } finally {
    if (cookiesDir) await rm(cookiesDir, { recursive: true, force: true });
  }
}

async function findOutput(staging: string): Promise<{ path: string; size: number }> {
  let best: { path: string; size: number } | undefined;
  for (const entry of await readdir(staging, { withFileTypes: true })) {
    if (!entry.isFile() || TEMP_FILE.test(entry.name)) continue;
    const file = path.join(staging, entry.name);
    const { size } = await stat(file);
    if (!best || size > best.size) best = { path: file, size };
  }
  if (!best) {
    throw new ToolError("YTDLP_NO_OUTPUT", "yt-dlp", "yt-dlp finished without producing a file", {
      userMessage: "The download finished without a file. The operator has the details.",
    });
  }
  return best;
}

/** Moves the file into `dir` under a title-based name; link() fails on an existing name, so nothing is overwritten. */
async function moveOut(file: string, dir: string, title: string, ext: string): Promise<string> {
  for (let attempt = 1; attempt <= MAX_NAME_ATTEMPTS; attempt++) {
    const target = path.join(dir, safeFileName(title, ext, attempt === 1 ? "" : ` (${attempt})`));
    try {
      await link(file, target);
      await unlink(file);
      return target;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EEXIST") continue;
      if (!NO_HARD_LINKS.has(code ?? "")) throw error;
      // A file system without hard links: check, then rename (the job's folder has no other writer).
      if (await exists(target)) continue;
      await rename(file, target);
      return target;
    }
  }
  throw new DownloadError("NAME_TAKEN", `no free name for ${title} in ${dir}`);
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

function assertHttpUrl(url: string): void {
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
