/**
 * Batch files: a .txt list of links, one per line, each optionally named ("Lecture 1: https://…"). Bad lines are
 * reported by number while the good ones go ahead; whole-file problems (too big, too long, bad range) are errors.
 */
import { UserError } from "../errors.js";
import { displayUrl } from "../logger.js";

/** A batch is a list for a person to write; past this it is a mistake or an abuse. */
export const MAX_BATCH_BYTES = 1024 * 1024;
export const MAX_BATCH_LINES = 1000;
/** Longer than any sane link; keeps one line from holding the parser. */
const MAX_LINE_CHARS = 8192;

export interface BatchEntry {
  /** 1-based line number in the file. */
  line: number;
  url: string;
  /** The name written before the link, when any (sanitised later, with the download). */
  name: string | undefined;
}

export interface BatchProblem {
  line: number;
  /** English, for logs and the CLI. */
  message: string;
  /** The catalog text a chat sees instead, and its params. */
  key?: string;
  params?: Readonly<Record<string, string | number>>;
}

export interface BatchDuplicate {
  line: number;
  /** The line that has the same link first. */
  firstLine: number;
  url: string;
}

export interface ParsedBatch {
  /** Valid, unique links in file order (after the range, when one was given). */
  entries: BatchEntry[];
  /** Lines that are neither blank, comment nor a link, by line number. */
  invalid: BatchProblem[];
  /** Repeated links, left out of `entries`. */
  duplicates: BatchDuplicate[];
  /** Valid unique links before the range was applied. */
  totalValid: number;
}

export interface BatchOptions {
  /** "3-10", "5-" or "7": 1-based, inclusive, over the valid unique links. */
  range?: string | undefined;
  /** @default MAX_BATCH_LINES */
  maxLines?: number;
  /** @default MAX_BATCH_BYTES */
  maxBytes?: number;
}

/** "name: url", "name:url" or a bare url; the separator is the last colon before the link's scheme. */
const NAMED_LINE = /^(.*?)\s*:\s*([a-z][a-z0-9+.-]*:\/\/\S*)$/i;
const BARE_URL = /^[a-z][a-z0-9+.-]*:\/\/\S*$/i;

export function parseBatch(input: Buffer | string, options: BatchOptions = {}): ParsedBatch {
  const maxBytes = options.maxBytes ?? MAX_BATCH_BYTES;
  const maxLines = options.maxLines ?? MAX_BATCH_LINES;
  const bytes = typeof input === "string" ? Buffer.byteLength(input) : input.length;
  if (bytes > maxBytes) {
    throw new UserError("BATCH_TOO_LARGE", `Batch file is ${bytes} bytes, over ${maxBytes}`, {
      userMessage: `The list is too big: at most ${Math.floor(maxBytes / 1024)} KiB.`,
      params: { max: `${Math.floor(maxBytes / 1024)} KiB` },
      hint: "Split it into several files.",
    });
  }
  const text = (typeof input === "string" ? input : input.toString("utf8")).replace(/^\ufeff/, "");
  const lines = text.split(/\r\n|\n|\r/);
  // A final newline does not make another line.
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  if (lines.length > maxLines) {
    throw new UserError("BATCH_TOO_MANY_LINES", `Batch file has ${lines.length} lines, over ${maxLines}`, {
      userMessage: `The list has ${lines.length} lines; at most ${maxLines} are accepted.`,
      params: { lines: lines.length, max: maxLines },
      hint: "Split it into several files.",
    });
  }

  const valid: BatchEntry[] = [];
  const invalid: BatchProblem[] = [];
  const duplicates: BatchDuplicate[] = [];
  const seen = new Map<string, number>();
  lines.forEach((raw, index) => {
    const line = index + 1;
    const text = raw.trim();
    if (!text || text.startsWith("#")) return;
    if (text.length > MAX_LINE_CHARS) {
      invalid.push({
        line,
        message: `longer than ${MAX_LINE_CHARS} characters`,
        key: "err.BATCH_LINE_TOO_LONG",
        params: { max: MAX_LINE_CHARS },
      });
      return;
    }
    const parsed = parseLine(text);
    if ("error" in parsed) {
      invalid.push({ line, message: parsed.error, key: parsed.key, params: parsed.params });
      return;
    }
    const first = seen.get(parsed.url);
    if (first !== undefined) {
      duplicates.push({ line, firstLine: first, url: parsed.url });
      return;
    }
    seen.set(parsed.url, line);
    valid.push({ line, url: parsed.url, name: parsed.name });
  });

  const entries = options.range === undefined ? valid : applyRange(valid, options.range);
  return { entries, invalid, duplicates, totalValid: valid.length };
}

type LineError = { error: string; key: string; params: Record<string, string> };

function parseLine(text: string): { url: string; name: string | undefined } | LineError {
  let name: string | undefined;
  let link: string;
  if (BARE_URL.test(text)) {
    link = text;
  } else {
    const match = NAMED_LINE.exec(text);
    if (!match) {
      return {
        error: "no link found (expected “name: https://…” or a link)",
        key: "err.BATCH_LINE_NO_LINK",
        params: {},
      };
    }
    name = match[1]?.trim() || undefined;
    link = match[2] ?? "";
  }
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    const shown = displayUrl(link).slice(0, 100);
    return { error: `not a valid link: ${shown}`, key: "err.BATCH_LINE_BAD_LINK", params: { link: shown } };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    const scheme = url.protocol.replace(/:$/, "");
    return {
      error: `only http and https links, not ${scheme}`,
      key: "err.BATCH_LINE_SCHEME",
      params: { scheme },
    };
  }
  return { url: url.href, name };
}

/** Parses "a-b", "a-" or "a" (1-based, inclusive) and returns those entries. */
export function applyRange<T>(entries: T[], range: string): T[] {
  const match = /^\s*(\d{1,7})\s*(?:(-)\s*(\d{1,7})?)?\s*$/.exec(range);
  const start = Number(match?.[1]);
  const end = match?.[3] !== undefined ? Number(match[3]) : match?.[2] ? entries.length : start;
  // "9-" of a 3-link list is a range past the end, not a malformed one: say so before the order check.
  if (!match || start < 1 || (end < start && start <= entries.length)) {
    throw new UserError("BATCH_BAD_RANGE", `Bad range "${range}"`, {
      userMessage: `“${range.slice(0, 40)}” is not a range; write it as start-end, such as 3-10.`,
      params: { range: range.slice(0, 40) },
    });
  }
  if (start > entries.length) {
    throw new UserError("BATCH_BAD_RANGE", `Range starts at ${start} of ${entries.length}`, {
      userMessage: `The list has only ${entries.length} links; the range starts at ${start}.`,
      key: "err.BATCH_RANGE_START",
      params: { count: entries.length, start },
    });
  }
  return entries.slice(start - 1, Math.min(end, entries.length));
}
