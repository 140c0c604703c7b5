/**
 * "url | trim 1:00-2:30": only that part of the file. Stream copy when the cut starts on a keyframe of the video (or
 * there is no video), so nothing is re-encoded and the cut is exact; otherwise a copy would start at the keyframe
 * before (seconds early, or with frozen frames), so the part is re-encoded (H.264 + AAC in mp4) to start exactly.
 */
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../errors.js";
import { runTool } from "../lib/run-tool.js";
import { probeMedia } from "./probe.js";
import type { MediaTools } from "./tools.js";

/** A keyframe this close to the start counts as on it (timestamps are rounded in containers). */
const KEYFRAME_TOLERANCE_S = 0.05;
/** Quality close to the source at a fair speed; the cut is usually short. */
const X264_ARGS = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"];
const AAC_ARGS = ["-c:a", "aac", "-b:a", "192k"];

export interface TrimRange {
  start: number;
  /** Undefined: to the end. */
  end?: number | undefined;
}

export interface Trimmed {
  path: string;
  /** True when the streams were copied as they were; false when re-encoded. */
  copied: boolean;
  duration: number | undefined;
}

/** Writes the part of `input` in `range` into `outDir` (same base name; .mp4 when re-encoded). */
export async function trimMedia(
  tools: MediaTools,
  input: string,
  range: TrimRange,
  options: { outDir: string; signal?: AbortSignal | undefined },
): Promise<Trimmed> {
  const info = await probeMedia(tools, input, { signal: options.signal });
  if (info.kind === "other") {
    throw new UserError("TRIM_NOT_MEDIA", `cannot trim ${path.basename(input)}: not audio or video`, {
      userMessage: "Only a video or a sound file can be trimmed; this link gave another kind of file.",
    });
  }
  if (info.duration !== undefined && range.start >= info.duration) {
    throw new UserError("TRIM_PAST_END", `trim starts at ${range.start}s, the file lasts ${info.duration}s`, {
      userMessage: `The trim starts after the end: the file lasts ${formatSeconds(info.duration)}.`,
      hint: "Send the link again with a start inside it.",
      params: { duration: formatSeconds(info.duration) },
    });
  }
  const copy =
    info.kind === "audio" ||
    range.start === 0 ||
    (await keyframeAt(tools, input, range.start, options.signal));
  const ext = copy ? path.extname(input) : ".mp4";
  const base = path.basename(input, path.extname(input));
  await mkdir(options.outDir, { recursive: true });
  const output = path.join(options.outDir, `${base}${ext}`);
  const tmp = path.join(options.outDir, `.${base}.tmp${ext}`);
  const length = range.end === undefined ? [] : ["-t", String(range.end - range.start)];
  const mp4 = /^\.(mp4|m4v|mov|m4a)$/i.test(ext);
  const codecArgs = copy
    ? ["-map", "0", "-c", "copy", "-avoid_negative_ts", "make_zero"]
    : ["-map", "0:v:0", "-map", "0:a?", "-map", "0:s?", ...X264_ARGS, ...AAC_ARGS, "-c:s", "mov_text"];
  try {
    await runTool(
      tools.ffmpegPath,
      [
        ...["-hide_banner", "-nostdin", "-v", "error", "-y"],
        ...["-ss", String(range.start), "-i", path.resolve(input), ...length],
        ...codecArgs,
        ...(mp4 ? ["-movflags", "+faststart"] : []),
        path.resolve(tmp),
      ],
      { tool: "ffmpeg", timeoutMs: tools.toolTimeoutMs, signal: options.signal },
    );
    await rename(tmp, output);
  } finally {
    await rm(tmp, { force: true });
  }
  const trimmed = await probeMedia(tools, output, { signal: options.signal });
  return { path: output, copied: copy, duration: trimmed.duration };
}

/** Whether the first video stream has a keyframe at `seconds` (ffprobe reads only keyframes near it). */
async function keyframeAt(
  tools: MediaTools,
  input: string,
  seconds: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const from = Math.max(0, seconds - 1);
  const { stdout } = await runTool(
    tools.ffprobePath,
    [
      ...["-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey"],
      ...["-show_entries", "frame=pts_time", "-of", "csv=p=0"],
      ...["-read_intervals", `${from}%+2`, path.resolve(input)],
    ],
    { tool: "ffprobe", timeoutMs: tools.toolTimeoutMs, signal },
  );
  return stdout
    .split(/\r?\n/)
    .map((line) => Number.parseFloat(line))
    .some((t) => Number.isFinite(t) && Math.abs(t - seconds) <= KEYFRAME_TOLERANCE_S);
}

function formatSeconds(total: number): string {
  const s = Math.floor(total);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}
