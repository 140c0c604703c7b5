/**
 * File names made from site titles, on top of the HTTP engine's sanitiser. A title is not a path: its slashes
 * ("AC/DC live") become dashes instead of cutting the title to its last component.
 */
import { MAX_NAME_BYTES, sanitizeFileName, truncateName } from "../filename.js";

export { MAX_NAME_BYTES };

/** Used when nothing printable is left of the title. */
const FALLBACK_STEM = "video";
/** A bound on the " (n)" suffixes tried before giving up on a free name. */
export const MAX_NAME_ATTEMPTS = 100;

/** "My/Video: part 1" + "mp4" → "My-Video_ part 1.mp4", at most MAX_NAME_BYTES bytes of UTF-8. */
export function safeFileName(title: string | undefined, ext: string, suffix = ""): string {
  const cleanExt = ext.replace(/[^\w]/g, "").slice(0, 10);
  const dotExt = cleanExt ? `.${cleanExt}` : "";
  let stem = (title ?? "").replace(/[/\\]/g, "-").replace(/[\t\n\v\f\r]/g, " ");
  // Drop a trailing extension equal to ours ("clip.mp4" titles) so names do not read "clip.mp4.mp4".
  if (dotExt && stem.toLowerCase().endsWith(dotExt.toLowerCase())) stem = stem.slice(0, -dotExt.length);
  stem = sanitizeFileName(stem) || FALLBACK_STEM;
  stem = truncateName(stem, MAX_NAME_BYTES - Buffer.byteLength(suffix + dotExt)) || FALLBACK_STEM;
  return `${stem}${suffix}${dotExt}`;
}
