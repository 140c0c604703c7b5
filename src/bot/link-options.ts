/**
 * What may follow a link on its line, each part after a bar:
 *
 *   https://… | audio                 the sound alone
 *   https://… | subs                  subtitles embedded in the video (same as "subs embed")
 *   https://… | subs file             subtitles sent as files next to the video
 *   https://… | trim 1:00-2:30        only that part ("trim 90-" to the end, "trim -0:30" from the start)
 *   https://… | name: audio notes     an explicit new name (for names that start with a keyword)
 *   https://… | My talk.mp4           any other part is the new name, as before
 *
 * A part is an option when its first word is audio, subs or trim (any case); such a part must then be exactly one of
 * the forms above, or the line is refused with what is accepted — so a mistyped option never becomes a file name.
 * Parts combine in any order: "https://… | trim 0:10-0:20 | subs file | Clip one".
 */

export interface LinkOptions {
  audio?: true;
  subtitles?: "embed" | "file";
  /** Seconds; an end of undefined means to the end. */
  trim?: { start: number; end?: number };
}

/** Why a line's options were refused: an i18n key ("options.<code>") and the part as written. */
export interface OptionError {
  code: "audio" | "subs" | "trim" | "trimOrder" | "twoNames" | "audioSubs" | "emptyName";
  part: string;
}

export type ParsedParts =
  | { ok: true; name: string | undefined; options: LinkOptions }
  | { ok: false; error: OptionError };

const KEYWORD = /^(audio|subs|trim)(?:\s|$)/i;
const NAME_PREFIX = /^name:\s*/i;
/** A time: seconds, m:ss or h:mm:ss, with an optional fraction of a second. */
const TIME = /^(?:(?:(\d{1,3}):)?([0-5]?\d):)?(\d+(?:\.\d{1,3})?)$/;

export function parseParts(parts: readonly string[]): ParsedParts {
  let name: string | undefined;
  const options: LinkOptions = {};
  for (const raw of parts) {
    const part = raw.trim();
    if (part === "") continue;
    const named = NAME_PREFIX.exec(part);
    const keyword = named ? undefined : KEYWORD.exec(part)?.[1]?.toLowerCase();
    if (!keyword) {
      const value = named ? part.slice(named[0].length).trim() : part;
      if (value === "") return fail("emptyName", part);
      if (name !== undefined) return fail("twoNames", part);
      name = value;
      continue;
    }
    const words = part.split(/\s+/).slice(1);
    if (keyword === "audio") {
      if (words.length > 0) return fail("audio", part);
      options.audio = true;
    } else if (keyword === "subs") {
      const mode = words[0]?.toLowerCase() ?? "embed";
      if (words.length > 1 || (mode !== "embed" && mode !== "file")) return fail("subs", part);
      options.subtitles = mode;
    } else {
      const trim = words.length === 1 ? parseRange(words[0] as string) : undefined;
      if (trim === undefined) return fail("trim", part);
      if (trim === "order") return fail("trimOrder", part);
      options.trim = trim;
    }
  }
  if (options.audio && options.subtitles) return fail("audioSubs", parts.join("|").trim());
  return { ok: true, name, options };
}

function fail(code: OptionError["code"], part: string): ParsedParts {
  return { ok: false, error: { code, part: part.slice(0, 100) } };
}

function parseRange(text: string): LinkOptions["trim"] | "order" | undefined {
  const dash = text.indexOf("-");
  if (dash < 0) return undefined;
  const startText = text.slice(0, dash);
  const endText = text.slice(dash + 1);
  if (startText === "" && endText === "") return undefined;
  const start = startText === "" ? 0 : parseTime(startText);
  const end = endText === "" ? undefined : parseTime(endText);
  if (start === undefined || (endText !== "" && end === undefined)) return undefined;
  if (end !== undefined && end <= start) return "order";
  return end === undefined ? { start } : { start, end };
}

/** Seconds of "90", "1:30", "1:02:03.5"; undefined when it is not a time. */
export function parseTime(text: string): number | undefined {
  const m = TIME.exec(text);
  if (!m) return undefined;
  const [, hours, minutes, seconds] = m;
  // "75" alone is 75 seconds; after a colon seconds stay under 60.
  if (minutes !== undefined && Number(seconds) >= 60) return undefined;
  return Number(hours ?? 0) * 3600 + Number(minutes ?? 0) * 60 + Number(seconds);
}
