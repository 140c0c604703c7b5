/**
 * Telegram streams an mp4 only when its index (the `moov` atom) comes before the media data (`mdat`). ffmpeg and many
 * cameras write it at the end. We read the top-level atoms ourselves (a few reads, exact) and, when needed, remux
 * with stream copy and `-movflags +faststart`: no re-encoding, same streams.
 */
import { randomUUID } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { runTool } from "../lib/run-tool.js";
import type { MediaTools } from "./tools.js";

export interface Atom {
  type: string;
  offset: number;
  size: number;
}

/** Real files have a handful of top-level atoms; this bounds the walk on garbage. */
const MAX_TOP_LEVEL_ATOMS = 10_000;
const ATOM_HEADER = 8;
const ATOM_TYPE = /^[\x20-\x7e]{4}$/;
/** What an mp4 starts with ("ftyp"), or an old QuickTime file; anything else is not ours to read. */
const FIRST_ATOMS = new Set(["ftyp", "moov", "mdat", "free", "skip", "wide", "pnot"]);

/** The top-level atoms of an ISO-BMFF (mp4/mov) file; empty when it is not one. */
export async function readTopLevelAtoms(file: string): Promise<Atom[]> {
  const handle = await open(file, "r");
  try {
    const { size: fileSize } = await handle.stat();
    const atoms: Atom[] = [];
    const header = Buffer.alloc(16);
    let offset = 0;
    while (offset + ATOM_HEADER <= fileSize && atoms.length < MAX_TOP_LEVEL_ATOMS) {
      const { bytesRead } = await handle.read(header, 0, 16, offset);
      if (bytesRead < ATOM_HEADER) break;
      const type = header.toString("latin1", 4, 8);
      if (!ATOM_TYPE.test(type) || (offset === 0 && !FIRST_ATOMS.has(type))) return atoms;
      let size = header.readUInt32BE(0);
      if (size === 1) {
        if (bytesRead < 16) break;
        size = Number(header.readBigUInt64BE(8)); // 64-bit "largesize" for atoms over 4 GiB
      } else if (size === 0) {
        size = fileSize - offset; // "extends to the end of the file"
      }
      if (size < ATOM_HEADER) return atoms;
      atoms.push({ type, offset, size });
      offset += size;
    }
    return atoms;
  } finally {
    await handle.close();
  }
}

/** True when the file is an mp4/mov whose `moov` comes after its `mdat`. */
export async function needsFaststart(file: string): Promise<boolean> {
  const atoms = await readTopLevelAtoms(file);
  const moov = atoms.findIndex((a) => a.type === "moov");
  const mdat = atoms.findIndex((a) => a.type === "mdat");
  return moov !== -1 && mdat !== -1 && moov > mdat;
}

/**
 * Moves the index to the front when needed, replacing `file` only once the new one is complete.
 * Returns whether it remuxed.
 */
export async function ensureFaststart(
  tools: MediaTools,
  file: string,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<boolean> {
  if (!(await needsFaststart(file))) return false;
  const ext = path.extname(file) || ".mp4";
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file, ext)}.${randomUUID().slice(0, 8)}.tmp${ext}`,
  );
  try {
    await runTool(
      tools.ffmpegPath,
      [
        ...["-hide_banner", "-nostdin", "-v", "error", "-y", "-i", path.resolve(file)],
        // Video and audio only: timecode and data tracks often cannot be copied into mp4 and Telegram ignores them.
        ...[
          "-map",
          "0:v?",
          "-map",
          "0:a?",
          "-c",
          "copy",
          "-map_metadata",
          "0",
          "-movflags",
          "+faststart",
          path.resolve(tmp),
        ],
      ],
      { tool: "ffmpeg", timeoutMs: tools.toolTimeoutMs, signal: options.signal },
    );
    await rename(tmp, file);
    return true;
  } finally {
    await rm(tmp, { force: true });
  }
}
