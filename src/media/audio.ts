/**
 * The sound of a video as a file Telegram plays: stream copy when the codec has a container Telegram knows
 * (AAC → m4a, MP3 → mp3, Opus → opus, Vorbis → ogg, FLAC → flac), otherwise an AAC encode into m4a.
 */
import { randomUUID } from "node:crypto";
import { rename, rm } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../errors.js";
import { runTool } from "../lib/run-tool.js";
import { probeMedia } from "./probe.js";
import type { MediaTools } from "./tools.js";

/** Codec → the extension that holds it as it is. */
const COPY_CONTAINERS: Record<string, string> = {
  aac: "m4a",
  alac: "m4a",
  mp3: "mp3",
  opus: "opus",
  vorbis: "ogg",
  flac: "flac",
};
/** Transparent enough for speech and music, and about 90 MB per hour. */
const AAC_BITRATE = "192k";

export interface ExtractedAudio {
  path: string;
  codec: string;
  /** True when the audio was copied as it was, false when it was encoded to AAC. */
  copied: boolean;
}

export async function extractAudio(
  tools: MediaTools,
  input: string,
  options: { outDir?: string | undefined; signal?: AbortSignal | undefined } = {},
): Promise<ExtractedAudio> {
  const info = await probeMedia(tools, input, { signal: options.signal });
  if (!info.audioCodec) {
    throw new UserError("NO_AUDIO", `no audio stream in ${input}`, {
      userMessage: "This file has no sound track.",
    });
  }
  const copyExt = COPY_CONTAINERS[info.audioCodec];
  const ext = copyExt ?? "m4a";
  const outDir = options.outDir ?? path.dirname(input);
  const stem = path.basename(input, path.extname(input));
  let output = path.join(outDir, `${stem}.${ext}`);
  if (path.resolve(output) === path.resolve(input)) output = path.join(outDir, `${stem} (audio).${ext}`);
  const tmp = path.join(outDir, `.${stem}.${randomUUID().slice(0, 8)}.tmp.${ext}`);

  const codecArgs = copyExt ? ["-c:a", "copy"] : ["-c:a", "aac", "-b:a", AAC_BITRATE];
  try {
    await runTool(
      tools.ffmpegPath,
      [
        ...["-hide_banner", "-nostdin", "-v", "error", "-y", "-i", path.resolve(input)],
        ...["-map", "0:a:0", "-vn", "-sn", "-dn", ...codecArgs, "-map_metadata", "0"],
        ...(ext === "m4a" ? ["-movflags", "+faststart"] : []),
        path.resolve(tmp),
      ],
      { tool: "ffmpeg", timeoutMs: tools.toolTimeoutMs, signal: options.signal },
    );
    await rename(tmp, output);
    return { path: output, codec: copyExt ? info.audioCodec : "aac", copied: copyExt !== undefined };
  } finally {
    await rm(tmp, { force: true });
  }
}
