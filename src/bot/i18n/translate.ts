/**
 * Picks a catalog by the user's Telegram language code and fills in {params}. Catalog texts are Telegram HTML;
 * params are someone else's text (names, links, reasons) and are made one plain line and escaped, so they render
 * literally. A param that is itself our own HTML (a list built from catalog lines) is passed as `html(...)`.
 */
import { escapeHtml, plainText } from "../../jobs/telegram-html.js";
import { type Catalog, en, type MessageKey } from "./en.js";
import { ru } from "./ru.js";

export const CATALOGS = { en, ru } as const satisfies Record<string, Catalog>;
export type Language = keyof typeof CATALOGS;
export const LANGUAGES = Object.keys(CATALOGS) as Language[];
export const DEFAULT_LANGUAGE: Language = "en";

/** HTML we built ourselves, passed through unescaped. */
export interface Html {
  readonly html: string;
}
export function html(text: string): Html {
  return { html: text };
}

export type Params = Readonly<Record<string, string | number | Html>>;
export type Translate = (key: MessageKey, params?: Params) => string;

/** "ru", "ru-RU", "RU" → ru; anything without a catalog → English. */
export function pickLanguage(code: string | undefined): Language {
  const base = (code ?? "").toLowerCase().split(/[-_]/)[0] ?? "";
  return (LANGUAGES as string[]).includes(base) ? (base as Language) : DEFAULT_LANGUAGE;
}

export function translator(language: Language): Translate {
  const catalog: Catalog = CATALOGS[language];
  return (key, params = {}) =>
    catalog[key].replace(/\{(\w+)\}/g, (whole, name: string) => {
      const value = params[name];
      if (value === undefined) return whole;
      if (typeof value === "object") return value.html;
      return escapeHtml(plainText(String(value)));
    });
}

/** The {placeholders} a text uses, for the catalog test. */
export function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))].sort();
}
