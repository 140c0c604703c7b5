/**
 * File names for downloads. The name comes from the sender of the bytes, so it is untrusted: it must stay inside
 * the job directory, print cleanly in a chat, and fit every file system we write to.
 */
import { parse as parseContentDisposition } from "content-disposition";

/** ext4 and most file systems allow 255 bytes; keep room for ".part" and a " (2)" suffix. */
export const MAX_NAME_BYTES = 200;
const FALLBACK_NAME = "download";
/** An extension is a short run of letters and digits after the last dot. */
const EXTENSION = /\.[\p{L}\p{N}]{1,12}$/u;

/** Extensions for the content types people download; anything else keeps the name as it is. */
const EXTENSION_BY_MIME: Record<string, string> = {
  "video/mp4": ".mp4",
  "video/webm": ".webm",
  "video/x-matroska": ".mkv",
  "video/quicktime": ".mov",
  "video/x-msvideo": ".avi",
  "video/mp2t": ".ts",
  "video/3gpp": ".3gp",
  "audio/mpeg": ".mp3",
  "audio/mp4": ".m4a",
  "audio/aac": ".aac",
  "audio/ogg": ".ogg",
  "audio/opus": ".opus",
  "audio/flac": ".flac",
  "audio/wav": ".wav",
  "audio/x-wav": ".wav",
  "image/jpeg": ".jpg",
  "image/png": ".png",
  "image/gif": ".gif",
  "image/webp": ".webp",
  "application/pdf": ".pdf",
  "application/zip": ".zip",
  "application/x-7z-compressed": ".7z",
  "application/vnd.rar": ".rar",
  "application/x-rar-compressed": ".rar",
  "application/gzip": ".gz",
  "application/x-tar": ".tar",
  "application/epub+zip": ".epub",
  "application/vnd.android.package-archive": ".apk",
  "application/json": ".json",
  "text/plain": ".txt",
  "text/csv": ".csv",
};

export interface NameSources {
  /** A name the user gave (a batch line, `--name`): wins over everything. */
  given?: string | undefined;
  contentDisposition?: string | undefined;
  /** The final URL, after redirects. */
  url?: URL | string | undefined;
  contentType?: string | undefined;
  /** A title (from yt-dlp or the caller) for when nothing else names the file. */
  title?: string | undefined;
}

/** Picks and sanitises a file name: given, Content-Disposition, URL path, title, "download". */
export function chooseFileName(sources: NameSources): string {
  const candidates = [
    sources.given,
    fromContentDisposition(sources.contentDisposition),
    fromUrlPath(sources.url),
    sources.title,
  ];
  let name = FALLBACK_NAME;
  let chosen = -1;
  for (const [index, candidate] of candidates.entries()) {
    const clean = candidate === undefined ? "" : sanitizeFileName(candidate);
    if (clean) {
      name = clean;
      chosen = index;
      break;
    }
  }
  // "notes: https://…/notes.pdf" names the file "notes"; the server or the link still says what kind it is.
  if (chosen === 0 && !EXTENSION.test(name)) {
    for (const candidate of candidates.slice(1, 3)) {
      const ext = candidate === undefined ? undefined : EXTENSION.exec(sanitizeFileName(candidate))?.[0];
      if (ext) return truncateName(name + ext);
    }
  }
  return withExtension(name, sources.contentType);
}

/** The filename (RFC 6266, with RFC 5987 `filename*` preferred) or undefined. */
export function fromContentDisposition(header: string | undefined): string | undefined {
  if (!header) return undefined;
  try {
    const filename = parseContentDisposition(header).parameters.filename;
    if (typeof filename === "string" && filename) return filename;
  } catch {
    // Many servers send invalid headers (unquoted spaces, raw UTF-8); read the plain form loosely below.
  }
  const loose = /filename\s*=\s*(?:"([^"]*)"|([^;]*))/i.exec(header);
  const value = (loose?.[1] ?? loose?.[2] ?? "").trim();
  return value || undefined;
}

/** The last non-empty segment of the URL path, percent-decoded when it decodes. */
export function fromUrlPath(url: URL | string | undefined): string | undefined {
  if (url === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = typeof url === "string" ? new URL(url) : url;
  } catch {
    return undefined;
  }
  const segment = parsed.pathname.split("/").filter(Boolean).pop();
  if (!segment) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Adds an extension from the content type when the name has none. */
export function withExtension(name: string, contentType: string | undefined): string {
  if (EXTENSION.test(name) || !contentType) return name;
  const mime = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  const ext = EXTENSION_BY_MIME[mime];
  return ext ? truncateName(name + ext) : name;
}

/**
 * A safe single path component: the last one of `raw`, no separators, no "..", no control or bidi-override
 * characters (which can fake an extension), no leading dots (hidden files), at most MAX_NAME_BYTES of UTF-8.
 * Returns "" when nothing is left.
 */
export function sanitizeFileName(raw: string): string {
  // Only the last path component counts (RFC 6266: recipients strip directory information).
  let name = (raw.normalize("NFC").split(/[/\\]/).pop() ?? "").trim();
  name = name.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, "");
  // Separators and characters other systems (and Telegram clients saving files) choke on.
  name = name.replace(/[/\\:*?"<>|]/g, "_");
  name = name.replace(/\s+/g, " ");
  name = name.replace(/\.{2,}/g, ".");
  name = name.replace(/^[\s.]+|[\s.]+$/g, "");
  return truncateName(name);
}

/** Cuts the name to MAX_NAME_BYTES on a character boundary, keeping the extension. */
export function truncateName(name: string, maxBytes = MAX_NAME_BYTES): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  const ext = EXTENSION.exec(name)?.[0] ?? "";
  const keepExt = Buffer.byteLength(ext) < maxBytes / 2 ? ext : "";
  const base = keepExt ? name.slice(0, -keepExt.length) : name;
  let budget = maxBytes - Buffer.byteLength(keepExt);
  let out = "";
  // Iterating a string yields whole code points, so surrogate pairs are never split.
  for (const char of base) {
    const bytes = Buffer.byteLength(char);
    if (bytes > budget) break;
    out += char;
    budget -= bytes;
  }
  return out.replace(/[\s.]+$/, "") + keepExt;
}
