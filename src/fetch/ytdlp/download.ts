/**
 * The yt-dlp engine: probe a page (`-J`), refuse what Medusa does not download (DRM, live, too large) before any
 * media byte moves, choose a format that fits, download it with machine-readable progress and hand back one file.
 * Every request of either run goes through the guard proxy (ytdlp-run), so redirects and segments are checked too.
 *
 * yt-dlp writes into a private staging folder inside the job's directory under an id-based name; only a finished
 * file leaves it (renamed to a sanitised title). Failure or cancel removes the folder, so no partial file survives.
 */
import { randomUUID } from "node:crypto";
import { access, link, mkdir, readdir, rename, rm, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { DownloadError, ToolError } from "../../errors.js";
import { throwIfAborted } from "../../lib/abort.js";
import type { Quality } from "../../lib/quality.js";
import type { GuardOptions } from "../guard/url-guard.js";
import type { FetchedFile, ProgressCallback } from "../types.js";
import { ytdlpDownloadError } from "./errors.js";
import { chooseFormat, type FormatChoice } from "./formats.js";
import { MAX_NAME_ATTEMPTS, safeFileName } from "./name.js";
import { type YtdlpInfo, ytdlpProbe } from "./probe.js";
import { PROGRESS_PREFIX, PROGRESS_TEMPLATE, progressTracker } from "./progress.js";
import { runYtdlp } from "./run.js";

export { parseInfo, type YtdlpInfo, type YtdlpProbeOptions, ytdlpProbe } from "./probe.js";
export { parseProgressLine } from "./progress.js";

/** Reading a page should take seconds; a download gets the rest of the caller's budget. */
const PROBE_TIMEOUT_MS = 2 * 60 * 1000;
/** id-based: never a title in a path yt-dlp builds; `.80B` caps its bytes. */
const OUTPUT_TEMPLATE = "%(id).80B.%(ext)s";
/** The staging folder's stable name when an interrupted download is kept for yt-dlp's own `--continue`. */
export const YTDLP_PARTIAL_DIR = ".ytdlp-partial";
/** Failures after which the staged bytes are of no use to another attempt. */
const START_OVER = new Set(["TOO_LARGE"]);
/** Suffixes of yt-dlp's temporary files, which are never the result. */
const TEMP_FILE = /\.(?:part|ytdl|temp|tmp)$|\.part-Frag\d+/;
/** Subtitle files yt-dlp writes beside the video ("--write-subs"); never the result either. */
const SUBTITLE_FILE = /\.(?:srt|vtt|ass|ssa|ttml|srv[123]|json3)$/i;

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
    /** The SSRF guard for every request yt-dlp makes (redirects, playlists, segments, keys). */
    guard: GuardOptions;
    cookiesFile?: string;
    maxSize: number;
    quality?: Quality;
    timeoutMs: number;
    signal?: AbortSignal;
    onProgress?: ProgressCallback;
    name?: string;
    ffmpegPath?: string;
    /** Keep yt-dlp's .part files in `dir` after a failure or a stop, so that the next call continues them. */
    keepPartial?: boolean;
    /**
     * The site's subtitles (every language): embedded in the video, or as .srt files beside it in `dir`, named
     * "<video name without extension>.<language>.srt". A site without subtitles gives the video alone.
     */
    subtitles?: "embed" | "file" | undefined;
  },
): Promise<FetchedFile> {
  if (!(Number.isSafeInteger(opts.maxSize) && opts.maxSize > 0)) {
    throw new TypeError(`Expected maxSize to be a positive whole number of bytes, got ${opts.maxSize}`);
  }
  const deadline = Date.now() + opts.timeoutMs;
  const remaining = () => Math.max(1, deadline - Date.now());
  throwIfAborted(opts.signal, "Download");

  const info = await ytdlpProbe(url, {
    ytdlpPath: opts.ytdlpPath,
    guard: opts.guard,
    cookiesFile: opts.cookiesFile,
    timeoutMs: Math.min(PROBE_TIMEOUT_MS, remaining()),
    signal: opts.signal,
  });
  const choice = planDownload(info, { maxSize: opts.maxSize, quality: opts.quality });

  const staging = path.join(
    opts.dir,
    opts.keepPartial ? YTDLP_PARTIAL_DIR : `.ytdlp-${randomUUID().slice(0, 8)}`,
  );
  await mkdir(staging, { recursive: true });
  let keep = false;
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
    if (opts.subtitles === "file") await moveSubtitles(staging, produced.path, finalPath);
    return {
      path: finalPath,
      name: path.basename(finalPath),
      size: produced.size,
      mimeType: MIME_TYPES[ext],
      engine: "ytdlp",
      title: info.title,
    };
  } catch (error) {
    // yt-dlp continues its .part files itself (--continue is its default) when the folder is still there.
    keep = opts.keepPartial === true && !START_OVER.has((error as { code?: string }).code ?? "");
    throw error;
  } finally {
    if (!keep) await rm(staging, { recursive: true, force: true, maxRetries: 3 });
  }
}

async function runDownload(
  url: string,
  staging: string,
  choice: FormatChoice,
  opts: Parameters<typeof ytdlpDownload>[1],
): Promise<void> {
  const args = [
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
    ...(opts.subtitles ? ["--write-subs", "--sub-langs", "all,-live_chat"] : []),
    ...(opts.subtitles === "embed" && !choice.audioOnly ? ["--embed-subs"] : []),
    ...(opts.subtitles === "file" ? ["--convert-subs", "srt"] : []),
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
      guard: opts.guard,
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

async function findOutput(staging: string): Promise<{ path: string; size: number }> {
  let best: { path: string; size: number } | undefined;
  for (const entry of await readdir(staging, { withFileTypes: true })) {
    if (!entry.isFile() || TEMP_FILE.test(entry.name) || SUBTITLE_FILE.test(entry.name)) continue;
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

/** "<id>.<lang>.srt" of the staged video become "<final name>.<lang>.srt" beside the moved video. */
async function moveSubtitles(staging: string, staged: string, finalPath: string): Promise<void> {
  const stagedStem = path.basename(staged, path.extname(staged));
  const finalStem = path.join(path.dirname(finalPath), path.basename(finalPath, path.extname(finalPath)));
  for (const entry of await readdir(staging)) {
    if (!entry.startsWith(`${stagedStem}.`) || !/\.srt$/i.test(entry)) continue;
    const language = entry.slice(stagedStem.length + 1, -".srt".length).replace(/[^\w-]/g, "") || "sub";
    await rename(path.join(staging, entry), `${finalStem}.${language}.srt`);
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
