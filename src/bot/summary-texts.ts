/**
 * A batch summary's words (src/jobs/batch-summary.ts) from the catalogs, in one language: plain text, since the
 * summary's renderer escapes and measures what it is given. A failed job's reason comes from its saved error key.
 */
import type { BatchSummaryTexts } from "../jobs/batch-summary.js";
import { visibleText } from "../jobs/telegram-html.js";
import { jobFailureText } from "./error-text.js";
import type { MessageKey } from "./i18n/en.js";
import { type Language, type Params, translator } from "./i18n/translate.js";

export function batchSummaryTexts(language: Language): BatchSummaryTexts {
  const t = translator(language);
  const plain = (key: MessageKey, params?: Params) => visibleText(t(key, params));
  return {
    title: plain("summary.title"),
    counts: (counts) => plain("summary.counts", counts),
    delivered: (size, time) => plain("summary.delivered", { size, time }),
    failedHeading: plain("summary.failed"),
    line: (line, name, reason) =>
      name === null
        ? plain("summary.line", { line, reason })
        : plain("summary.lineNamed", { line, name, reason }),
    skipped: (reason) => plain("summary.skipped", { reason }),
    more: (count) => plain("batch.more", { count }),
    reason: (job) => visibleText(jobFailureText(t, job)) || plain("summary.unknownReason"),
  };
}
