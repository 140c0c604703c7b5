/**
 * One yt-dlp process: the flags every run gets, a private cookie jar, and the guard proxy every request of the run
 * goes through. Failures come back as DownloadErrors where we know them (ytdlp-errors), else as ToolErrors.
 */
import { chmod, copyFile, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { isCancelled, ToolError } from "../../errors.js";
import { runTool } from "../../lib/run-tool.js";
import { type GuardProxy, startGuardProxy } from "../guard/proxy.js";
import type { GuardOptions } from "../guard/url-guard.js";
import {
  classifyYtdlpError,
  guardDownloadError,
  guardRefusalIn,
  ytdlpDownloadError,
  ytdlpErrorLines,
} from "./errors.js";

export interface YtdlpRunOptions {
  /** The SSRF guard, applied by the proxy to every request yt-dlp (and an ffmpeg it starts) makes. */
  guard: GuardOptions;
  cookiesFile: string | undefined;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  maxStdoutChars?: number;
  onStdoutLine?: (line: string) => void;
}

/** yt-dlp's own per-request network timeout, so a stalled site fails well before our overall timeout. */
export const SOCKET_TIMEOUT_S = 30;
const RETRIES = 3;

/**
 * Proxy variables yt-dlp or its ffmpeg could read. `--proxy` already wins over the *_proxy ones, but urllib still
 * honours no_proxy (a bypass list), so all are blanked: Python and ffmpeg both ignore an empty value.
 */
const PROXY_VARIABLES = [
  "http_proxy",
  "HTTP_PROXY",
  "https_proxy",
  "HTTPS_PROXY",
  "all_proxy",
  "ALL_PROXY",
  "no_proxy",
  "NO_PROXY",
];

/**
 * Runs yt-dlp with `args` behind a fresh guard proxy, closed when the run ends. yt-dlp writes its cookie jar back
 * into the file it read, so each run gets a private copy (mode 0600, removed after): parallel jobs never race on the
 * operator's file.
 */
export async function runYtdlp(ytdlpPath: string, args: readonly string[], options: YtdlpRunOptions) {
  const cookiesDir = options.cookiesFile
    ? await mkdtemp(path.join(os.tmpdir(), "medusa-cookies-"))
    : undefined;
  let proxy: GuardProxy | undefined;
  try {
    proxy = await startGuardProxy({ guard: options.guard });
    let cookieArgs: string[] = [];
    if (options.cookiesFile && cookiesDir) {
      const copy = path.join(cookiesDir, "cookies.txt");
      await copyFile(options.cookiesFile, copy);
      await chmod(copy, 0o600);
      cookieArgs = ["--cookies", copy];
    }
    return await runTool(ytdlpPath, [...commonArgs(proxy.url), ...cookieArgs, ...args], {
      tool: "yt-dlp",
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      ...(options.maxStdoutChars ? { maxStdoutChars: options.maxStdoutChars } : {}),
      ...(options.onStdoutLine ? { onStdoutLine: options.onStdoutLine } : {}),
      env: {
        PYTHONIOENCODING: "utf-8",
        ...Object.fromEntries(PROXY_VARIABLES.map((name) => [name, ""])),
      },
    });
  } catch (error) {
    if (isCancelled(error) || !(error instanceof ToolError)) throw error;
    if (error.code === "TOOL_TIMEOUT") throw ytdlpDownloadError("TIMEOUT", error.message, error);
    const detail = ytdlpErrorLines(error.stderrTail).at(-1) ?? "";
    // Before the other patterns: the proxy's refusal also reads as "HTTP Error 403".
    const refused = guardRefusalIn(error.stderrTail);
    if (refused) throw guardDownloadError(refused, `${detail}\n${error.stderrTail}`, error);
    const code = classifyYtdlpError(error.stderrTail);
    if (code) throw ytdlpDownloadError(code, `${detail}\n${error.stderrTail}`, error);
    throw error;
  } finally {
    await proxy?.close();
    if (cookiesDir) await rm(cookiesDir, { recursive: true, force: true });
  }
}

/**
 * Flags every yt-dlp call gets: no user config or cache can change what runs; bounded network retries; every
 * request through the guard proxy. yt-dlp hands the proxy to the ffmpeg it starts (as http_proxy), and the native
 * HLS downloader is preferred so playlists, keys and segments are fetched by yt-dlp itself.
 */
function commonArgs(proxyUrl: string): string[] {
  return [
    "--ignore-config",
    "--no-cache-dir",
    "--no-colors",
    "--proxy",
    proxyUrl,
    "--hls-prefer-native",
    "--socket-timeout",
    String(SOCKET_TIMEOUT_S),
    "--retries",
    String(RETRIES),
    "--fragment-retries",
    String(RETRIES),
    // A fragment the site (or the guard) refuses fails the download instead of leaving a hole in the video.
    "--abort-on-unavailable-fragment",
  ];
}
