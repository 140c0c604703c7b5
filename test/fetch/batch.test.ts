import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UserError } from "../../src/errors.js";
import { MAX_BATCH_BYTES, parseBatch } from "../../src/fetch/batch.js";

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof UserError, String(error));
    return error.code;
  }
  return assert.fail("expected a UserError");
}

describe("parseBatch", () => {
  it("reads named links with and without a space, bare links, comments and blank lines", () => {
    const batch = parseBatch(
      [
        "# my lectures",
        "",
        "Lecture 1: https://example.com/1.mp4",
        "Lecture 2:https://example.com/2.mp4",
        "https://example.com/3.mp4",
        "   ",
        "Part: two: http://example.com/4.mp4",
      ].join("\n"),
    );
    assert.deepEqual(batch.entries, [
      { line: 3, url: "https://example.com/1.mp4", name: "Lecture 1" },
      { line: 4, url: "https://example.com/2.mp4", name: "Lecture 2" },
      { line: 5, url: "https://example.com/3.mp4", name: undefined },
      { line: 7, url: "http://example.com/4.mp4", name: "Part: two" },
    ]);
    assert.deepEqual(batch.invalid, []);
  });

  it("handles a BOM, CRLF line ends and unicode names", () => {
    const batch = parseBatch(
      Buffer.from("\ufeffЛекция 1: https://example.com/a\r\n第二课: https://example.com/b\r\n"),
    );
    assert.deepEqual(
      batch.entries.map((e) => [e.line, e.name]),
      [
        [1, "Лекция 1"],
        [2, "第二课"],
      ],
    );
  });

  it("reports invalid lines by number while the valid ones go ahead", () => {
    const batch = parseBatch(
      "https://example.com/ok\njust some words\nftp: ftp://example.com/file\nbad: https://exa mple.com\n",
    );
    assert.deepEqual(
      batch.entries.map((e) => e.line),
      [1],
    );
    assert.deepEqual(
      batch.invalid.map((p) => p.line),
      [2, 3, 4],
    );
    assert.match(batch.invalid[1]?.message ?? "", /only http and https/);
  });

  it("flags duplicates and keeps the first", () => {
    const batch = parseBatch("a: https://example.com/x\nb: https://example.com/x\nhttps://example.com/y\n");
    assert.deepEqual(
      batch.entries.map((e) => e.line),
      [1, 3],
    );
    assert.deepEqual(batch.duplicates, [{ line: 2, firstLine: 1, url: "https://example.com/x" }]);
  });

  it("applies a 1-based range over the valid links", () => {
    const text = [
      "# c",
      "https://e.com/1",
      "oops",
      "https://e.com/2",
      "https://e.com/3",
      "https://e.com/4",
    ].join("\n");
    assert.deepEqual(
      parseBatch(text, { range: "2-3" }).entries.map((e) => e.url),
      ["https://e.com/2", "https://e.com/3"],
    );
    assert.deepEqual(
      parseBatch(text, { range: "3-" }).entries.map((e) => e.url),
      ["https://e.com/3", "https://e.com/4"],
    );
    assert.deepEqual(
      parseBatch(text, { range: "2-99" }).entries.map((e) => e.url),
      ["https://e.com/2", "https://e.com/3", "https://e.com/4"],
    );
    assert.equal(parseBatch(text, { range: "2-3" }).totalValid, 4);
    assert.equal(
      code(() => parseBatch(text, { range: "5-6" })),
      "BATCH_BAD_RANGE",
    );
    assert.equal(
      code(() => parseBatch(text, { range: "3-1" })),
      "BATCH_BAD_RANGE",
    );
    assert.equal(
      code(() => parseBatch(text, { range: "x" })),
      "BATCH_BAD_RANGE",
    );
    assert.throws(() => parseBatch(text, { range: "9-" }), {
      userMessage: "The list has only 4 links; the range starts at 9.",
    });
  });

  it("refuses files over the size and line bounds with a clear error", () => {
    assert.equal(
      code(() => parseBatch(Buffer.alloc(MAX_BATCH_BYTES + 1, 0x61))),
      "BATCH_TOO_LARGE",
    );
    const lines = Array.from({ length: 1001 }, (_, i) => `https://e.com/${i}`).join("\n");
    assert.equal(
      code(() => parseBatch(lines)),
      "BATCH_TOO_MANY_LINES",
    );
    assert.equal(parseBatch(lines, { maxLines: 2000 }).entries.length, 1001);
  });

  it("keeps credentials out of its messages", () => {
    const batch = parseBatch("x: https://user:secret@exa mple.com/\n");
    assert.equal(batch.invalid.length, 1);
    assert.doesNotMatch(batch.invalid[0]?.message ?? "", /secret/);
  });
});
