/**
 * The one place an error becomes words in a chat: its catalog text (`err.<code>` or the key it names) in the
 * reader's language, filled with its params. An error with no catalog text (none should reach a chat: the catalog
 * test checks every code thrown under src/) says its English userMessage rather than nothing.
 */
import { type ErrorParams, userFacing } from "../errors.js";
import { escapeHtml, plainText } from "../jobs/telegram-html.js";
import { en, type MessageKey } from "./i18n/en.js";
import { placeholders, type Translate } from "./i18n/translate.js";

export interface WordedError {
  code: string;
  /** A catalog key; unknown keys fall back to `fallback`. */
  key: string | null | undefined;
  params: ErrorParams | null | undefined;
  /** English text for when the catalog has none. */
  fallback: string;
}

export function isCatalogKey(key: string): key is MessageKey {
  return Object.hasOwn(en, key);
}

/** Catalog HTML for `error`, in the language of `t`. */
export function errorText(t: Translate, error: WordedError): string {
  const key = error.key ?? `err.${error.code}`;
  if (isCatalogKey(key)) return t(key, error.params ?? {});
  return error.fallback
    .split("\n")
    .map((line) => escapeHtml(plainText(line)))
    .join("\n");
}

/** Catalog HTML for anything thrown: ours in its words, anything else the generic sorry. */
export function thrownText(t: Translate, thrown: unknown): string {
  const facing = userFacing(thrown);
  return errorText(t, {
    code: facing.code,
    key: facing.key,
    params: facing.params,
    fallback: facing.hint ? `${facing.text}\n${facing.hint}` : facing.text,
  });
}

/** What a failed job's row says, in the reader's language (key and params saved with the failure). */
export function jobFailureText(
  t: Translate,
  job: {
    error_code: string | null;
    error_message: string | null;
    error_key?: string | null;
    error_params?: string | null;
  },
): string {
  let params: ErrorParams = {};
  try {
    params = job.error_params ? (JSON.parse(job.error_params) as ErrorParams) : {};
  } catch {
    params = {}; // a row written by hand: the text without its values is still better than nothing
  }
  // A row without a key (failed before migration 0011, or ABANDONED) is worded by its code unless that text
  // needs params the row does not have: then its English message says more than "{limit}".
  const byCode = `err.${job.error_code ?? "UNKNOWN"}`;
  const key = job.error_key ?? (isCatalogKey(byCode) && placeholders(en[byCode]).length > 0 ? null : byCode);
  if (key === null) return errorText(t, { code: "", key: "", params: {}, fallback: job.error_message ?? "" });
  return errorText(t, {
    code: job.error_code ?? "UNKNOWN",
    key,
    params,
    fallback: job.error_message ?? job.error_code ?? "",
  });
}
