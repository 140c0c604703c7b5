import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { COMMANDS } from "../../src/bot/commands/index.js";
import { en } from "../../src/bot/i18n/en.js";
import { CATALOGS, html, pickLanguage, placeholders, translator } from "../../src/bot/i18n/translate.js";
import { parseHtml } from "../../src/jobs/telegram-html.js";

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
