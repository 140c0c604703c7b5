import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  cutText,
  escapeHtml,
  fitToLimit,
  parseHtml,
  plainText,
  truncateHtml,
  truncateText,
  visibleLength,
  visibleText,
} from "../../src/jobs/telegram-html.js";
import { readHtml, visible } from "./read-telegram-html.js";

const FAMILY = "👨‍👩‍👧"; // 8 UTF-16 units, one grapheme
const FLAG = "🇩🇪"; // 4 units, one grapheme

describe("escapeHtml", () => {
  it("turns markup and quotes into text a reader sees as written", () => {
    const hostile = `<script>alert("x")</script> &amp; 'q'`;
    assert.equal(visible(escapeHtml(hostile)), hostile);
    assert.equal(escapeHtml(`a"b`), "a&quot;b");
  });
});

describe("plainText", () => {
  it("removes bidi controls and turns line breaks and control characters into spaces", () => {
    assert.equal(plainText("evil\u202Egpj.exe"), "evilgpj.exe");
    assert.equal(plainText("\u2066a\u2069\u200F\u061Cb"), "ab");
    assert.equal(plainText("a\nb\r\nc\u2028d\u0000e\u0085f"), "a b  c d e f");
  });
  it("keeps zero-width joiners, so emoji sequences survive", () => {
    assert.equal(plainText(`x${FAMILY}\u200Cy`), `x${FAMILY}\u200Cy`);
  });
  it("replaces half a surrogate pair, which is not valid UTF-8", () => {
    assert.equal(plainText("a\uD83Db"), "a\uFFFDb");
    assert.equal(plainText("😀"), "😀");
  });
});

describe("parseHtml", () => {
  it("accepts every tag Telegram knows, nested as Telegram allows", () => {
    const html =
      '<b>b</b><i>i</i><u>u</u><s>s</s><code>c</code><pre><code class="language-ts">p</code></pre>' +
      '<a href="https://e.com/?a=1&amp;b=2">a</a><blockquote expandable><b>q</b></blockquote><tg-spoiler>t</tg-spoiler>';
    assert.deepEqual(parseHtml(html).problems, []);
    assert.equal(visibleText(html), "biuscpaqt");
  });
  it("decodes the entities Telegram knows, numeric ones included", () => {
    assert.equal(visibleText("&lt;&gt;&amp;&quot;&#39;&#x1F600;"), `<>&"'😀`);
  });
  it("reports what Telegram would refuse, with where it is", () => {
    const problems = (html: string) => parseHtml(html).problems.map((p) => `${p.offset}: ${p.message}`);
    assert.deepEqual(problems("a<script>x</script>"), [
      "1: <script> is not a tag Telegram knows; use <b>, <i>, <u>, <s>, <code>, <pre>, <a>, <blockquote>, <tg-spoiler>",
    ]);
    assert.deepEqual(problems("<b>x"), ["0: <b> is never closed"]);
    assert.deepEqual(problems("x</i>"), ["1: </i> closes nothing: there is no <i> open"]);
    assert.deepEqual(problems("<b><i>x</b></i>"), [
      "7: </b> comes before </i>: close <i> first",
      "11: </i> closes nothing: there is no <i> open",
    ]);
    assert.deepEqual(problems("Tom & Jerry"), [
      '4: A "&" that does not start &lt; &gt; &amp; &quot; or &#…; must be written &amp;',
    ]);
    assert.deepEqual(problems("1 < 2"), ['2: A "<" that does not start a tag must be written &lt;']);
    assert.deepEqual(problems("<a>x</a>"), ['0: <a> needs href="…"']);
    assert.deepEqual(problems('<b class="x">y</b>'), ['0: <b> does not take class="…"']);
    assert.deepEqual(problems("<code><b>x</b></code>"), ["6: <b> cannot be inside <code>"]);
    assert.deepEqual(problems('<a href="x"><a href="y">z</a></a>'), ["12: <a> cannot be inside another <a>"]);
    assert.deepEqual(problems("&#xD800;"), ["0: &#xD800; is not a character"]);
  });
});

describe("visibleLength", () => {
  it("counts UTF-16 units of the text after tags and entities", () => {
    assert.equal(visibleLength("<b>a &amp; b</b>"), 5);
    assert.equal(visibleLength('<a href="https://very.long/url">x</a>'), 1);
    assert.equal(visibleLength("😀"), 2);
    assert.equal(visibleLength(FAMILY), 8);
  });
});

describe("cutText and truncateText", () => {
  it("cut between grapheme clusters, never inside a surrogate pair or an emoji sequence", () => {
    assert.equal(cutText("a😀b", 2), "a");
    assert.equal(cutText("a😀b", 3), "a😀");
    assert.equal(cutText(`a${FAMILY}`, 8), "a");
    assert.equal(cutText(`${FLAG}${FLAG}`, 6), FLAG);
    assert.equal(cutText("e\u0301e\u0301", 3), "e\u0301"); // a combining accent stays with its letter
  });
  it("end with an ellipsis and stay within the limit", () => {
    assert.equal(truncateText("abcdef", 6), "abcdef");
    assert.equal(truncateText("abcdef", 4), "abc…");
    assert.equal(truncateText("ab cdef", 4), "ab…");
    assert.equal(truncateText("😀😀😀", 4), "😀…");
    assert.equal(truncateText("abc", 0), "");
  });
});

describe("truncateHtml", () => {
  it("leaves what fits alone", () => {
    assert.equal(truncateHtml("<b>abc</b>", 3), "<b>abc</b>");
  });
  it("cuts visible text, closes the tags left open and drops the rest", () => {
    const out = truncateHtml("<b>bold <i>italic</i></b> after <u>u</u>", 10);
    assert.equal(out, "<b>bold <i>ital…</i></b>");
    assert.equal(visible(out).length, 10);
  });
  it("never cuts an entity: a cut before &amp; drops it whole", () => {
    const out = truncateHtml("ab&amp;&amp;&amp;cd", 4);
    assert.equal(out, "ab&amp;…");
    assert.equal(visible(out), "ab&…");
  });
  it("counts emoji as two units and never splits them", () => {
    const html = `<b>${"😀".repeat(600)}</b>`; // 1200 units
    // 1024: 511 emoji (1022 units) and the ellipsis; half an emoji does not fit in the last unit.
    assert.equal(visible(truncateHtml(html, 1024)), `${"😀".repeat(511)}…`);
    assert.equal(visible(truncateHtml(html, 1025)), `${"😀".repeat(512)}…`);
  });
  it("keeps href intact however long, since it is not counted", () => {
    const href = `https://e.com/${"x".repeat(2000)}`;
    const out = truncateHtml(`<a href="${href}">${"y".repeat(50)}</a>`, 10);
    assert.deepEqual(readHtml(out).elements, [{ tag: "a", text: "yyyyyyyyy…", href }]);
  });
});

describe("fitToLimit", () => {
  const render = (v: { name: string; other: string }) =>
    `<b>${escapeHtml(v.name)}</b> ${escapeHtml(v.other)} ${escapeHtml(v.name)}`;
  it("keeps the longest start of a field that fits, though it appears twice", () => {
    const out = fitToLimit({ name: "n".repeat(20), other: "o".repeat(20) }, ["name", "other"], 30, render);
    assert.equal(visible(out), `nnn… ${"o".repeat(20)} nnn…`);
    assert.equal(visible(out).length, 30);
  });
  it("moves to the next field when the first is down to its ellipsis", () => {
    const out = fitToLimit({ name: "n".repeat(20), other: "o".repeat(20) }, ["name", "other"], 10, render);
    assert.equal(visible(out), "… ooooo… …");
  });
  it("cuts the markup itself when no field can shrink", () => {
    const out = fitToLimit({ name: "", other: "" }, ["name", "other"], 1, () => "<b>fixed text</b>");
    assert.equal(out, "<b>…</b>");
  });
});
