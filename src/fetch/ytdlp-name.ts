/**
 * File names made from site titles. Minimal and private to the yt-dlp engine: a title is untrusted text, so it loses
 * path separators, control characters and leading dots, and is cut to fit the byte budget of common filesystems.
 */

/** ext4 allows 255 bytes; the rest leaves room for " (2)", ".part001" and the like. */
export const MAX_NAME_BYTES = 200;
/** Used when nothing printable is left of the title. */
const FALLBACK_STEM = "video";
/** A bound on the " (n)" suffixes tried before giving up on a free name. */
export const MAX_NAME_ATTEMPTS = 100;

/** "My/Video: part 1" + "mp4" → "My-Video: part 1.mp4", at most MAX_NAME_BYTES bytes of UTF-8. */
export function safeFileName(title: string | undefined, ext: string, suffix = ""): string {
  const cleanExt = ext.replace(/[^\w]/g, "").slice(0, 10);
  const dotExt = cleanExt ? `.${cleanExt}` : "";
  let stem = (title ?? "")
    .normalize("NFC")
    .replace(/[/\\]/g, "-")
    .replace(/[\t\n\v\f\r]/g, " ")
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, "")
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^[.\s]+/, "");
  // Drop a trailing extension equal to ours ("clip.mp4" titles) so names do not read "clip.mp4.mp4".
  if (dotExt && stem.toLowerCase().endsWith(dotExt.toLowerCase()))
    stem = stem.slice(0, -dotExt.length).trim();
  if (!stem) stem = FALLBACK_STEM;
  const budget = MAX_NAME_BYTES - Buffer.byteLength(dotExt + suffix);
  return `${truncateUtf8(stem, budget).replace(/[.\s]+$/, "") || FALLBACK_STEM}${suffix}${dotExt}`;
}

/** Cuts at a code point boundary so that the UTF-8 length is at most `maxBytes`. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let bytes = 0;
  let out = "";
  for (const ch of text) {
    const size = Buffer.byteLength(ch);
    if (bytes + size > maxBytes) break;
    bytes += size;
    out += ch;
  }
  return out;
}
