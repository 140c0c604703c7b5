import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatBytes, parseSize } from "../../src/lib/size.js";

describe("parseSize", () => {
  it("understands binary and decimal units", () => {
    assert.equal(parseSize("1048576"), 1048576);
    assert.equal(parseSize("512MiB"), 512 * 1024 * 1024);
    assert.equal(parseSize("1.5 GiB"), 1.5 * 1024 ** 3);
    assert.equal(parseSize("2gb"), 2e9);
    assert.equal(parseSize("10k"), 10240);
  });
  it("rejects what is not a size", () => {
    for (const bad of ["", "MiB", "-5", "12 parsecs", "1e9"]) assert.equal(parseSize(bad), undefined, bad);
  });
});

describe("formatBytes", () => {
  it("speaks binary units with one decimal below 100", () => {
    assert.equal(formatBytes(0), "0 B");
    assert.equal(formatBytes(1023), "1023 B");
    assert.equal(formatBytes(1536), "1.5 KiB");
    assert.equal(formatBytes(2000 * 1024 * 1024), "2.0 GiB");
    assert.equal(formatBytes(150 * 1024 * 1024), "150 MiB");
  });
});
