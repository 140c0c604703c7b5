/**
 * Splits a file that is over the account's upload limit. Videos are cut by time at keyframes with stream copy, so each
 * part is a playable video under the limit; anything else is cut by bytes into `name.001`, `name.002` … which `cat`
 * joins back.
 *
 * Video cut points come from ffprobe's packet list (time, size, keyframe): the bytes of each part are known before
 * cutting, so a part only needs a re-cut when container overhead pushes it over; re-cuts shrink it and are bounded.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { rm, stat } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { ToolError } from "../errors.js";
import { throwIfAborted } from "../lib/abort.js";
import { runTool } from "../lib/run-tool.js";
import { probeMedia } from "./probe.js";
import type { MediaTools } from "./tools.js";

/** Aim this far under the limit: mp4 headers and interleaving add a little to the packets' own bytes. */
const SIZE_MARGIN = 0.97;
/** A part that still comes out too big is re-cut this many times, each time smaller. */
const MAX_RECUT_ATTEMPTS = 5;
/** Upper bound on parts (also a loop bound): 4000 MiB at 50 MB per part is 80; this leaves room. */
const MAX_PARTS = 999;
/** Seek just past a keyframe's timestamp so rounding in ffprobe's text never lands on the keyframe before it. */
const SEEK_EPSILON_S = 0.001;
/** Containers ffmpeg can stream-copy into by time with their own extension; others are cut into mkv. */
const CUTTABLE_EXT = new Set([".mp4", ".m4v", ".mov", ".mkv", ".webm", ".ts"]);
const FASTSTART_EXT = new Set([".mp4", ".m4v", ".mov"]);

export interface SplitOptions {
  /** The largest part allowed, in bytes (the account's limit). */
  maxBytes: number;
  /** Where parts go. @default the input's folder */
  outDir?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Called as each part is finished (for progress); `cuts` is how many ffmpeg runs that part took. */
  onPart?: ((part: { path: string; index: number; size: number; cuts: number }) => void) | undefined;
}

/**
 * The input's parts in order, each at most `maxBytes`; `[input]` itself when it already fits.
 * Videos become playable parts, other files (and videos that cannot be cut under the limit) byte parts.
 */
export async function splitFile(tools: MediaTools, input: string, options: SplitOptions): Promise<string[]> {
  checkLimit(options.maxBytes);
  const { size } = await stat(input);
  if (size <= options.maxBytes) return [input];
  const info = await probeMedia(tools, input, { signal: options.signal });
  if (info.kind === "video" && info.duration) {
    try {
      return await splitVideo(tools, input, options);
    } catch (error) {
      // A video ffmpeg cannot cut under the limit (one huge keyframe interval, an odd container) still goes out,
      // as byte parts the user joins back.
      if (!(error instanceof ToolError)) throw error;
    }
  }
  return splitBytes(input, options);
}

interface Packet {
  time: number;
  size: number;
  key: boolean;
}

/** Cuts a video by time at keyframes with stream copy; parts are `stem.part001.ext` … */
export async function splitVideo(tools: MediaTools, input: string, options: SplitOptions): Promise<string[]> {
  checkLimit(options.maxBytes);
  const packets = await readPackets(tools, input, options.signal);
  const keyTimes = [...new Set(packets.filter((p) => p.key).map((p) => p.time))].sort((a, b) => a - b);
  if (keyTimes.length === 0)
    throw new ToolError("SPLIT_NO_KEYFRAMES", "ffprobe", `no video keyframes in ${input}`);
  // The first part starts at the very beginning, with any audio that precedes the first keyframe.
  keyTimes[0] = Math.min(keyTimes[0]!, packets[0]!.time);
  const bytesBefore = prefixBytes(packets);

  const inputExt = path.extname(input).toLowerCase();
  const ext = CUTTABLE_EXT.has(inputExt) ? inputExt : ".mkv";
  const stem = path.basename(input, path.extname(input));
  const outDir = options.outDir ?? path.dirname(input);
  const parts: string[] = [];
  // Container bytes per packet byte, measured on each cut: plans the next part so re-cuts stay rare.
  let overhead = 1;
  try {
    let startIndex = 0; // index into keyTimes
    while (startIndex < keyTimes.length) {
      if (parts.length >= MAX_PARTS)
        throw new ToolError("SPLIT_TOO_MANY_PARTS", "ffmpeg", `over ${MAX_PARTS} parts`);
      const part = path.join(outDir, `${stem}.part${String(parts.length + 1).padStart(3, "0")}${ext}`);
      parts.push(part);
      let budget = (options.maxBytes * SIZE_MARGIN) / overhead;
      let endIndex = startIndex;
      for (let attempt = 1; ; attempt++) {
        endIndex = lastFittingKeyframe(keyTimes, bytesBefore, startIndex, budget);
        const start = keyTimes[startIndex]!;
        const end = keyTimes[endIndex]; // undefined: to the end of the file
        await cutPart(tools, input, part, start, end, ext, options.signal);
        const { size } = await stat(part);
        const planned = bytesBefore(end ?? Number.POSITIVE_INFINITY) - bytesBefore(start);
        if (planned > 0) overhead = Math.max(1, size / planned);
        if (size <= options.maxBytes) {
          options.onPart?.({ path: part, index: parts.length, size, cuts: attempt });
          break;
        }
        if (endIndex === startIndex + 1 || attempt >= MAX_RECUT_ATTEMPTS) {
          throw new ToolError(
            "SPLIT_PART_TOO_BIG",
            "ffmpeg",
            `part ${parts.length} of ${input} is ${size} bytes, over ${options.maxBytes}, after ${attempt} cuts`,
          );
        }
        budget = Math.min(budget, planned) * (options.maxBytes / size) * SIZE_MARGIN;
      }
      if (endIndex >= keyTimes.length) break;
      startIndex = endIndex;
    }
    return parts;
  } catch (error) {
    await Promise.all(parts.map((p) => rm(p, { force: true })));
    throw error;
  }
}

/** Cuts into byte parts `name.001`, `name.002` … of at most `maxBytes`; streamed, constant memory. */
export async function splitBytes(input: string, options: SplitOptions): Promise<string[]> {
  checkLimit(options.maxBytes);
  const { size } = await stat(input);
  const count = Math.max(1, Math.ceil(size / options.maxBytes));
  if (count > MAX_PARTS)
    throw new ToolError("SPLIT_TOO_MANY_PARTS", "split", `${count} parts, over ${MAX_PARTS}`);
  const outDir = options.outDir ?? path.dirname(input);
  const parts: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      throwIfAborted(options.signal, "Split");
      const part = path.join(outDir, `${path.basename(input)}.${String(i + 1).padStart(3, "0")}`);
      parts.push(part);
      const start = i * options.maxBytes;
      const end = Math.min(size, start + options.maxBytes) - 1; // inclusive, as createReadStream wants
      await pipeline(createReadStream(input, { start, end }), createWriteStream(part), {
        ...(options.signal ? { signal: options.signal } : {}),
      });
      options.onPart?.({ path: part, index: i + 1, size: end - start + 1, cuts: 1 });
    }
    return parts;
  } catch (error) {
    await Promise.all(parts.map((p) => rm(p, { force: true })));
    throwIfAborted(options.signal, "Split");
    throw error;
  }
}

function checkLimit(maxBytes: number): void {
  if (!(Number.isSafeInteger(maxBytes) && maxBytes > 0)) {
    throw new TypeError(`Expected maxBytes to be a positive whole number, got ${maxBytes}`);
  }
}

/** Every packet of every stream: time, size, and whether it is a video keyframe. */
async function readPackets(
  tools: MediaTools,
  input: string,
  signal: AbortSignal | undefined,
): Promise<Packet[]> {
  const packets: Packet[] = [];
  const { stdout: streams } = await runTool(
    tools.ffprobePath,
    [
      "-v",
      "error",
      "-select_streams",
      "v:0",
      "-show_entries",
      "stream=index",
      "-of",
      "csv=p=0",
      "--",
      path.resolve(input),
    ],
    { tool: "ffprobe", timeoutMs: tools.toolTimeoutMs, signal },
  );
  const videoIndex = streams.trim().split(/\s+/)[0];
  await runTool(
    tools.ffprobePath,
    [
      ...["-v", "error", "-show_entries", "packet=stream_index,pts_time,dts_time,size,flags"],
      ...["-of", "csv=p=0", "--", path.resolve(input)],
    ],
    {
      tool: "ffprobe",
      timeoutMs: tools.toolTimeoutMs,
      signal,
      onStdoutLine: (line) => {
        const [stream, pts, dts, size, flags] = line.split(",");
        const time = Number(pts === "N/A" ? dts : pts);
        if (!Number.isFinite(time)) return;
        packets.push({
          time,
          size: Number(size) || 0,
          key: stream === videoIndex && (flags ?? "").includes("K"),
        });
      },
    },
  );
  return packets.sort((a, b) => a.time - b.time);
}

/** bytesBefore(t): payload bytes of all packets with time < t. */
function prefixBytes(packets: readonly Packet[]): (time: number) => number {
  const times = packets.map((p) => p.time);
  const sums = [0];
  for (const p of packets) sums.push(sums[sums.length - 1]! + p.size);
  return (time: number) => sums[lowerBound(times, time)]!;
}

/**
 * The keyframe index where a part starting at keyTimes[start] should end so that its packets fit `budget`;
 * keyTimes.length means "to the end of the file". Always moves at least one keyframe forward.
 */
function lastFittingKeyframe(
  keyTimes: readonly number[],
  bytesBefore: (time: number) => number,
  start: number,
  budget: number,
): number {
  const startBytes = bytesBefore(keyTimes[start]!);
  if (bytesBefore(Number.POSITIVE_INFINITY) - startBytes <= budget) return keyTimes.length;
  let lo = start + 1;
  let hi = keyTimes.length - 1;
  let best = start + 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (bytesBefore(keyTimes[mid]!) - startBytes <= budget) {
      best = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}

async function cutPart(
  tools: MediaTools,
  input: string,
  output: string,
  start: number,
  end: number | undefined,
  ext: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const seek = start > 0 ? start + SEEK_EPSILON_S : 0;
  const args = [
    "-hide_banner",
    "-nostdin",
    "-v",
    "error",
    "-y",
    "-ss",
    seek.toFixed(6),
    "-i",
    path.resolve(input),
  ];
  // Stop just before the next part's keyframe.
  if (end !== undefined) args.push("-t", (end - seek - SEEK_EPSILON_S).toFixed(6));
  args.push("-map", "0:v?", "-map", "0:a?", "-c", "copy", "-avoid_negative_ts", "make_zero");
  if (FASTSTART_EXT.has(ext)) args.push("-movflags", "+faststart");
  args.push(path.resolve(output));
  await runTool(tools.ffmpegPath, args, { tool: "ffmpeg", timeoutMs: tools.toolTimeoutMs, signal });
}

function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
