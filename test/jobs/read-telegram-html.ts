/**
 * A reader of Telegram HTML written apart from src/ so the tests check what a user would see, not the code with
 * itself: the visible text, the tags with their text, and the links. It throws on anything Telegram would refuse
 * (an unknown or unbalanced tag, a bare "&" or "<").
 */
const KNOWN = new Set(["b", "i", "u", "s", "code", "pre", "a", "blockquote", "tg-spoiler"]);
const TOKEN =
  /<(\/?)([a-z-]+)((?:\s+[a-z-]+(?:="[^"]*")?)*)>|&(lt|gt|amp|quot|#\d+|#x[0-9a-f]+);|([<&])|([^<&]+)/giy;

export interface Read {
  text: string;
  /** Each element with the visible text inside it, in the order they close. */
  elements: Array<{ tag: string; text: string; href?: string }>;
}

export function readHtml(html: string): Read {
  let text = "";
  const elements: Read["elements"] = [];
  const open: Array<{ tag: string; start: number; href?: string }> = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(html); m; m = TOKEN.exec(html)) {
    if (m[2]) {
      const tag = m[2].toLowerCase();
      if (!KNOWN.has(tag)) throw new Error(`unknown tag <${tag}> in ${html}`);
      if (m[1]) {
        const top = open.pop();
        if (top?.tag !== tag) throw new Error(`</${tag}> closes <${top?.tag}> in ${html}`);
        elements.push({
          tag,
          text: text.slice(top.start),
          ...(top.href === undefined ? {} : { href: top.href }),
        });
      } else {
        const href = /href="([^"]*)"/.exec(m[3] ?? "")?.[1];
        open.push({ tag, start: text.length, ...(href === undefined ? {} : { href: decode(href) }) });
      }
    } else if (m[4]) {
      text += decode(m[0]);
    } else if (m[5]) {
      throw new Error(`bare "${m[5]}" at ${m.index} in ${html}`);
    } else {
      text += m[6];
    }
  }
  if (open.length > 0) throw new Error(`<${open[0]?.tag}> never closed in ${html}`);
  return { text, elements };
}

function decode(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|#\d+|#x[0-9a-f]+);/gi, (_, e: string) => {
    if (e === "lt") return "<";
    if (e === "gt") return ">";
    if (e === "amp") return "&";
    if (e === "quot") return '"';
    return String.fromCodePoint(e[1] === "x" ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)));
  });
}

/** The visible text, as Telegram counts it (UTF-16 units). */
export function visible(html: string): string {
  return readHtml(html).text;
}
