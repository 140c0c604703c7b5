/**
 * What a file is, from ffprobe's JSON: kind, duration, display size (rotation applied), codecs, bitrate, container.
 * Telegram needs width, height and duration to show a video properly.
 */
import path from "node:path";
import { ToolError } from "../errors.js";
import { runTool } from "../lib/run-tool.js";
import type { MediaTools } from "./tools.js";

export interface MediaInfo {
  /** "other" for images, documents and anything ffprobe cannot read as media. */
  kind: "video" | "audio" | "other";
  /** ffprobe's format name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "matroska,webm". */
  container: string | undefined;
  /** Seconds. */
  duration: number | undefined;
  /** As displayed: swapped when the video is rotated by 90 or 270 degrees. */
  width: number | undefined;
  height: number | undefined;
  /** Display rotation in degrees, 0, 90, 180 or 270. */
  rotation: number;
  videoCodec: string | undefined;
  audioCodec: string | undefined;
  /** Overall bits per second. */
  bitrate: number | undefined;
  size: number | undefined;
}

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  duration?: string;
  disposition?: { attached_pic?: number };
  tags?: { rotate?: string };
  side_data_list?: { side_data_type?: string; rotation?: number }[];
}

interface ProbeJson {
  streams?: ProbeStream[];
  format?: { format_name?: string; duration?: string; bit_rate?: string; size?: string };
}

/** Single-picture formats: ffprobe calls them video, Telegram calls them photos or documents. */
const IMAGE_FORMAT = /^(?:image2|[a-z0-9]+_pipe|png|bmp|tiff?)$/;
/** ffmpeg's demuxers for text art: a plain .txt of a few KB opens as "tty" with an "ansi" video stream. */
const TEXT_FORMAT = /^(?:tty|bin|xbin|adf|idf)$/;
/**
 * What ffprobe says about input that is not media (a zip, a document) or is broken media: such a file is sent as a
 * document. Anything else (a missing file, a broken ffprobe) is an error for the operator.
 */
const NOT_MEDIA =
  /Invalid data found when processing input|could not find codec parameters|Failed to read frame size|Invalid frame size|Could not seek|moov atom not found|: Invalid argument$/im;

export async function probeMedia(
  tools: MediaTools,
  file: string,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<MediaInfo> {
  const args = [
    "-v",
    "error",
    "-print_format",
    "json",
    "-show_format",
    "-show_streams",
    "--",
    path.resolve(file),
  ];
  let stdout: string;
  try {
    ({ stdout } = await runTool(tools.ffprobePath, args, {
      tool: "ffprobe",
      timeoutMs: tools.toolTimeoutMs,
      signal: options.signal,
    }));
  } catch (error) {
    if (error instanceof ToolError && error.code === "TOOL_FAILED" && NOT_MEDIA.test(error.stderrTail)) {
      return { ...EMPTY, kind: "other" };
    }
    throw error;
  }
  let json: ProbeJson;
  try {
    json = JSON.parse(stdout) as ProbeJson;
  } catch (error) {
    throw new ToolError("FFPROBE_BAD_JSON", "ffprobe", `ffprobe printed no valid JSON for ${file}`, {
      cause: error,
    });
  }
  return parseProbe(json);
}

const EMPTY: MediaInfo = {
  kind: "other",
  container: undefined,
  duration: undefined,
  width: undefined,
  height: undefined,
  rotation: 0,
  videoCodec: undefined,
  audioCodec: undefined,
  bitrate: undefined,
  size: undefined,
};

/** ffprobe's `-show_format -show_streams` JSON in our terms. Pure. */
export function parseProbe(json: ProbeJson): MediaInfo {
  const streams = json.streams ?? [];
  const container = json.format?.format_name;
  const video = streams.find((s) => s.codec_type === "video" && s.disposition?.attached_pic !== 1);
  const audio = streams.find((s) => s.codec_type === "audio");
  const isImage = container !== undefined && IMAGE_FORMAT.test(container);
  const isText = container !== undefined && TEXT_FORMAT.test(container);
  const kind = isText ? "other" : video && !isImage ? "video" : audio ? "audio" : "other";
  const rotation = video ? rotationOf(video) : 0;
  const turned = rotation === 90 || rotation === 270;
  const duration = positive(json.format?.duration) ?? positive(video?.duration) ?? positive(audio?.duration);
  return {
    kind,
    container,
    duration,
    width: turned ? video?.height : video?.width,
    height: turned ? video?.width : video?.height,
    rotation,
    videoCodec: video?.codec_name,
    audioCodec: audio?.codec_name,
    bitrate: positive(json.format?.bit_rate),
    size: positive(json.format?.size),
  };
}

/** The display matrix (ffmpeg 5+) or the older "rotate" tag, as 0/90/180/270. */
function rotationOf(stream: ProbeStream): number {
  const matrix = stream.side_data_list?.find((d) => d.rotation !== undefined)?.rotation;
  const degrees = matrix ?? Number(stream.tags?.rotate ?? 0);
  if (!Number.isFinite(degrees)) return 0;
  const right = Math.round(degrees / 90) * 90;
  return ((right % 360) + 360) % 360;
}

function positive(text: string | undefined): number | undefined {
  const n = Number(text);
  return text !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}
