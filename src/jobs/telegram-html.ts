/**
 * Telegram HTML (parse mode "HTML"): escaping, a small parser, the length Telegram counts, and truncation that
 * keeps the markup valid. Telegram limits a caption or a message by its visible text, after tags and entities are
 * parsed, in UTF-16 code units: `<b>a &amp; b</b>` is 5 long, "😀" is 2.
 *
 * Everything here works on parsed text, never on raw HTML: a cut can land neither inside a tag nor inside an
 * entity, and cuts fall between grapheme clusters, so neither a surrogate pair nor an emoji sequence is split.
 */

/** Telegram's limit on a media caption (non-Premium senders; Premium has 2048). */
export const CAPTION_LIMIT = 1024;
/** Telegram's limit on a text message. */
export const MESSAGE_LIMIT = 4096;
/** What a shortened text ends with: one UTF-16 unit, where "..." would cost three. */
export const ELLIPSIS = "…";

/** The tags Telegram's HTML parse mode knows (the Bot API's aliases like <strong> are left out on purpose). */
export const TAGS = ["b", "i", "u", "s", "code", "pre", "a", "blockquote", "tg-spoiler"] as const;
export type Tag = (typeof TAGS)[number];

export type HtmlNode =
  | { kind: "text"; text: string; offset: number }
  | { kind: "open"; name: string; raw: string; offset: number }
  | { kind: "close"; name: string; raw: string; offset: number };

export interface HtmlProblem {
  /** Where it is, in UTF-16 units from the start of the input. */
  offset: number;
  message: string;
}

export interface ParsedHtml {
  /** Text nodes hold decoded text ("&amp;" is "&"); adjacent text is merged. */
  nodes: HtmlNode[];
  /** Empty when Telegram would accept the input. The nodes are still usable when it is not. */
  problems: HtmlProblem[];
}

/** Text for an HTML text node or a double-quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITY_OF[c] ?? c);
}

const ENTITY_OF: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

// Bidi embeddings, overrides, isolates and marks: a name holding U+202E can reverse the text after it.
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
// C0 and C1 controls and Unicode line breaks: a line break inside a value could fake another line of the card.
const CONTROLS = /[\u0000-\u001F\u007F-\u009F\u2028\u2029]/g;
// Half a surrogate pair is not valid UTF-8: Telegram would refuse the whole message.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * One line of someone else's text, made safe to put inside a message: bidi controls removed, control characters and
 * line breaks turned into spaces, broken surrogates replaced with U+FFFD, ends trimmed. Everything else stays as
 * written (zero-width joiners included: emoji sequences need them). Escape the result with `escapeHtml`.
 */
export function plainText(text: string): string {
  return text.replace(BIDI_CONTROLS, "").replace(CONTROLS, " ").replace(LONE_SURROGATE, "\uFFFD").trim();
}

const TAG =
  /<(\/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z][A-Za-z0-9-]*(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*(\/?)>/y;
const ATTRIBUTE = /([A-Za-z][A-Za-z0-9-]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?/g;
const ENTITY = /&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9A-Fa-f]{1,6}));/y;
const NAMED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"' };
const TAG_LIST = TAGS.map((t) => `<${t}>`).join(", ");

/** Parses Telegram HTML, reporting what Telegram would refuse (unknown or unbalanced tags, a bare "&" or "<"). */
export function parseHtml(html: string): ParsedHtml {
  const nodes: HtmlNode[] = [];
  const problems: HtmlProblem[] = [];
  const open: Array<{ name: string; offset: number }> = [];
  let text = "";
  let textStart = 0;
  const addText = (chars: string, at: number) => {
    if (!text) textStart = at;
    text += chars;
  };
  const flush = () => {
    if (text) nodes.push({ kind: "text", text, offset: textStart });
    text = "";
  };

  for (let i = 0; i < html.length; ) {
    const char = html[i]!;
    if (char === "<") {
      TAG.lastIndex = i;
      const m = TAG.exec(html);
      if (m) {
        flush();
        const raw = m[0];
        const name = m[2]!.toLowerCase();
        if (m[1]) {
          nodes.push({ kind: "close", name, raw, offset: i });
          closeTag(name, i, open, problems);
        } else {
          nodes.push({ kind: "open", name, raw, offset: i });
          if (m[4])
            problems.push({ offset: i, message: `<${name}/> is not understood: write <${name}></${name}>` });
          checkOpenTag(name, m[3] ?? "", i, open, problems);
          open.push({ name, offset: i });
        }
        i = TAG.lastIndex;
        continue;
      }
      problems.push({ offset: i, message: 'A "<" that does not start a tag must be written &lt;' });
    } else if (char === "&") {
      ENTITY.lastIndex = i;
      const m = ENTITY.exec(html);
      if (m) {
        const decoded = decodeEntity(m);
        if (decoded === undefined) problems.push({ offset: i, message: `${m[0]} is not a character` });
        addText(decoded ?? "\uFFFD", i);
        i = ENTITY.lastIndex;
        continue;
      }
      problems.push({
        offset: i,
        message: 'A "&" that does not start &lt; &gt; &amp; &quot; or &#…; must be written &amp;',
      });
    }
    addText(char, i);
    i++;
  }
  flush();
  for (const tag of open) problems.push({ offset: tag.offset, message: `<${tag.name}> is never closed` });
  problems.sort((a, b) => a.offset - b.offset);
  return { nodes, problems };
}

function decodeEntity(m: RegExpExecArray): string | undefined {
  if (m[1]) return NAMED[m[1]];
  const code = m[2] ? Number(m[2]) : Number.parseInt(m[3]!, 16);
  if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined;
  return String.fromCodePoint(code);
}

function checkOpenTag(
  name: string,
  attributeText: string,
  offset: number,
  open: ReadonlyArray<{ name: string }>,
  problems: HtmlProblem[],
): void {
  if (!(TAGS as readonly string[]).includes(name)) {
    problems.push({ offset, message: `<${name}> is not a tag Telegram knows; use ${TAG_LIST}` });
    return;
  }
  const attributes = new Map<string, string>();
  for (const a of attributeText.matchAll(ATTRIBUTE)) {
    attributes.set(a[1]!.toLowerCase(), (a[2] ?? "").replace(/^["']|["']$/g, ""));
  }
  const parent = open[open.length - 1]?.name;
  const allowed =
    name === "a"
      ? ["href"]
      : name === "blockquote"
        ? ["expandable"]
        : name === "code" && parent === "pre"
          ? ["class"]
          : [];
  for (const key of attributes.keys()) {
    if (!allowed.includes(key)) problems.push({ offset, message: `<${name}> does not take ${key}="…"` });
  }
  if (name === "a" && !attributes.get("href")) problems.push({ offset, message: '<a> needs href="…"' });
  const inside = (tag: string) => open.some((t) => t.name === tag);
  if ((inside("pre") || inside("code")) && !(name === "code" && parent === "pre")) {
    problems.push({ offset, message: `<${name}> cannot be inside <${inside("code") ? "code" : "pre"}>` });
  } else if ((name === "a" || name === "blockquote") && inside(name)) {
    problems.push({ offset, message: `<${name}> cannot be inside another <${name}>` });
  }
}

function closeTag(
  name: string,
  offset: number,
  open: Array<{ name: string; offset: number }>,
  problems: HtmlProblem[],
): void {
  const top = open[open.length - 1];
  if (top?.name === name) {
    open.pop();
    return;
  }
  const at = open.map((t) => t.name).lastIndexOf(name);
  if (at < 0) {
    problems.push({ offset, message: `</${name}> closes nothing: there is no <${name}> open` });
    return;
  }
  problems.push({ offset, message: `</${name}> comes before </${top!.name}>: close <${top!.name}> first` });
  open.length = at;
}

/** The text a reader sees: tags removed, entities decoded. */
export function visibleText(html: string): string {
  let text = "";
  for (const node of parseHtml(html).nodes) if (node.kind === "text") text += node.text;
  return text;
}

/** What Telegram counts against its limits: UTF-16 units of the visible text. */
export function visibleLength(html: string): number {
  return visibleText(html).length;
}

const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });
/** Enough text past a cut to tell whether the cut splits a grapheme (a lone half of a pair looks like a break). */
const SEGMENT_LOOKAHEAD = 32;

/** The longest start of `text` at most `units` UTF-16 units long that ends between two grapheme clusters. */
export function cutText(text: string, units: number): string {
  if (text.length <= units) return text;
  let end = 0;
  for (const { segment } of graphemes.segment(text.slice(0, units + SEGMENT_LOOKAHEAD))) {
    if (end + segment.length > units) break;
    end += segment.length;
  }
  return text.slice(0, end);
}

/** `text` itself when it fits `max` units, else its start with an ellipsis, `max` units at most. */
export function truncateText(text: string, max: number, ellipsis = ELLIPSIS): string {
  if (text.length <= max) return text;
  if (max < ellipsis.length) return cutText(ellipsis, max);
  return cutText(text, max - ellipsis.length).trimEnd() + ellipsis;
}

/**
 * `html` itself when its visible text fits `max`, else its visible text cut to fit with an ellipsis; tags opened
 * before the cut are closed, tags after it dropped. The result is always valid when the input was.
 */
export function truncateHtml(html: string, max: number, ellipsis = ELLIPSIS): string {
  const { nodes } = parseHtml(html);
  let total = 0;
  for (const node of nodes) if (node.kind === "text") total += node.text.length;
  if (total <= max) return html;
  let budget = Math.max(0, max - ellipsis.length);
  const open: string[] = [];
  let out = "";
  for (const node of nodes) {
    if (node.kind === "open") {
      out += node.raw;
      open.push(node.name);
    } else if (node.kind === "close") {
      out += node.raw;
      const at = open.lastIndexOf(node.name);
      if (at >= 0) open.length = at;
    } else if (node.text.length <= budget) {
      out += escapeHtml(node.text);
      budget -= node.text.length;
    } else {
      out += escapeHtml(cutText(node.text, budget).trimEnd()) + cutText(ellipsis, max);
      break;
    }
  }
  for (const name of open.reverse()) out += `</${name}>`;
  return out;
}

/**
 * Renders, then shortens values until the visible text fits `limit`: the first field of `order` is cut to the
 * longest start (with an ellipsis) that makes everything fit, or down to the ellipsis alone and then the next field,
 * and so on. A field may appear several times in the output. Values are plain text; `render` escapes them. When no
 * value can shrink any more, the markup itself is cut as a last resort (`truncateHtml`).
 */
export function fitToLimit<K extends string>(
  values: Readonly<Record<K, string>>,
  order: readonly K[],
  limit: number,
  render: (values: Readonly<Record<K, string>>) => string,
): string {
  const current: Record<K, string> = { ...values };
  // A value longer than the limit is never shown whole: cutting it first gives the same result, and keeps every
  // render below small however large the input (a 1 MB name would otherwise be segmented at each step).
  for (const field of order) current[field] = truncateText(current[field], limit);
  const fits = () => visibleLength(render(current)) <= limit;
  for (const field of order) {
    if (fits()) return render(current);
    const value = current[field];
    if (value.length <= ELLIPSIS.length) continue;
    // The visible length grows with the length kept, so the longest that fits is found by bisection.
    let lo = ELLIPSIS.length; // kept when nothing longer fits
    let hi = value.length - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      current[field] = truncateText(value, mid);
      if (fits()) lo = mid;
      else hi = mid - 1;
    }
    current[field] = truncateText(value, lo);
  }
  const html = render(current);
  return truncateHtml(html, limit);
}
