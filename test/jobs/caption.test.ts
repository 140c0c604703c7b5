import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UserError } from "../../src/errors.js";
import {
  type CaptionValues,
  DEFAULT_CAPTION_TEMPLATE,
  formatDuration,
  renderCaption,
  validateTemplate,
} from "../../src/jobs/caption.js";
import { readHtml, visible } from "./read-telegram-html.js";

const GIB = 1024 ** 3;
const FULL: CaptionValues = {
  name: "Lecture 1.mp4",
  size: 1.5 * GIB,
  duration: 3723,
  quality: 720,
  source: "https://alice:s3cret@www.example.com/watch?v=1&token=abc#t=5",
  index: 3,
  total: 12,
  date: "2026-11-25T10:00:00Z",
};
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe("renderCaption: placeholders", () => {
  it("renders the default template: the name in bold, then size • duration • quality", () => {
    const html = renderCaption(DEFAULT_CAPTION_TEMPLATE, FULL);
    assert.equal(html, "<b>Lecture 1.mp4</b>\n1.5 GiB • 1:02:03 • 720p");
    assert.deepEqual(readHtml(html).elements, [{ tag: "b", text: "Lecture 1.mp4" }]);
  });

  it("fills every placeholder", () => {
    const template = "{name}|{size}|{duration}|{quality}|{source}|{index}|{total}|{date}";
    assert.equal(
      renderCaption(template, FULL),
      "Lecture 1.mp4|1.5 GiB|1:02:03|720p|example.com|3|12|2026-11-25",
    );
  });

  it("shows only the site's host: no credentials, path, query or fragment", () => {
    const html = renderCaption("{source}", FULL);
    assert.equal(html, "example.com");
    assert.equal(renderCaption("{source}", { source: "http://user:pw@10.0.0.1:8080/a?b=c" }), "10.0.0.1");
    assert.equal(renderCaption("from {source}", { source: "not a url" }), "from");
  });

  it("shows durations as h:mm:ss, or m:ss under an hour", () => {
    assert.equal(formatDuration(0), "0:00");
    assert.equal(formatDuration(245), "4:05");
    assert.equal(formatDuration(3723), "1:02:03");
    assert.equal(formatDuration(59.6), "1:00");
    assert.equal(formatDuration(36_000), "10:00:00");
    assert.equal(formatDuration(-1), "");
    assert.equal(formatDuration(Number.NaN), "");
  });

  it("names qualities as people do, and says nothing for 'best'", () => {
    const q = (quality: CaptionValues["quality"]) => renderCaption("{quality}", { quality });
    assert.deepEqual([q(720), q("1080"), q("audio"), q("best"), q(null)], ["720p", "1080p", "audio", "", ""]);
  });

  it("shows the UTC date of a Date or an ISO string", () => {
    assert.equal(renderCaption("{date}", { date: new Date(Date.UTC(2026, 10, 25, 23, 59)) }), "2026-11-25");
    assert.equal(renderCaption("{date}", { date: "2026-11-25T23:30:00-05:00" }), "2026-11-26");
    assert.equal(renderCaption("{date}", { date: "someday" }), "");
  });

  it("leaves unknown placeholders as written", () => {
    assert.equal(renderCaption("{name} {Name} {author} {}", { name: "a" }), "a {Name} {author} {}");
  });
});

describe("renderCaption: missing values and tidying", () => {
  const cases: Array<[string, string, CaptionValues, string]> = [
    [
      "no duration: one separator stays",
      "{size} • {duration} • {quality}",
      { size: 1024, quality: 720 },
      "1.0 KiB • 720p",
    ],
    [
      "no size: nothing dangles at the start",
      "{size} • {duration} • {quality}",
      { duration: 5, quality: "audio" },
      "0:05 • audio",
    ],
    [
      "no quality: nothing dangles at the end",
      "{size} • {duration} • {quality}",
      { size: 0, duration: 5 },
      "0 B • 0:05",
    ],
    ["only the last", "{size} • {duration} • {quality}", { quality: 480 }, "480p"],
    ["none: the line goes", "<b>{name}</b>\n{size} • {duration} • {quality}", { name: "a" }, "<b>a</b>"],
    ["no name: the empty bold line goes", DEFAULT_CAPTION_TEMPLATE, { size: 2048 }, "2.0 KiB"],
    ["empty brackets go with the space before", "{name} ({quality})", { name: "a" }, "a"],
    ["brackets keep what is left", "{name} ({size}, {quality})", { name: "a", quality: 360 }, "a (360p)"],
    ["square brackets too", "[{index}/{total}] {name}", { name: "a" }, "a"],
    ["index without total", "{index}/{total}", { index: 4 }, "4"],
    [
      "other separators",
      "{name} | {size} - {duration} · {date}",
      { name: "a", date: "2026-01-02" },
      "a | 2026-01-02",
    ],
    [
      "a label stays: the template's words are the user's",
      "Size: {size} • {duration}",
      { duration: 5 },
      "Size: 0:05",
    ],
    ["literal brackets with no placeholder stay", "() {name}", {}, "()"],
    ["lines without placeholders stay", "Hello\n{name}\n\nBye", {}, "Hello\n\nBye"],
    ["a tag around a missing value goes", "{size} <i>({quality})</i>", { size: 1 }, "1 B"],
    [
      "a blockquote over two lines keeps the line that has a value",
      "<blockquote>{name}\n{size}</blockquote>",
      { size: 1 },
      "<blockquote>1 B</blockquote>",
    ],
    ["everything missing", DEFAULT_CAPTION_TEMPLATE, {}, ""],
  ];
  for (const [what, template, values, expected] of cases) {
    it(what, () => {
      const html = renderCaption(template, values);
      assert.equal(html, expected);
      readHtml(html); // still valid
    });
  }
});

describe("renderCaption: escaping", () => {
  it("shows values literally, whatever markup they hold", () => {
    const name = `<script>alert("x")</script> &amp; 'q' <b>not bold</b>`;
    const html = renderCaption(DEFAULT_CAPTION_TEMPLATE, { name });
    const read = readHtml(html);
    assert.equal(read.text, name);
    assert.deepEqual(read.elements, [{ tag: "b", text: name }]);
  });

  it("keeps the template's own entities and tags", () => {
    const html = renderCaption(
      '<i>Tom &amp; Jerry</i> &lt;{name}&gt; <a href="https://e.com/?a=1&amp;b=2">link</a>',
      {
        name: "x",
      },
    );
    assert.equal(visible(html), "Tom & Jerry <x> link");
    assert.equal(readHtml(html).elements[1]?.href, "https://e.com/?a=1&b=2");
  });

  it("puts a hostile name on one line, without bidi overrides", () => {
    const html = renderCaption(DEFAULT_CAPTION_TEMPLATE, { name: "clip\u202Ecod.exe\nfake line", size: 1 });
    assert.equal(visible(html), "clipcod.exe fake line\n1 B");
  });
});

describe("renderCaption: split parts", () => {
  it("adds 'part i/n' on a last line of its own when the template has no {part}", () => {
    const html = renderCaption(DEFAULT_CAPTION_TEMPLATE, { ...FULL, part: { index: 2, count: 5 } });
    assert.equal(visible(html), "Lecture 1.mp4\n1.5 GiB • 1:02:03 • 720p\npart 2/5");
  });
  it("puts it where the template says {part}", () => {
    assert.equal(
      renderCaption("{name} ({part})", { name: "a", part: { index: 1, count: 2 } }),
      "a (part 1/2)",
    );
  });
  it("says nothing for a file in one piece", () => {
    assert.equal(renderCaption("{name} ({part})", { name: "a", part: { index: 1, count: 1 } }), "a");
    assert.equal(renderCaption("{name}", { name: "a", part: { index: 1, count: 1 } }), "a");
  });
  it("keeps the part when the caption must be shortened", () => {
    const html = renderCaption(DEFAULT_CAPTION_TEMPLATE, {
      name: "n".repeat(2000),
      part: { index: 3, count: 4 },
    });
    const text = visible(html);
    assert.equal(text.length, 1024);
    assert.ok(text.endsWith("n…\npart 3/4"), text.slice(-20));
  });
});

describe("renderCaption: Telegram's 1024 visible characters", () => {
  const rest = "\n1.5 GiB • 1:02:03 • 720p"; // what the default template shows besides the name
  const withName = (name: string) => renderCaption(DEFAULT_CAPTION_TEMPLATE, { ...FULL, name });

  it("leaves a caption of exactly 1024 alone", () => {
    const name = "a".repeat(1024 - rest.length);
    assert.equal(visible(withName(name)), name + rest);
  });

  it("shortens the name by one and ends it with an ellipsis at 1025", () => {
    const name = "a".repeat(1025 - rest.length);
    const text = visible(withName(name));
    assert.equal(text.length, 1024);
    assert.equal(text, `${"a".repeat(1025 - rest.length - 2)}…${rest}`);
  });

  it("counts the visible text, not the markup: a name of ampersands fits 1024 '&', not 1024 bytes of '&amp;'", () => {
    const name = "&".repeat(1024 - rest.length);
    const html = withName(name);
    assert.ok(html.length > 4000);
    assert.equal(visible(html), name + rest);
    const longer = visible(withName(`${name}&`));
    assert.equal(longer.length, 1024);
    assert.ok(longer.startsWith("&&&") && longer.endsWith(`&…${rest}`));
  });

  it("counts an emoji as two and never splits one", () => {
    for (const extra of [0, 1]) {
      // One unit of slack left at the cut: half an emoji would fit, a whole one does not.
      const name = "x".repeat(extra) + "😀".repeat(600);
      const text = visible(withName(name));
      assert.ok(text.length <= 1024, `${text.length}`);
      assert.ok(text.length >= 1023, `${text.length}`);
      assert.doesNotMatch(text, LONE_SURROGATE);
      assert.ok(text.endsWith(`😀…${rest}`));
    }
  });

  it("keeps emoji sequences whole (ZWJ families, flags)", () => {
    const family = "👨‍👩‍👧";
    const text = visible(withName(family.repeat(200)));
    assert.ok(text.length <= 1024);
    const kept = text.slice(0, text.indexOf("…"));
    assert.equal(kept, family.repeat(kept.length / family.length));
  });

  it("never cuts a tag: the template's markup survives shortening", () => {
    const html = renderCaption("<b>{name}</b> <i>{source}</i>", {
      name: "n".repeat(1100),
      source: FULL.source,
    });
    const read = readHtml(html);
    assert.equal(read.text.length, 1024);
    assert.deepEqual(
      read.elements.map((e) => e.tag),
      ["b", "i"],
    );
    assert.equal(read.elements[1]?.text, "example.com");
  });

  it("shortens the name first, then the longest other value", () => {
    const source = `https://${"s".repeat(60)}.com/`;
    const html = renderCaption(
      "{date} {source} {name}",
      { name: "n".repeat(40), source, date: "2026-01-01" },
      { limit: 50 },
    );
    assert.equal(visible(html), `2026-01-01 ${"s".repeat(36)}… …`);
    assert.equal(visible(html).length, 50);
  });

  it("stays fast on a megabyte of name shown a hundred times (values are cut to the limit first)", () => {
    const started = performance.now();
    const html = renderCaption("{name} ".repeat(100), { name: "&<😀".repeat(250_000) });
    assert.equal(visible(html), "&<😀&<😀… ".repeat(100)); // 100 × 10 units: 11 each would pass 1024
    assert.ok(performance.now() - started < 2000, `${Math.round(performance.now() - started)} ms`);
  });

  it("cuts the template's own text only when nothing else is left to shorten", () => {
    const template = `<b>${"t".repeat(1100)}</b> {name}`;
    const html = renderCaption(template, { name: "abc" });
    const read = readHtml(html);
    assert.equal(read.text.length, 1024);
    assert.equal(read.elements[0]?.tag, "b");
  });
});

describe("validateTemplate", () => {
  it("accepts the default template and every tag Telegram knows", () => {
    assert.deepEqual(validateTemplate(DEFAULT_CAPTION_TEMPLATE), []);
    assert.deepEqual(
      validateTemplate(
        '<b>{name}</b> <i>i</i> <u>u</u> <s>s</s> <code>{size}</code> <a href="https://e.com">{source}</a>\n' +
          '<tg-spoiler>{quality}</tg-spoiler> <pre><code class="language-txt">{date}</code></pre>\n<blockquote>q</blockquote>',
      ),
      [],
    );
  });

  it("reports unknown and unbalanced tags with their line and column", () => {
    const problems = validateTemplate("<b>{name}\n{size} <script>x</script> <i>{date}</b>");
    assert.deepEqual(
      problems.map((p) => [p.line, p.column, p.message]),
      [
        [
          2,
          8,
          "<script> is not a tag Telegram knows; use <b>, <i>, <u>, <s>, <code>, <pre>, <a>, <blockquote>, <tg-spoiler>",
        ],
        [2, 36, "</b> comes before </i>: close <i> first"],
      ],
    );
  });

  it("counts columns as characters, an emoji as one", () => {
    assert.deepEqual(
      validateTemplate("😀😀 & {name}").map((p) => [p.line, p.column, p.offset]),
      [[1, 4, 5]],
    );
  });

  it("reports fixed text longer than a caption", () => {
    assert.deepEqual(
      validateTemplate(`${"x".repeat(1025)}{name}`).map((p) => p.message),
      ["The template's own text is 1025 characters long; a caption holds at most 1024"],
    );
    assert.deepEqual(validateTemplate(`${"x".repeat(1024)}{name}`), []);
  });

  it("makes renderCaption throw a UserError that tells the user what to fix", () => {
    assert.throws(
      () => renderCaption("<b>{name}", { name: "a" }),
      (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.equal(error.code, "CAPTION_TEMPLATE_INVALID");
        assert.equal(
          error.userMessage,
          "The caption template cannot be used:\nLine 1, column 1: <b> is never closed",
        );
        assert.match(error.hint ?? "", /\{name\}.*<b>/);
        return true;
      },
    );
  });
});
