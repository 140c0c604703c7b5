/**
 * The caption under a delivered file, from a template the user may edit:
 * `<b>{name}</b>\n{size} • {duration} • {quality}` becomes "**Lecture 1.mp4**\n1.5 GiB • 1:02:03 • 720p".
 *
 * - Placeholders: {name} {size} {duration} {quality} {source} {index} {total} {date} {part}. Any other `{word}`
 *   stays as written. Values are plain text and escaped; the template may use Telegram's tags (`validateTemplate`).
 * - A missing value renders empty and takes its separators with it (see `tidy`).
 * - A file split into parts says "part 2/5": where the template has {part}, else on a last line of its own.
 * - The visible text is at most 1024 UTF-16 units: the name is shortened first (with an ellipsis), then the longest
 *   other value; the markup is never cut unless the template's own text is too long.
 */
import { UserError } from "../errors.js";
import type { Quality } from "../lib/quality.js";
import { formatBytes } from "../lib/size.js";
import {
  CAPTION_LIMIT,
  escapeHtml,
  fitToLimit,
  type HtmlNode,
  type HtmlProblem,
  parseHtml,
  plainText,
  TAGS,
} from "./telegram-html.js";

export const PLACEHOLDERS = [
  "name",
  "size",
  "duration",
  "quality",
  "source",
  "index",
  "total",
  "date",
  "part",
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** The name in bold, then what a user checks before opening a file. */
export const DEFAULT_CAPTION_TEMPLATE = "<b>{name}</b>\n{size} • {duration} • {quality}";

/** Every value may be missing (undefined or null): it renders empty and the template is tidied around it. */
export interface CaptionValues {
  /** The file's name as shown: "Lecture 1.mp4". */
  name?: string | null;
  /** Bytes, shown as "1.5 GiB". */
  size?: number | null;
  /** Seconds, shown as "1:02:03", or "4:05" under an hour. */
  duration?: number | null;
  /** The delivered height (720 → "720p"), or the quality asked for ("720" → "720p", "audio"; "best" shows nothing). */
  quality?: Quality | number | null;
  /** The link it came from: only the site's host is shown ("youtube.com"), never credentials, path or query. */
  source?: string | null;
  /** 1-based position within a batch. */
  index?: number | null;
  /** How many links the batch has. */
  total?: number | null;
  /** When it was delivered: shown as its UTC date, "2026-11-25". */
  date?: Date | string | null;
  /** Which part of a file split to fit Telegram's size limit; a file in one piece says nothing. */
  part?: { index: number; count: number } | null;
}

export interface CaptionOptions {
  /** Visible UTF-16 units allowed. @default CAPTION_LIMIT (1024) */
  limit?: number;
}

export interface TemplateProblem {
  /** UTF-16 offset into the template. */
  offset: number;
  /** 1-based line and column (in characters as a person counts them) for the message to the user. */
  line: number;
  column: number;
  message: string;
}

/** "1:02:03" from 3723 seconds, "4:05" under an hour; "" when it is not a duration. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "";
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** "720p" from 720 or "720", "audio" from "audio"; "" for "best", which says what was asked, not what came. */
export function qualityLabel(quality: Quality | number | null | undefined): string {
  if (quality === null || quality === undefined || quality === "best") return "";
  if (quality === "audio") return "audio";
  const height = Number(quality);
  return Number.isInteger(height) && height > 0 ? `${height}p` : "";
}

/**
 * The site a link points to, as people say it: "youtube.com" from "https://user:pw@www.youtube.com/watch?v=1".
 * Internationalised names stay in their ASCII (punycode) form, which cannot pass for another site. "" when the
 * text is not a URL with a host.
 */
export function sourceHost(url: string): string {
  try {
    return new URL(url).hostname.replace(/^www\./, "");
  } catch {
    return "";
  }
}

/** "2026-11-25": the UTC date; "" when it is not a date. */
export function formatDate(date: Date | string): string {
  const d = typeof date === "string" ? new Date(date) : date;
  return Number.isNaN(d.getTime()) ? "" : d.toISOString().slice(0, 10);
}

/** The text each placeholder stands for: plain (not escaped), "" when missing. */
export function placeholderTexts(values: CaptionValues): Record<Placeholder, string> {
  const count = (n: number | null | undefined) => (Number.isSafeInteger(n) && n! > 0 ? String(n) : "");
  const part = values.part;
  return {
    name: values.name ? plainText(values.name) : "",
    size: typeof values.size === "number" && values.size >= 0 ? formatBytes(values.size) : "",
    duration: typeof values.duration === "number" ? formatDuration(values.duration) : "",
    quality: qualityLabel(values.quality),
    source: values.source ? sourceHost(values.source) : "",
    index: count(values.index),
    total: count(values.total),
    date: values.date ? formatDate(values.date) : "",
    part:
      part && part.count > 1 && part.index >= 1 && part.index <= part.count
        ? `part ${part.index}/${part.count}`
        : "",
  };
}

/**
 * What is wrong with a template, in the user's terms: tags Telegram does not know or that do not balance, a bare
 * "&" or "<", or fixed text that alone passes the limit. Empty when the template can be saved.
 */
export function validateTemplate(template: string, options: CaptionOptions = {}): TemplateProblem[] {
  const limit = options.limit ?? CAPTION_LIMIT;
  const { nodes, problems } = parseHtml(template);
  const own = compile(nodes).reduce(
    (n, a) => n + (a.kind === "ph" || a.kind === "tag" ? 0 : a.text.length),
    0,
  );
  const all: HtmlProblem[] = [...problems];
  if (own > limit) {
    all.push({
      offset: 0,
      message: `The template's own text is ${own} characters long; a caption holds at most ${limit}`,
    });
  }
  return all.map((p) => ({ ...p, ...lineAndColumn(template, p.offset) }));
}

/** The error to show when a template cannot be saved (or a saved one no longer parses). */
export function captionTemplateError(problems: readonly TemplateProblem[]): UserError {
  const lines = problems.map((p) => `Line ${p.line}, column ${p.column}: ${p.message}`);
  return new UserError("CAPTION_TEMPLATE_INVALID", `Caption template invalid: ${lines.join("; ")}`, {
    userMessage: `The caption template cannot be used:\n${lines.join("\n")}`,
    hint: `Placeholders: ${PLACEHOLDERS.map((p) => `{${p}}`).join(" ")}. Tags: ${TAGS.map((t) => `<${t}>`).join(" ")}.`,
    params: {
      problems: lines.join("\n"),
      placeholders: PLACEHOLDERS.map((p) => `{${p}}`).join(" "),
      tags: TAGS.map((t) => `<${t}>`).join(" "),
    },
  });
}

/**
 * The caption for one delivered file, in Telegram HTML, at most `limit` visible units.
 * @throws UserError CAPTION_TEMPLATE_INVALID when the template is not valid Telegram HTML.
 */
export function renderCaption(template: string, values: CaptionValues, options: CaptionOptions = {}): string {
  const limit = options.limit ?? CAPTION_LIMIT;
  const { nodes, problems } = parseHtml(template);
  if (problems.length > 0) {
    throw captionTemplateError(problems.map((p) => ({ ...p, ...lineAndColumn(template, p.offset) })));
  }
  const texts = placeholderTexts(values);
  const atoms = tidy(compile(nodes), texts);
  if (texts.part && !atoms.some((a) => a.kind === "ph" && a.text === "part")) {
    // A split file always says which part it is: on a last line of its own, outside any of the template's tags.
    if (atoms.some((a) => isVisible(a, texts))) atoms.push(atom("nl", "\n"));
    atoms.push(atom("ph", "part"));
  }
  const shown = new Set(atoms.filter((a) => a.kind === "ph" && !a.gone).map((a) => a.text as Placeholder));
  const order = PLACEHOLDERS.filter((p) => p !== "name" && p !== "part" && shown.has(p)).sort(
    (a, b) => texts[b].length - texts[a].length,
  );
  if (shown.has("name")) order.unshift("name");
  return fitToLimit(texts, order, limit, (v) => render(atoms, v));
}

/** A template broken into what tidying needs to see. */
interface Atom {
  /** sep: whitespace and separator characters; open/close: a bracket; ph: a known placeholder. */
  kind: "tag" | "nl" | "word" | "sep" | "open" | "close" | "ph";
  /** Raw markup for a tag, the placeholder's name for ph, else the literal text. */
  text: string;
  /** For a tag: its name and whether it closes. */
  tag?: { name: string; closing: boolean };
  /** Removed by tidying. */
  gone: boolean;
  /** An empty value: a placeholder with nothing to show, or (on its opening bracket) a bracket group left empty. */
  empty: boolean;
}

function atom(kind: Atom["kind"], text: string): Atom {
  return { kind, text, gone: false, empty: false };
}

const SEPARATOR_CHARS = String.raw`•·|/,;–—\-`; // the body of a regex character class
const TEXT_ATOM = new RegExp(
  String.raw`\{([a-z]+)\}|(\n)|([(\[])|([)\]])|((?:[^\S\n]|[${SEPARATOR_CHARS}])+)|([^\s${SEPARATOR_CHARS}()\[\]{]+|\{)`,
  "gu",
);

function compile(nodes: readonly HtmlNode[]): Atom[] {
  const atoms: Atom[] = [];
  for (const node of nodes) {
    if (node.kind !== "text") {
      atoms.push({ ...atom("tag", node.raw), tag: { name: node.name, closing: node.kind === "close" } });
      continue;
    }
    for (const m of node.text.matchAll(TEXT_ATOM)) {
      if (m[1] !== undefined) {
        const known = (PLACEHOLDERS as readonly string[]).includes(m[1]);
        atoms.push(known ? atom("ph", m[1]) : atom("word", m[0]));
      } else if (m[2]) atoms.push(atom("nl", "\n"));
      else if (m[3]) atoms.push(atom("open", m[3]));
      else if (m[4]) atoms.push(atom("close", m[4]));
      else if (m[5]) atoms.push(atom("sep", m[5]));
      else atoms.push(atom("word", m[0]));
    }
  }
  return atoms;
}

function isVisible(a: Atom, texts: Readonly<Record<Placeholder, string>>): boolean {
  if (a.gone) return false;
  if (a.kind === "ph") return texts[a.text as Placeholder] !== "";
  return a.kind === "word" || a.kind === "open" || a.kind === "close";
}

/**
 * The tidying rule, in three steps:
 * 1. A bracket pair "(…)" or "[…]" around placeholders that all came out empty (with only separators besides) is
 *    removed and counts as one empty value.
 * 2. An empty value takes its separators with it (a separator is a run of spaces and • · | / , ; – — -): between
 *    two visible neighbours on its line the first separator stays, at the start or end of a line or bracket none
 *    does. "{size} • {duration} • {quality}" without a duration is "1.5 GiB • 720p"; without a size "4:05 • 720p".
 * 3. A line with placeholders left with nothing visible is removed with its line break.
 * Fixed text next to an empty value (a label such as "Size:") stays: the template's own words are the user's.
 * Elements left empty (`<b></b>`) are dropped.
 */
function tidy(atoms: Atom[], texts: Readonly<Record<Placeholder, string>>): Atom[] {
  for (const a of atoms) a.empty = a.kind === "ph" && texts[a.text as Placeholder] === "";

  const opens: number[] = [];
  atoms.forEach((a, i) => {
    if (a.kind === "nl") opens.length = 0;
    else if (a.kind === "open") opens.push(i);
    else if (a.kind === "close") {
      const o = opens[opens.length - 1];
      if (o === undefined || "([".indexOf(atoms[o]!.text) !== ")]".indexOf(a.text)) return;
      opens.pop();
      const inner = atoms.slice(o + 1, i);
      const hadValue = inner.some((x) => x.kind === "ph" || x.empty);
      if (!hadValue || inner.some((x) => isVisible(x, texts))) return;
      for (const x of [atoms[o]!, ...inner, a]) {
        if (x.kind === "tag") continue;
        x.gone = true;
        x.empty = false;
      }
      atoms[o]!.empty = true;
    }
  });

  const passable = (a: Atom) => a.gone || a.empty || a.kind === "tag" || a.kind === "sep";
  atoms.forEach((a, i) => {
    if (!a.empty) return;
    let l = i - 1;
    while (l >= 0 && passable(atoms[l]!)) l--;
    let r = i + 1;
    while (r < atoms.length && passable(atoms[r]!)) r++;
    // Stopped at something visible, or at the edge of the line or of a bracket pair.
    const left = atoms[l];
    const right = atoms[r];
    const keep =
      left !== undefined &&
      left.kind !== "open" &&
      left.kind !== "nl" &&
      right !== undefined &&
      right.kind !== "close" &&
      right.kind !== "nl";
    atoms
      .slice(l + 1, r)
      .filter((x) => x.kind === "sep" && !x.gone)
      .forEach((x, k) => {
        if (!(keep && k === 0)) x.gone = true;
      });
  });

  let start = 0;
  for (let i = 0; i <= atoms.length; i++) {
    if (i < atoms.length && atoms[i]!.kind !== "nl") continue;
    const line = atoms.slice(start, i);
    if (line.some((x) => x.kind === "ph") && !line.some((x) => isVisible(x, texts))) {
      for (const x of line) if (x.kind !== "tag") x.gone = true;
      const next = atoms[i];
      const previous = atoms.slice(0, start).findLast((x) => x.kind === "nl" && !x.gone);
      if (next) next.gone = true;
      else if (previous) previous.gone = true;
    }
    start = i + 1;
  }

  for (let changed = true; changed; ) {
    changed = false;
    atoms.forEach((a, i) => {
      if (a.gone || !a.tag || a.tag.closing) return;
      const next = atoms.slice(i + 1).find((x) => !x.gone && !x.empty);
      if (next?.tag?.closing && next.tag.name === a.tag.name) {
        a.gone = next.gone = changed = true;
      }
    });
  }
  return atoms;
}

function render(atoms: readonly Atom[], texts: Readonly<Record<Placeholder, string>>): string {
  let out = "";
  for (const a of atoms) {
    if (a.gone) continue;
    if (a.kind === "tag") out += a.text;
    else if (a.kind === "ph") out += escapeHtml(texts[a.text as Placeholder]);
    else out += escapeHtml(a.text);
  }
  return out;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line: before.split("\n").length, column: [...before.slice(lineStart)].length + 1 };
}
