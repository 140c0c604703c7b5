import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type LogCardInfo, renderLogCard } from "../../src/jobs/log-card.js";
import { readHtml, visible } from "./read-telegram-html.js";

const INFO: LogCardInfo = {
  user: { id: 123, name: "Alice Smith" },
  at: new Date("2026-11-25T16:03:05+02:00"),
  url: "https://alice:s3cret@www.example.com/watch?v=1&t=5",
  type: "video",
  fileName: "Lecture 1.mp4",
  size: 1.5 * 1024 ** 3,
  quality: 720,
  duration: 3723,
};

/** Hashtags as Telegram finds them: "#" after a non-word character, then letters, digits and "_". */
function hashtags(text: string): string[] {
  return [...text.matchAll(/(?<![\p{L}\p{N}_])#([\p{L}\p{N}_]+)/gu)].map((m) => m[1]!);
}

describe("renderLogCard", () => {
  it("says who, when, from where and what, with hashtags to search by", () => {
    const html = renderLogCard(INFO);
    assert.equal(
      visible(html),
      [
        "Lecture 1.mp4",
        "User: 123 Alice Smith",
        "Time: 2026-11-25 14:03:05 UTC",
        "Source: example.com",
        "Link: https://www.example.com/watch?v=1&t=5",
        "Type: video · 1.5 GiB · 720p · 1:02:03",
        "#u123 #example_com #video",
      ].join("\n"),
    );
    assert.deepEqual(readHtml(html).elements, [
      { tag: "b", text: "Lecture 1.mp4" },
      { tag: "code", text: "123" },
      { tag: "a", text: "Alice Smith", href: "tg://user?id=123" },
      {
        tag: "a",
        text: "https://www.example.com/watch?v=1&t=5",
        href: "https://www.example.com/watch?v=1&t=5",
      },
    ]);
    assert.deepEqual(hashtags(visible(html)), ["u123", "example_com", "video"]);
  });

  it("never shows the link's credentials", () => {
    const html = renderLogCard(INFO);
    assert.doesNotMatch(html, /s3cret|alice:/);
  });

  it("leaves out what it does not know", () => {
    const html = renderLogCard({ user: { id: 7n, name: null }, at: INFO.at, url: null, type: "audio" });
    assert.equal(
      visible(html),
      ["User: 7 (no name)", "Time: 2026-11-25 14:03:05 UTC", "Type: audio", "#u7 #audio"].join("\n"),
    );
  });

  it("tells which part of a split file this copy is", () => {
    assert.match(
      visible(renderLogCard({ ...INFO, part: { index: 2, count: 3 } })),
      /^Type: .* · part 2\/3$/m,
    );
  });

  it("shows a link it should not open as text only", () => {
    const html = renderLogCard({ ...INFO, url: "ftp://files.example.org/a.zip" });
    assert.match(visible(html), /^Link: ftp:\/\/files\.example\.org\/a\.zip$/m);
    assert.equal(readHtml(html).elements.filter((e) => e.tag === "a").length, 1); // only the user
  });

  it("rejects a user id that is not one", () => {
    assert.throws(
      () => renderLogCard({ ...INFO, user: { id: -1, name: "x" } }),
      /Expected a positive integer user id/,
    );
    assert.throws(() => renderLogCard({ ...INFO, at: new Date("nope") }), /Expected a valid date/);
  });
});

describe("renderLogCard: hostile names", () => {
  const hostile: Array<[string, string, string]> = [
    [
      "HTML",
      `<b>x</b></a><a href="tg://user?id=1">admin</a>`,
      `<b>x</b></a><a href="tg://user?id=1">admin</a>`,
    ],
    ["Markdown", "*bold* _it_ [a](tg://user?id=1) `code`", "*bold* _it_ [a](tg://user?id=1) `code`"],
    // "#x202E" would be a hashtag too
    ["entities", "&amp; &lt;b&gt; &#x202E;", "&amp; &lt;b&gt; &#\u2060x202E;"],
    ["a right-to-left override", "\u202Enimda\u202C Bob", "nimda Bob"],
    ["isolates and marks", "\u2067x\u2069\u200F\u200Ey", "xy"],
    ["zero-width joiners", "a\u200Db\u200C👨‍👩‍👧", "a\u200Db\u200C👨‍👩‍👧"],
    [
      "a fake line",
      "Eve\nTime: 1999-01-01 00:00:00 UTC\r\nType: photo",
      "Eve Time: 1999-01-01 00:00:00 UTC Type: photo",
    ],
    ["wide spaces to wrap onto a fake line", `Eve${"\u00A0".repeat(80)}#u1`, "Eve #\u2060u1"],
    ["hashtags and mentions", "#u1 #video @admin", "#\u2060u1 #\u2060video @\u2060admin"],
    ["only controls", "\u202E\u202C\n", "(no name)"],
  ];
  for (const [what, name, shown] of hostile) {
    it(`shows ${what} literally, on the user's line, faking nothing`, () => {
      const html = renderLogCard({ ...INFO, user: { id: 123, name } });
      const read = readHtml(html);
      const users = read.elements.filter((e) => e.href?.startsWith("tg://"));
      assert.deepEqual(users, [{ tag: "a", text: shown, href: "tg://user?id=123" }]);
      const lines = read.text.split("\n");
      assert.equal(lines.length, 7);
      assert.equal(lines[1], `User: 123 ${shown}`);
      assert.equal(lines[2], "Time: 2026-11-25 14:03:05 UTC");
      assert.equal(lines[5], "Type: video · 1.5 GiB · 720p · 1:02:03");
      assert.deepEqual(hashtags(read.text), ["u123", "example_com", "video"]);
      assert.doesNotMatch(read.text, /[\u202A-\u202E\u2066-\u2069\u200E\u200F]/);
    });
  }

  it("cuts a 300-character name to what Telegram allows a name", () => {
    const html = renderLogCard({ ...INFO, user: { id: 123, name: "n".repeat(300) } });
    const user = readHtml(html).elements.find((e) => e.href === "tg://user?id=123");
    assert.equal(user?.text, `${"n".repeat(128)}…`);
  });

  it("treats a hostile file name the same way", () => {
    const read = readHtml(renderLogCard({ ...INFO, fileName: "<i>x</i>\n#u1 \u202Egpj.exe" }));
    assert.equal(read.text.split("\n")[0], "<i>x</i> #\u2060u1 gpj.exe");
    assert.deepEqual(hashtags(read.text), ["u123", "example_com", "video"]);
  });
});

describe("renderLogCard: 1024 visible characters", () => {
  it("shortens the shown link first, and keeps the whole link to open", () => {
    const url = `https://example.com/${"p".repeat(1500)}`;
    const read = readHtml(renderLogCard({ ...INFO, url }));
    assert.equal(read.text.length, 1024);
    const link = read.elements.find((e) => e.href?.startsWith("https:"));
    assert.equal(link?.href, url);
    assert.ok(link?.text.endsWith("p…"));
    assert.equal(read.text.split("\n")[0], "Lecture 1.mp4");
    assert.equal(read.text.split("\n").at(-1), "#u123 #example_com #video");
  });

  it("does not put a link longer than browsers take in href", () => {
    const url = `https://example.com/${"p".repeat(3000)}`;
    const read = readHtml(renderLogCard({ ...INFO, url }));
    assert.ok(read.text.length <= 1024);
    assert.equal(read.elements.filter((e) => e.tag === "a").length, 1);
  });

  it("then the file name, then the user's name, keeping every fixed fact", () => {
    for (const extra of [0, 1]) {
      const read = readHtml(
        renderLogCard({
          ...INFO,
          url: `https://example.com/${"p".repeat(600)}`,
          fileName: "x".repeat(extra) + "😀".repeat(600),
          user: { id: 123, name: "👨‍👩‍👧".repeat(40) },
        }),
      );
      assert.ok(read.text.length <= 1024 && read.text.length >= 1023, `${read.text.length}`);
      assert.doesNotMatch(
        read.text,
        /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/,
      );
      const lines = read.text.split("\n");
      assert.equal(lines[4], "Link: …");
      assert.ok(lines[0]?.endsWith("😀…"));
      assert.equal(lines[2], "Time: 2026-11-25 14:03:05 UTC");
      assert.equal(lines[6], "#u123 #example_com #video");
    }
  });
});
