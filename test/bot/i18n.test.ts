import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { COMMANDS } from "../../src/bot/commands/index.js";
import { en } from "../../src/bot/i18n/en.js";
import { CATALOGS, html, pickLanguage, placeholders, translator } from "../../src/bot/i18n/translate.js";
import { GUARD_REPLIES } from "../../src/fetch/guard/url-guard.js";
import { YTDLP_REPLIES } from "../../src/fetch/ytdlp/errors.js";
import { parseHtml } from "../../src/jobs/telegram-html.js";

const SRC = path.resolve(import.meta.dirname, "../../src");
/** Read by the operator in a terminal or at start, never by a chat: English, as the logs. */
const OPERATOR_ONLY = [
  "cli/",
  "cli.ts",
  "telegram/bot-client.ts",
  "telegram/gramjs-internals.ts",
  "telegram/user-session.ts",
];
/** Codes no chat sees under their own key: worded by the catalog key they name, or never leaving the runner. */
const NOT_WORDED_BY_CODE = new Set([
  "DESTINATION_NOT_FOUND",
  "DESTINATION_NOT_ALLOWED",
  "DESTINATION_REFUSED",
  "LEASE_LOST",
]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

describe("catalogs", () => {
  for (const [language, catalog] of Object.entries(CATALOGS)) {
    it(`${language} has every key of en, no other, and the same {placeholders} in each`, () => {
      const missing = Object.keys(en).filter((k) => !(k in catalog));
      const extra = Object.keys(catalog).filter((k) => !(k in en));
      assert.deepEqual({ missing, extra }, { missing: [], extra: [] });
      for (const [key, text] of Object.entries(en)) {
        const other = (catalog as Record<string, string>)[key] ?? "";
        assert.ok(other.trim().length > 0, `${language} ${key} is empty`);
        assert.deepEqual(placeholders(other), placeholders(text), `${language} ${key} placeholders`);
      }
    });

    it(`${language} texts are valid Telegram HTML`, () => {
      for (const [key, text] of Object.entries(catalog)) {
        assert.deepEqual(parseHtml(text).problems, [], `${language} ${key}`);
      }
    });
  }

  it("describes every command in every language", () => {
    for (const command of COMMANDS) {
      for (const catalog of Object.values(CATALOGS)) assert.ok(catalog[command.description]);
    }
  });

  it("words every error code thrown under src/ (and every key an error names) in every language", () => {
    const codes = new Set<string>();
    const keys = new Set<string>();
    for (const file of sourceFiles(SRC)) {
      const relative = path.relative(SRC, file);
      if (OPERATOR_ONLY.some((prefix) => relative.startsWith(prefix))) continue;
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(
        /new (?:UserError|DownloadError|UploadError|ToolError|MedusaError)\(\s*"([A-Z0-9_]+)"/g,
      )) {
        codes.add(m[1]!);
      }
      for (const m of text.matchAll(/\bkey: "([\w.]+)"/g)) keys.add(m[1]!);
      for (const m of text.matchAll(/\bkey: \w+ \? "([\w.]+)" : "([\w.]+)"/g)) keys.add(m[1]!).add(m[2]!);
      for (const m of text.matchAll(/^\s+(?:\? |: )"(err\.[\w.]+)"/gm)) keys.add(m[1]!);
    }
    assert.ok(codes.size > 40, `found ${codes.size} codes: the scan still reads the constructors`);
    for (const code of Object.keys(YTDLP_REPLIES)) keys.add(`err.YTDLP_${code}`);
    for (const code of Object.keys(GUARD_REPLIES)) codes.add(code);
    for (const code of ["ABANDONED", "CANCELLED", "STEP_TIMEOUT"]) codes.add(code);
    const missing = [
      ...[...codes].filter((c) => !NOT_WORDED_BY_CODE.has(c)).map((c) => `err.${c}`),
      ...keys,
    ].filter((key) => !(key in en));
    assert.deepEqual(missing, []);
  });

  it("picks the catalog by the Telegram language code, English where there is none", () => {
    assert.equal(pickLanguage("ru"), "ru");
    assert.equal(pickLanguage("ru-RU"), "ru");
    assert.equal(pickLanguage("RU"), "ru");
    assert.equal(pickLanguage("en-GB"), "en");
    assert.equal(pickLanguage("de"), "en");
    assert.equal(pickLanguage(undefined), "en");
  });

  it("fills params as literal text: HTML, Markdown and bidi marks in a name do nothing", () => {
    const t = translator("en");
    const hostile = `<b>x</b> *y* _z_ \u202Eevil & ${"n".repeat(300)}`;
    const text = t("start.welcome", { name: hostile, id: 5, role: t("role.user") });
    const parsed = parseHtml(text);
    assert.deepEqual(parsed.problems, []);
    const visible = parsed.nodes.flatMap((n) => (n.kind === "text" ? [n.text] : [])).join("");
    assert.ok(visible.includes(`<b>x</b> *y* _z_ evil & ${"n".repeat(300)}`), visible);
    assert.ok(!visible.includes("\u202E"));
    assert.equal(t("error.user", { message: html("<i>ours</i>") }), "⚠️ <i>ours</i>");
  });
});
