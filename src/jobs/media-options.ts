/**
 * What a link's options ask of the downloaded file before it is prepared (src/jobs/prepare.ts): the trim, then the
 * sound alone (a site download with "audio" is sound already; a direct video file is not), and the subtitle files
 * the download left beside it ("subs file").
 */
import { mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../logger.js";
import { extractAudio } from "../media/audio.js";
import { probeMedia } from "../media/probe.js";
import type { MediaTools } from "../media/tools.js";
import { trimMedia } from "../media/trim.js";
import type { JobOptions } from "./job-options.js";

/** The file to prepare: `input` itself when no option changes it, else a new file in a folder beside it. */
export async function applyMediaOptions(
  tools: MediaTools,
  input: string,
  options: JobOptions,
  ctx: { signal: AbortSignal; log: Logger },
): Promise<string> {
  let file = input;
  const dir = path.dirname(input);
  if (options.trim) {
    const trimmed = await trimMedia(tools, file, options.trim, {
      outDir: path.join(dir, ".trimmed"),
      signal: ctx.signal,
    });
    ctx.log.info(
      { trim: options.trim, copied: trimmed.copied, duration: trimmed.duration },
      trimmed.copied ? "trimmed with stream copy" : "trimmed by re-encoding (the start is not a keyframe)",
    );
    file = trimmed.path;
  }
  if (options.quality === "audio") {
    const info = await probeMedia(tools, file, { signal: ctx.signal });
    if (info.kind === "video") {
      const outDir = path.join(dir, ".audio");
      await mkdir(outDir, { recursive: true });
      const audio = await extractAudio(tools, file, { outDir, signal: ctx.signal });
      file = audio.path;
    }
  }
  return file;
}

/** The name to send `file` under: the job's name with the extension of what was made from it. */
export function nameFor(name: string, file: string): string {
  const ext = path.extname(file);
  const current = path.extname(name);
  if (ext === "" || current.toLowerCase() === ext.toLowerCase()) return name;
  return `${current ? name.slice(0, -current.length) : name}${ext}`;
}

/** "<video without extension>.<language>.srt" files beside the download, sorted. */
export async function subtitleFiles(download: string): Promise<string[]> {
  const dir = path.dirname(download);
  const stem = path.basename(download, path.extname(download));
  const entries = await readdir(dir);
  return entries
    .filter((e) => e.startsWith(`${stem}.`) && /\.srt$/i.test(e) && e !== path.basename(download))
    .sort()
    .map((e) => path.join(dir, e));
}
