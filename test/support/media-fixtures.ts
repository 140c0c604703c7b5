/**
 * Test media made at test time with ffmpeg's lavfi sources (never committed), and a small HTTP server on 127.0.0.1
 * that serves a folder with Range support, so yt-dlp and ffmpeg run for real without the internet.
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export const FFMPEG = "ffmpeg";
export const FFPROBE = "ffprobe";
export const YTDLP = "/usr/bin/yt-dlp";
/** Making a clip of a few seconds takes well under a second; this only stops a wedged ffmpeg. */
const FIXTURE_TIMEOUT_MS = 60_000;

export interface TempDir {
  path: string;
  remove(): Promise<void>;
}

export async function makeTempDir(prefix = "medusa-test-"): Promise<TempDir> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { path: dir, remove: () => rm(dir, { recursive: true, force: true, maxRetries: 3 }) };
}

export async function ffmpeg(args: string[]): Promise<void> {
  await execFileAsync(FFMPEG, ["-hide_banner", "-loglevel", "error", "-y", ...args], {
    timeout: FIXTURE_TIMEOUT_MS,
  });
}

export interface ClipOptions {
  seconds?: number;
  width?: number;
  height?: number;
  fps?: number;
  /** A sine tone as AAC. @default true */
  audio?: boolean;
  /** Put the index (moov) first. @default false, which is what ffmpeg's mp4 muxer does by itself */
  faststart?: boolean;
  /** Keyframe every this many frames. @default fps (one a second) */
  gop?: number;
  /** Bitrate of the video; higher makes bigger files for split tests. @default x264's CRF default */
  videoBitrate?: string;
  /** Display rotation in degrees, written as the display matrix side data (as phones do). */
  rotate?: 90 | 180 | 270;
}

/** An H.264/AAC mp4 of testsrc + sine; small and short by default. */
export async function makeClip(file: string, options: ClipOptions = {}): Promise<string> {
  const seconds = options.seconds ?? 3;
  const fps = options.fps ?? 15;
  const size = `${options.width ?? 160}x${options.height ?? 120}`;
  const args = ["-f", "lavfi", "-i", `testsrc=size=${size}:rate=${fps}:duration=${seconds}`];
  if (options.audio !== false)
    args.push("-f", "lavfi", "-i", `sine=frequency=440:sample_rate=22050:duration=${seconds}`);
  args.push(
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-pix_fmt",
    "yuv420p",
    "-g",
    String(options.gop ?? fps),
  );
  if (options.videoBitrate)
    args.push("-b:v", options.videoBitrate, "-maxrate", options.videoBitrate, "-bufsize", "1M");
  if (options.audio !== false) args.push("-c:a", "aac", "-b:a", "48k");
  if (options.faststart) args.push("-movflags", "+faststart");
  if (!options.rotate) {
    await ffmpeg([...args, "-shortest", file]);
    return file;
  }
  // ffmpeg 5.1's mp4 muxer turns a "rotate" tag into the display matrix, as phones write it.
  const plain = `${file}.plain.mp4`;
  await ffmpeg([...args, "-shortest", plain]);
  await ffmpeg(["-i", plain, "-c", "copy", "-metadata:s:v:0", `rotate=${options.rotate}`, file]);
  await rm(plain, { force: true });
  return file;
}

/** An audio-only file (sine) in the codec its extension implies: .m4a (AAC), .mp3, .ogg (Vorbis), .wav. */
export async function makeTone(file: string, seconds = 2): Promise<string> {
  await ffmpeg(["-f", "lavfi", "-i", `sine=frequency=660:sample_rate=22050:duration=${seconds}`, file]);
  return file;
}

/**
 * Noise-like bytes in a file, the same on every run (SHA-256 in counter mode): for byte splitting and "not media"
 * cases. Fixed content matters: ffprobe recognises about one random 4 KiB buffer in 300 as some format.
 */
export async function makeRandomFile(file: string, bytes: number): Promise<string> {
  const blocks: Buffer[] = [];
  for (let i = 0, total = 0; total < bytes; i++, total += 32) {
    blocks.push(createHash("sha256").update(`medusa-fixture-${i}`).digest());
  }
  await writeFile(file, Buffer.concat(blocks).subarray(0, bytes));
  return file;
}

/**
 * An HLS rendition of `clip` in `dir` (index.m3u8 + seg*.ts, one-second segments). With `aes`, segments are
 * AES-128 encrypted with a key served beside them as `enc.key` (ordinary HLS encryption, not DRM).
 */
export async function makeHls(clip: string, dir: string, options: { aes?: boolean } = {}): Promise<string> {
  const args = ["-i", clip, "-c", "copy", "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod"];
  if (options.aes) {
    const key = path.join(dir, "enc.key");
    await writeFile(key, randomBytes(16));
    const info = path.join(dir, "key-info.txt");
    // Line 1: the key's URI as written into the playlist (relative: resolved against the playlist's URL).
    await writeFile(info, `enc.key\n${key}\n${randomBytes(16).toString("hex")}\n`);
    args.push("-hls_key_info_file", info);
  }
  args.push("-hls_segment_filename", path.join(dir, "seg%03d.ts"), path.join(dir, "index.m3u8"));
  await ffmpeg(args);
  return path.join(dir, "index.m3u8");
}

/**
 * A master playlist with video and audio as separate renditions (as big sites serve them): yt-dlp downloads both
 * and merges them with ffmpeg. Writes `dir/v/`, `dir/a/` and `dir/master.m3u8`.
 */
export async function makeSeparateHls(clip: string, dir: string): Promise<string> {
  for (const [sub, map] of [
    ["v", "0:v"],
    ["a", "0:a"],
  ] as const) {
    await mkdir(path.join(dir, sub), { recursive: true });
    await ffmpeg([
      ...["-i", clip, "-map", map, "-c", "copy", "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod"],
      ...["-hls_segment_filename", path.join(dir, sub, "s%03d.ts"), path.join(dir, sub, "index.m3u8")],
    ]);
  }
  const master = [
    "#EXTM3U",
    '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",DEFAULT=YES,AUTOSELECT=YES,URI="a/index.m3u8"',
    '#EXT-X-STREAM-INF:BANDWIDTH=150000,RESOLUTION=160x120,CODECS="avc1.42c00d,mp4a.40.2",AUDIO="aud"',
    "v/index.m3u8",
    "",
  ];
  await writeFile(path.join(dir, "master.m3u8"), master.join("\n"));
  return path.join(dir, "master.m3u8");
}

/** A media playlist whose key is FairPlay (skd://): yt-dlp flags it as DRM. The segment is plain; no key exists. */
export async function makeDrmPlaylist(file: string, segment: string): Promise<string> {
  const lines = [
    "#EXTM3U",
    "#EXT-X-VERSION:5",
    "#EXT-X-TARGETDURATION:1",
    "#EXT-X-PLAYLIST-TYPE:VOD",
    '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://medusa-test-key",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"',
    "#EXTINF:1.0,",
    segment,
    "#EXT-X-ENDLIST",
    "",
  ];
  await writeFile(file, lines.join("\n"));
  return file;
}

const CONTENT_TYPES: Record<string, string> = {
  ".mp4": "video/mp4",
  ".m3u8": "application/vnd.apple.mpegurl",
  ".ts": "video/mp2t",
  ".key": "application/octet-stream",
  ".html": "text/html; charset=utf-8",
};

/** Requests under this path get no answer at all: for timeout tests. */
export const HANG_PREFIX = "/hang/";

export interface FileServer {
  /** http://127.0.0.1:PORT */
  origin: string;
  /** Paths requested so far, in order. */
  requests: string[];
  /** The Range header of each request (undefined without one), in the same order. */
  ranges: Array<string | undefined>;
  /** Cookie headers received, in order. */
  cookies: string[];
  close(): Promise<void>;
}

/**
 * Serves files under `root` on 127.0.0.1 with single-range support. `bytesPerSecond` slows every response down
 * (for cancel tests); `redirects` answers a path with a 302 to anywhere (for SSRF tests); paths outside `root` and
 * missing files are 404; paths under HANG_PREFIX never get an answer.
 */
export async function serveDirectory(
  root: string,
  options: { bytesPerSecond?: number; redirects?: Record<string, string> } = {},
): Promise<FileServer> {
  const requests: string[] = [];
  const ranges: Array<string | undefined> = [];
  const cookies: string[] = [];
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    requests.push(urlPath);
    ranges.push(req.headers.range);
    if (req.headers.cookie) cookies.push(req.headers.cookie);
    if (urlPath.startsWith(HANG_PREFIX)) return; // never answered; close() ends the connection
    const location = options.redirects?.[urlPath];
    if (location) return void res.writeHead(302, { location }).end();
    const file = path.join(root, urlPath);
    if (!file.startsWith(root + path.sep)) return notFound(res);
    stat(file).then(
      (info) => {
        if (!info.isFile()) return notFound(res);
        let start = 0;
        let end = info.size - 1;
        const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
        if (range && (range[1] || range[2])) {
          start = range[1] ? Number(range[1]) : Math.max(0, info.size - Number(range[2]));
          end = range[1] && range[2] ? Math.min(end, Number(range[2])) : end;
          if (start > end) {
            res.writeHead(416, { "content-range": `bytes */${info.size}` }).end();
            return;
          }
          res.statusCode = 206;
          res.setHeader("content-range", `bytes ${start}-${end}/${info.size}`);
        }
        res.setHeader("accept-ranges", "bytes");
        res.setHeader("content-length", String(end - start + 1));
        res.setHeader("content-type", CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream");
        if (req.method === "HEAD") return void res.end();
        const stream = createReadStream(file, { start, end, highWaterMark: 16 * 1024 });
        if (options.bytesPerSecond) throttle(stream, res, options.bytesPerSecond);
        else stream.pipe(res);
        res.on("close", () => stream.destroy());
      },
      () => notFound(res),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    ranges,
    cookies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function notFound(res: http.ServerResponse): void {
  res.writeHead(404, { "content-type": "text/plain" }).end("not found");
}

/** Writes one chunk, then waits as long as that chunk takes at the given rate. */
function throttle(stream: NodeJS.ReadableStream, res: http.ServerResponse, bytesPerSecond: number): void {
  stream.on("data", (chunk: Buffer) => {
    stream.pause();
    res.write(chunk);
    setTimeout(() => stream.resume(), (chunk.length / bytesPerSecond) * 1000);
  });
  stream.on("end", () => res.end());
}
