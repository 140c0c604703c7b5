import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  chooseFileName,
  fromContentDisposition,
  MAX_NAME_BYTES,
  sanitizeFileName,
  truncateName,
} from "../../src/fetch/filename.js";

describe("file names", () => {
  it("prefers a given name, then Content-Disposition, then the URL path, then the title", () => {
    const url = "https://cdn.example.com/files/clip%20one.mp4?token=x";
    const cd = 'attachment; filename="server.mp4"';
    assert.equal(chooseFileName({ given: "Mine.mp4", contentDisposition: cd, url }), "Mine.mp4");
    assert.equal(chooseFileName({ contentDisposition: cd, url }), "server.mp4");
    assert.equal(chooseFileName({ url }), "clip one.mp4");
    assert.equal(
      chooseFileName({ url: "https://example.com/", title: "A talk", contentType: "video/webm" }),
      "A talk.webm",
    );
    assert.equal(chooseFileName({ url: "https://example.com/" }), "download");
  });

  it("reads RFC 5987 filename* before the plain filename", () => {
    assert.equal(
      fromContentDisposition("attachment; filename=\"x.pdf\"; filename*=UTF-8''na%C3%AFve%20caf%C3%A9.pdf"),
      "naïve café.pdf",
    );
    assert.equal(fromContentDisposition("attachment"), undefined);
    assert.equal(fromContentDisposition('attachment; filename="a;b.txt"'), "a;b.txt");
  });

  it("removes separators, .., control and bidi characters and leading dots", () => {
    assert.equal(sanitizeFileName("../../etc/passwd"), "passwd");
    assert.equal(sanitizeFileName("..\\..\\win.ini"), "win.ini");
    assert.equal(sanitizeFileName("a\u0000b\u001fc\u007f.txt"), "abc.txt");
    assert.equal(sanitizeFileName("evil\u202Egpj.exe"), "evilgpj.exe");
    assert.equal(sanitizeFileName(".hidden"), "hidden");
    assert.equal(sanitizeFileName("a..b"), "a.b");
    assert.equal(sanitizeFileName(".."), "");
    assert.equal(sanitizeFileName('what: "is" <this>?.mp4'), "what_ _is_ _this__.mp4");
  });

  it("cuts to 200 bytes of UTF-8 on a character boundary, keeping the extension", () => {
    const long = `${"é".repeat(150)}😀😀.mp4`;
    const cut = truncateName(long);
    assert.ok(Buffer.byteLength(cut) <= MAX_NAME_BYTES);
    assert.ok(cut.endsWith(".mp4"));
    assert.ok(!cut.includes("\ufffd"));
    const emoji = truncateName(`${"😀".repeat(60)}.mkv`);
    assert.ok(Buffer.byteLength(emoji) <= MAX_NAME_BYTES);
    assert.match(emoji, /^(😀)+\.mkv$/u);
    assert.equal(Buffer.byteLength(sanitizeFileName("x".repeat(500))), MAX_NAME_BYTES);
  });

  it("gives a name without an extension the one the server's name or the link has", () => {
    const url = "https://cdn.example.com/files/report.pdf?x=1";
    assert.equal(
      chooseFileName({ given: "notes", url, contentType: "application/octet-stream" }),
      "notes.pdf",
    );
    assert.equal(
      chooseFileName({ given: "Q3", contentDisposition: 'attachment; filename="q3.xlsx"', url }),
      "Q3.xlsx",
    );
    assert.equal(chooseFileName({ given: "notes.txt", url }), "notes.txt", "a name with its own keeps it");
  });

  it("adds an extension from the content type only when the name has none", () => {
    assert.equal(
      chooseFileName({ url: "https://e.com/watch", contentType: "video/mp4; codecs=avc1" }),
      "watch.mp4",
    );
    assert.equal(chooseFileName({ url: "https://e.com/a.mkv", contentType: "video/mp4" }), "a.mkv");
    assert.equal(
      chooseFileName({ url: "https://e.com/blob", contentType: "application/octet-stream" }),
      "blob",
    );
  });
});
