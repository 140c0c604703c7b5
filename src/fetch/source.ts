/**
 * One link, one engine: a direct file goes to the HTTP engine, a web page or a stream manifest (HLS .m3u8, DASH
 * .mpd) to yt-dlp. The URL guard runs first, whichever engine follows. The HTTP engine's first request doubles as
 * the probe: a page or manifest answer is dropped before anything is written and the link goes to yt-dlp.
 */
import { DownloadError, UserError } from "../errors.js";
import type { Quality } from "../lib/quality.js";
import { checkUrl, parseHttpUrl } from "./guard/url-guard.js";
import { downloadHttp, type HttpDownloadOptions } from "./http/download.js";
import type { FetchedFile } from "./types.js";
import { ytdlpDownload } from "./ytdlp/download.js";

export interface SourceOptions extends HttpDownloadOptions {
  ytdlpPath: string;
  cookiesFile?: string | undefined;
  quality?: Quality | undefined;
  /** Bound on the whole yt-dlp run. */
  timeoutMs: number;
  ffmpegPath?: string | undefined;
  /** False when the owner turned site downloads off (/features): a web page is refused, not given to yt-dlp. @default true */
  ytdlp?: boolean | undefined;
  /** The site's subtitles (yt-dlp links only; a direct file has none to give). */
  subtitles?: "embed" | "file" | undefined;
}

/** Paths that name a file; a web page behind one is an error page, not something for yt-dlp. */
const FILE_EXTENSION =
  /\.(mp4|m4v|mkv|webm|mov|avi|wmv|flv|ts|3gp|mp3|m4a|aac|ogg|opus|flac|wav|zip|rar|7z|gz|tgz|tar|xz|bz2|iso|apk|exe|msi|dmg|deb|rpm|pdf|epub|djvu|jpg|jpeg|png|gif|webp|bin|img)$/i;

export function looksLikeFile(url: URL): boolean {
  return FILE_EXTENSION.test(url.pathname);
}

export async function fetchSource(rawUrl: string, options: SourceOptions): Promise<FetchedFile> {
  const url = parseHttpUrl(rawUrl);
  await checkUrl(url, options.guard);
  try {
    return await downloadHttp(url.href, { ...options, rejectHtml: true });
  } catch (error) {
    if (!(error instanceof DownloadError && error.code === "HTTP_IS_WEB_PAGE")) throw error;
    if (looksLikeFile(url)) {
      throw new DownloadError("HTTP_IS_WEB_PAGE", error.message, {
        cause: error,
        userMessage: "The link names a file, but the server sent a web page instead.",
        key: "err.HTTP_WEB_PAGE_INSTEAD",
        hint: "The link may have expired; copy it again.",
      });
    }
  }
  if (options.ytdlp === false) {
    throw new UserError("YTDLP_DISABLED", "the link is a web page and yt-dlp is turned off", {
      userMessage: "This link is a web page, and downloads from sites are turned off on this bot.",
      hint: "Send a direct link to a file instead.",
    });
  }
  return ytdlpDownload(url.href, {
    dir: options.dir,
    ytdlpPath: options.ytdlpPath,
    guard: options.guard,
    cookiesFile: options.cookiesFile,
    maxSize: options.maxSize,
    quality: options.quality,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    onProgress: options.onProgress,
    name: options.name,
    ffmpegPath: options.ffmpegPath,
    ...(options.keepPartial ? { keepPartial: true } : {}),
    ...(options.subtitles ? { subtitles: options.subtitles } : {}),
  });
}
