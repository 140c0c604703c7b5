/**
 * Picks what yt-dlp should download: the best version that fits the size limit and the user's quality. Pure: it
 * reads the format list of `yt-dlp -J` and returns a format id (`"137+140"`), never touching the network.
 */
import type { Quality } from "../../lib/quality.js";

/** The fields of one yt-dlp format that the choice reads. yt-dlp leaves out (or nulls) what a site does not say. */
export interface YtdlpFormat {
  format_id: string;
  ext?: string | null | undefined;
  protocol?: string | null | undefined;
  /** "none" means no video; missing means unknown (then yt-dlp assumes present). */
  vcodec?: string | null | undefined;
  acodec?: string | null | undefined;
  width?: number | null | undefined;
  height?: number | null | undefined;
  /** Exact size in bytes. */
  filesize?: number | null | undefined;
  /** The site's estimate in bytes. */
  filesize_approx?: number | null | undefined;
  /** Total bitrate in kbit/s (yt-dlp's unit: 1000 bits). */
  tbr?: number | null | undefined;
  abr?: number | null | undefined;
  vbr?: number | null | undefined;
  has_drm?: boolean | null | undefined;
}

export interface FormatChoice {
  /** The `-f` argument: one id, or video id + audio id to be merged. */
  formatId: string;
  /** Bytes, when the site gave sizes or bitrates; undefined when nothing is known until the download. */
  estimatedSize: number | undefined;
  /** True when only sound is wanted (yt-dlp then extracts the audio). */
  audioOnly: boolean;
  height: number | undefined;
  /**
   * Container for a video+audio merge: mp4 (Telegram streams it) unless a codec is known not to fit mp4.
   * Undefined when nothing is merged.
   */
  mergeFormat: "mp4" | "mkv" | undefined;
}

export type ChoiceFailure =
  /** Every version with a known size is over the limit; `smallest` is the smallest of them. */
  | { reason: "too-large"; smallest: number }
  /** No downloadable format (all DRM, or only storyboards). */
  | { reason: "no-formats" };

/** Estimates from a bitrate are rough (VBR, container overhead): count them this much larger. */
const ESTIMATE_MARGIN = 1.1;
const BITS_PER_KBIT = 1000;

const HEIGHT_CAPS: Record<Exclude<Quality, "best" | "audio">, number> = {
  "1080": 1080,
  "720": 720,
  "480": 480,
  "360": 360,
};

interface Candidate {
  formatId: string;
  mergeFormat: "mp4" | "mkv" | undefined;
  size: number | undefined;
  height: number | undefined;
  bitrate: number;
  mp4Friendly: boolean;
}

/**
 * Chooses the best format (or video+audio pair) for `quality` whose size fits `maxSize`. Versions of unknown size
 * are allowed (the download itself stops at the limit) but a version of known, fitting size wins at equal height.
 */
export function chooseFormat(
  formats: readonly YtdlpFormat[],
  options: { maxSize: number; quality?: Quality | undefined; duration?: number | null | undefined },
): FormatChoice | ChoiceFailure {
  const quality = options.quality ?? "best";
  const duration = options.duration ?? undefined;
  const usable = formats.filter((f) => !f.has_drm && goesThroughProxy(f) && !isImagesOnly(f));
  if (usable.length === 0) return { reason: "no-formats" };

  const audioOnly = usable.filter((f) => f.vcodec === "none" && f.acodec !== "none");
  const videoOnly = usable.filter((f) => f.vcodec !== "none" && f.acodec === "none");
  const combined = usable.filter((f) => f.vcodec !== "none" && f.acodec !== "none");

  let candidates: Candidate[];
  if (quality === "audio") {
    candidates = audioOnly.map((f) => single(f, duration)).sort(compareAudio);
    // No separate sound: take a combined version (the audio is extracted after download), the smallest first.
    if (candidates.length === 0) candidates = combined.map((f) => single(f, duration)).sort(compareSmallest);
  } else {
    const bestAudio = [...audioOnly].sort((a, b) => compareAudio(single(a, duration), single(b, duration)));
    const upTo = (cap: number): Candidate[] => {
      const underCap = (f: YtdlpFormat) => f.height == null || f.height <= cap;
      const out = combined.filter(underCap).map((f) => single(f, duration));
      for (const video of videoOnly.filter(underCap)) {
        const audio = pickAudioFor(video, bestAudio, duration, options.maxSize);
        out.push(audio ? pair(video, audio, duration) : single(video, duration));
      }
      return out;
    };
    candidates = upTo(quality === "best" ? Number.POSITIVE_INFINITY : HEIGHT_CAPS[quality]);
    // Every picture is above the cap (one quality pressed for several videos, or a default from /settings): the
    // lowest there is, rather than no file.
    if (candidates.length === 0) {
      const heights = [...combined, ...videoOnly].map((f) => f.height ?? 0);
      if (heights.length > 0) candidates = upTo(Math.min(...heights));
    }
    candidates.sort(compareVideo);
  }

  const fitting = candidates.filter((c) => c.size === undefined || c.size <= options.maxSize);
  const chosen = fitting[0];
  if (!chosen) {
    const sizes = candidates.map((c) => c.size).filter((s): s is number => s !== undefined);
    if (sizes.length === 0) return { reason: "no-formats" };
    return { reason: "too-large", smallest: Math.min(...sizes) };
  }
  return {
    formatId: chosen.formatId,
    estimatedSize: chosen.size,
    audioOnly: quality === "audio",
    height: chosen.height,
    mergeFormat: chosen.mergeFormat,
  };
}

/**
 * Codecs ffmpeg's mp4 muxer takes (ffmpeg 5.1): H.264, HEVC, AV1, VP9, MPEG-4, AAC, MP3, Opus, FLAC, AC-3, E-AC-3,
 * ALAC. yt-dlp itself only trusts the first few and would fall back to mkv, which Telegram does not stream.
 */
const MP4_CODEC =
  /^(?:avc|h264|hev|hvc|h265|av01|av1|vp09|vp9|mp4v|mp4a|aac|mp3|opus|flac|ac-3|ac3|ec-3|eac3|alac)/i;

/** mp4 when both codecs fit it or are unknown (HLS without CODECS is nearly always H.264/AAC), else mkv. */
export function mergeFormatFor(
  vcodec: string | null | undefined,
  acodec: string | null | undefined,
): "mp4" | "mkv" {
  const fits = (codec: string | null | undefined) =>
    codec == null || codec === "none" || MP4_CODEC.test(codec);
  return fits(vcodec) && fits(acodec) ? "mp4" : "mkv";
}

/** Bytes of one format: exact size, else the site's estimate, else bitrate × duration; all with no guesswork past that. */
export function formatSize(f: YtdlpFormat, duration: number | undefined): number | undefined {
  if (f.filesize != null && f.filesize > 0) return f.filesize;
  if (f.filesize_approx != null && f.filesize_approx > 0)
    return Math.round(f.filesize_approx * ESTIMATE_MARGIN);
  if (f.tbr != null && f.tbr > 0 && duration !== undefined && duration > 0) {
    return Math.round(((f.tbr * BITS_PER_KBIT) / 8) * duration * ESTIMATE_MARGIN);
  }
  return undefined;
}

function single(f: YtdlpFormat, duration: number | undefined): Candidate {
  return {
    formatId: f.format_id,
    mergeFormat: undefined,
    size: formatSize(f, duration),
    height: f.height ?? undefined,
    bitrate: f.tbr ?? (f.vbr ?? 0) + (f.abr ?? 0),
    mp4Friendly: f.ext === "mp4" || f.ext === "m4a",
  };
}

function pair(video: YtdlpFormat, audio: YtdlpFormat, duration: number | undefined): Candidate {
  const v = single(video, duration);
  const a = single(audio, duration);
  return {
    formatId: `${video.format_id}+${audio.format_id}`,
    mergeFormat: mergeFormatFor(video.vcodec, audio.acodec),
    size: v.size === undefined || a.size === undefined ? undefined : v.size + a.size,
    height: v.height,
    bitrate: v.bitrate + a.bitrate,
    mp4Friendly: v.mp4Friendly && a.mp4Friendly,
  };
}

/** The best audio that still lets `video` fit; mp4 video prefers m4a audio so the merge stays mp4. */
function pickAudioFor(
  video: YtdlpFormat,
  audios: readonly YtdlpFormat[],
  duration: number | undefined,
  maxSize: number,
): YtdlpFormat | undefined {
  const videoSize = formatSize(video, duration);
  const fits = (a: YtdlpFormat) => {
    const size = formatSize(a, duration);
    return videoSize === undefined || size === undefined || videoSize + size <= maxSize;
  };
  const fitting = audios.filter(fits);
  const sameFamily = fitting.find((a) => (video.ext === "mp4") === (a.ext === "m4a"));
  return sameFamily ?? fitting[0] ?? audios[audios.length - 1];
}

/** Higher first; at equal height a known fitting size beats an unknown one, then bitrate, then mp4. */
function compareVideo(a: Candidate, b: Candidate): number {
  return (
    (b.height ?? 0) - (a.height ?? 0) ||
    Number(b.size !== undefined) - Number(a.size !== undefined) ||
    Number(b.mp4Friendly) - Number(a.mp4Friendly) ||
    b.bitrate - a.bitrate
  );
}

/** For sound: higher bitrate first; when bitrates are unknown, the smaller download first. */
function compareAudio(a: Candidate, b: Candidate): number {
  return (
    b.bitrate - a.bitrate ||
    Number(b.mp4Friendly) - Number(a.mp4Friendly) ||
    (a.size ?? Number.POSITIVE_INFINITY) - (b.size ?? Number.POSITIVE_INFINITY)
  );
}

/** Known sizes first, smallest first; then by lower height, which usually means smaller. */
function compareSmallest(a: Candidate, b: Candidate): number {
  return (
    (a.size ?? Number.POSITIVE_INFINITY) - (b.size ?? Number.POSITIVE_INFINITY) ||
    (a.height ?? 0) - (b.height ?? 0)
  );
}

/** Storyboards and thumbnails sheets: yt-dlp lists them as formats with neither audio nor video. */
function isImagesOnly(f: YtdlpFormat): boolean {
  return f.vcodec === "none" && f.acodec === "none";
}

/**
 * Protocols yt-dlp fetches with its own HTTP client, which goes through the guard proxy. rtmp, rtsp, mms and
 * websockets open their own sockets (or run rtmpdump, mpv), which no proxy sees; mhtml is storyboard images.
 */
const PROXIED_PROTOCOLS = new Set([
  "http",
  "https",
  "m3u8",
  "m3u8_native",
  "http_dash_segments",
  "http_dash_segments_generator",
  "f4m",
  "ism",
]);

function goesThroughProxy(format: YtdlpFormat): boolean {
  // A format without a protocol is a plain URL to yt-dlp: http(s), or refused by its URL handling.
  return !format.protocol || PROXIED_PROTOCOLS.has(format.protocol);
}

/**
 * The qualities worth offering for these formats: "best" always; a height cap when some video falls in its band
 * (360: up to 360, 480: 361–480, …) and that band is not already the best there is; "audio" when there is sound.
 * A cap that would fetch what "best" fetches is left out, so every button gives something different.
 */
export function availableQualities(formats: readonly YtdlpFormat[]): Quality[] {
  const usable = formats.filter((f) => !f.has_drm && goesThroughProxy(f) && !isImagesOnly(f));
  const heights = usable
    .filter((f) => f.vcodec !== "none" && typeof f.height === "number" && f.height > 0)
    .map((f) => f.height as number);
  const caps = Object.values(HEIGHT_CAPS).sort((a, b) => a - b);
  const band = (h: number) => caps.find((c) => h <= c) ?? Number.POSITIVE_INFINITY;
  const bestBand = heights.length > 0 ? band(Math.max(...heights)) : undefined;
  const offered: Quality[] = ["best"];
  for (const cap of [...caps].reverse()) {
    if (cap !== bestBand && heights.some((h) => band(h) === cap)) offered.push(String(cap) as Quality);
  }
  // Unknown acodec counts as sound (HLS without CODECS nearly always has it).
  if (usable.some((f) => f.acodec !== "none")) offered.push("audio");
  return offered;
}
