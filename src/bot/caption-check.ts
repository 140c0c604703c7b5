/**
 * A caption template the user typed in /settings, checked before it is saved: valid Telegram HTML, only known
 * {placeholders}, and at most 1024 characters once a sample file's values are filled in. The preview is the
 * template rendered from that sample, as the user's files will show it.
 */
import { type CaptionValues, PLACEHOLDERS, renderCaption, validateTemplate } from "../jobs/caption.js";
import { CAPTION_LIMIT, visibleLength } from "../jobs/telegram-html.js";
import type { Translate } from "./i18n/translate.js";

/** The file every preview shows: a long-ish name, a size in GiB, an hour-long video from a batch. */
export const SAMPLE_FILE: CaptionValues = {
  name: "Lecture 01 — Introduction.mp4",
  size: 1_610_612_736,
  duration: 3723,
  quality: 720,
  source: "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
  index: 3,
  total: 12,
  date: "2026-11-25T10:00:00.000Z",
  part: null,
};

/** A template longer than a message cannot have been typed; bounds the work on one. */
const MAX_TEMPLATE_CHARS = 4096;
/** Renders without shortening, to tell how long the caption would really be. */
const NO_LIMIT = 1_000_000;

export type TemplateCheck = { ok: true; preview: string } | { ok: false; reasons: string[] };

export function checkTemplate(template: string, t: Translate): TemplateCheck {
  if (template.length > MAX_TEMPLATE_CHARS) {
    return {
      ok: false,
      reasons: [t("settings.caption.tooLong", { length: template.length, max: CAPTION_LIMIT })],
    };
  }
  const reasons: string[] = [];
  const unknown = [...new Set([...template.matchAll(/\{([A-Za-z_]\w*)\}/g)].map((m) => m[1]!))].filter(
    (name) => !(PLACEHOLDERS as readonly string[]).includes(name),
  );
  for (const name of unknown) {
    reasons.push(t("settings.caption.unknown", { name: `{${name}}`, known: knownPlaceholders() }));
  }
  for (const problem of validateTemplate(template, { limit: NO_LIMIT })) {
    reasons.push(
      t("settings.caption.problem", { line: problem.line, column: problem.column, problem: problem.message }),
    );
  }
  if (reasons.length > 0) return { ok: false, reasons };
  const full = renderCaption(template, SAMPLE_FILE, { limit: NO_LIMIT });
  const length = visibleLength(full);
  if (length > CAPTION_LIMIT) {
    return { ok: false, reasons: [t("settings.caption.tooLong", { length, max: CAPTION_LIMIT })] };
  }
  return { ok: true, preview: full };
}

export function knownPlaceholders(): string {
  return PLACEHOLDERS.map((p) => `{${p}}`).join(" ");
}
