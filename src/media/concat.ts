/**
 * Several videos into one, in order. When every input has the same stream parameters that concatenation depends
 * on (codec, profile, codec private data, resolution, pixel format, time base; audio codec, sample rate, channel
 * layout) the concat demuxer joins them by stream copy: no quality lost, as fast as the disk. Otherwise the
 * concat filter re-encodes them to H.264/AAC in mp4 (what Telegram plays everywhere) at the first video's size.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { ToolError } from "../errors.js";
import { runTool } from "../lib/run-tool.js";
import type { MediaTools } from "./tools.js";

/** What two inputs must share to be joined by stream copy; `undefined` fields are absent streams. */
export interface ConcatParams {
  video: {
    codec: string;
    profile: string | undefined;
    width: number;
    height: number;
    pixFmt: string | undefined;
    timeBase: string | undefined;
    /** SHA-256 of the codec's private data (H.264's SPS/PPS): copied streams must share it. */
    extradata: string | undefined;
  };
  audio:
    | {
        codec: string;
        sampleRate: string | undefined;
        channelLayout: string | undefined;
        channels: number | undefined;
        timeBase: string | undefined;
      }
    | undefined;
}

export interface ConcatInput {
  path: string;
  params: ConcatParams;
  /** Seconds. */
  duration: number;
  /** Frames a second of the video as ffprobe writes it, e.g. "15/1" or "30000/1001". */
  fps: string | undefined;
}

/**
 * x264 "veryfast" at CRF 23: x264's default quality, at about a third of "medium"'s time for ~10% more bytes — the
 * trade a 2-core server wants when a whole playlist is re-encoded. AAC 128 kb/s stereo is transparent for speech
 * and music alike; 48 kHz is what most sources have.
 */
export const REENCODE = {
  preset: "veryfast",
  crf: "23",
  audioBitrate: "128k",
  sampleRate: 48_000,
} as const;
/** When the first video does not say its rate. */
const DEFAULT_FPS = "30/1";

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  extradata_hash?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  time_base?: string;
  sample_rate?: string;
  channel_layout?: string;
  channels?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  disposition?: { attached_pic?: number };
}

/** The concat-relevant parameters of a file; undefined when it has no video stream. */
export async function probeConcatInput(
  tools: MediaTools,
  file: string,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<ConcatInput | undefined> {
  const { stdout } = await runTool(
    tools.ffprobePath,
    [
      ...["-v", "error", "-show_data_hash", "SHA256", "-print_format", "json"],
      ...["-show_streams", "-show_format", "--", path.resolve(file)],
    ],
    { tool: "ffprobe", timeoutMs: tools.toolTimeoutMs, signal: options.signal },
  );
  let json: { streams?: ProbeStream[]; format?: { duration?: string } };
  try {
    json = JSON.parse(stdout) as typeof json;
  } catch (error) {
    throw new ToolError("FFPROBE_BAD_JSON", "ffprobe", `ffprobe printed no valid JSON for ${file}`, {
      cause: error,
    });
  }
  const streams = json.streams ?? [];
  const video = streams.find((s) => s.codec_type === "video" && s.disposition?.attached_pic !== 1);
  if (!video?.codec_name || !video.width || !video.height) return undefined;
  const audio = streams.find((s) => s.codec_type === "audio");
  const duration = Number(json.format?.duration);
  return {
    path: file,
    duration: Number.isFinite(duration) && duration > 0 ? duration : 0,
    fps: rate(video.avg_frame_rate) ?? rate(video.r_frame_rate),
    params: {
      video: {
        codec: video.codec_name,
        profile: video.profile,
        width: video.width,
        height: video.height,
        pixFmt: video.pix_fmt,
        timeBase: video.time_base,
        // Last: the other fields say better why two inputs differ.
        extradata: video.extradata_hash,
      },
      audio: audio?.codec_name
        ? {
            codec: audio.codec_name,
            sampleRate: audio.sample_rate,
            channelLayout: audio.channel_layout,
            channels: audio.channels,
            timeBase: audio.time_base,
          }
        : undefined,
    },
  };
}

/** True when every input may be joined by stream copy: the same parameters, stream by stream. */
export function canStreamCopy(inputs: readonly ConcatInput[]): boolean {
  const first = inputs[0];
  if (!first) return false;
  const key = JSON.stringify(first.params);
  return inputs.every((input) => JSON.stringify(input.params) === key);
}

/** The parameter that differs between the first input and another (for the log), or undefined. */
export function firstDifference(inputs: readonly ConcatInput[]): string | undefined {
  const [first, ...rest] = inputs;
  if (!first) return undefined;
  for (const [index, input] of rest.entries()) {
    for (const kind of ["video", "audio"] as const) {
      const a = first.params[kind] as Record<string, unknown> | undefined;
      const b = input.params[kind] as Record<string, unknown> | undefined;
      if (!a || !b) {
        if (a !== b) return `input ${index + 2}: ${kind} ${a ? "missing" : "present"}`;
        continue;
      }
      for (const field of Object.keys(a)) {
        if (a[field] !== b[field]) return `input ${index + 2}: ${kind} ${field} ${b[field]} ≠ ${a[field]}`;
      }
    }
  }
  return undefined;
}

export interface ConcatOptions {
  signal?: AbortSignal | undefined;
  /** Seconds of output written so far, of `total`. */
  onProgress?: (seconds: number, total: number) => void;
}

/** The concat demuxer with stream copy; `output` gets the inputs' container (mp4 gets its index first). */
export async function concatCopy(
  tools: MediaTools,
  inputs: readonly ConcatInput[],
  output: string,
  options: ConcatOptions = {},
): Promise<void> {
  const list = `${output}.list.txt`;
  // The demuxer's list syntax: one quoted path a line, a quote written as '\''.
  await writeFile(
    list,
    inputs.map((i) => `file '${path.resolve(i.path).replaceAll("'", "'\\''")}'\n`).join(""),
  );
  const mp4 = /\.(mp4|m4v|mov)$/i.test(output);
  await runFfmpeg(
    tools,
    [
      ...["-f", "concat", "-safe", "0", "-i", path.resolve(list)],
      ...["-map", "0:v:0", "-map", "0:a:0?", "-c", "copy"],
      ...(mp4 ? ["-movflags", "+faststart"] : []),
      path.resolve(output),
    ],
    totalSeconds(inputs),
    options,
  );
}

/**
 * The concat filter: each input scaled into the first video's frame (letterboxed, even sides), at its frame rate,
 * audio resampled to 48 kHz stereo (silence for an input without sound), encoded once as H.264/AAC mp4.
 */
export async function concatReencode(
  tools: MediaTools,
  inputs: readonly ConcatInput[],
  output: string,
  options: ConcatOptions = {},
): Promise<void> {
  const first = inputs[0];
  if (!first) throw new TypeError("Expected at least one input, got none");
  const width = even(first.params.video.width);
  const height = even(first.params.video.height);
  const fps = first.fps ?? DEFAULT_FPS;
  const withAudio = inputs.some((i) => i.params.audio);
  const filters: string[] = [];
  const pads: string[] = [];
  for (const [index, input] of inputs.entries()) {
    filters.push(
      `[${index}:v:0]scale=${width}:${height}:force_original_aspect_ratio=decrease,` +
        `pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=${fps},format=yuv420p[v${index}]`,
    );
    pads.push(`[v${index}]`);
    if (!withAudio) continue;
    filters.push(
      input.params.audio
        ? `[${index}:a:0]aresample=${REENCODE.sampleRate},aformat=sample_fmts=fltp:channel_layouts=stereo[a${index}]`
        : `anullsrc=r=${REENCODE.sampleRate}:cl=stereo,atrim=duration=${input.duration.toFixed(3)}[a${index}]`,
    );
    pads.push(`[a${index}]`);
  }
  filters.push(
    `${pads.join("")}concat=n=${inputs.length}:v=1:a=${withAudio ? 1 : 0}[v]${withAudio ? "[a]" : ""}`,
  );
  await runFfmpeg(
    tools,
    [
      ...inputs.flatMap((i) => ["-i", path.resolve(i.path)]),
      ...["-filter_complex", filters.join(";"), "-map", "[v]"],
      ...(withAudio ? ["-map", "[a]", "-c:a", "aac", "-b:a", REENCODE.audioBitrate] : []),
      ...["-c:v", "libx264", "-preset", REENCODE.preset, "-crf", REENCODE.crf],
      ...["-movflags", "+faststart", path.resolve(output)],
    ],
    totalSeconds(inputs),
    options,
  );
}

async function runFfmpeg(
  tools: MediaTools,
  args: string[],
  total: number,
  options: ConcatOptions,
): Promise<void> {
  await runTool(
    tools.ffmpegPath,
    [...["-hide_banner", "-nostdin", "-v", "error", "-y", "-nostats", "-progress", "pipe:1"], ...args],
    {
      tool: "ffmpeg",
      timeoutMs: tools.toolTimeoutMs,
      signal: options.signal,
      onStdoutLine: (line) => {
        const match = /^out_time_us=(\d+)$/.exec(line);
        if (match && options.onProgress) options.onProgress(Number(match[1]) / 1e6, total);
      },
    },
  );
}

function totalSeconds(inputs: readonly ConcatInput[]): number {
  return inputs.reduce((sum, i) => sum + i.duration, 0);
}

function even(n: number): number {
  return Math.max(2, n - (n % 2));
}

/** "30000/1001" as it is; undefined for "0/0" and garbage. */
function rate(text: string | undefined): string | undefined {
  const match = /^(\d+)\/(\d+)$/.exec(text ?? "");
  return match && Number(match[1]) > 0 && Number(match[2]) > 0 ? (text as string) : undefined;
}
