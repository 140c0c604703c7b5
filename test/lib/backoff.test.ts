import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backoffDelay } from "../../src/lib/backoff.js";
import { randomLong, randomPositiveLong } from "../../src/lib/ids.js";

describe("backoffDelay", () => {
  it("doubles from the base and stops at the cap", () => {
    const delays = [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, { baseMs: 100, maxMs: 1000 }));
    assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
  });
  it("spreads delays within the jitter share, never outside it", () => {
    const seen = Array.from({ length: 200 }, () =>
      backoffDelay(3, { baseMs: 100, maxMs: 1000, jitter: 0.25 }),
    );
    for (const d of seen) assert.ok(d >= 300 && d <= 500, `${d} within 400 ± 25 %`);
    assert.ok(new Set(seen).size > 100, "the delays differ from each other");
  });
});

describe("random ids", () => {
  it("are 64-bit, non-zero and do not repeat", () => {
    const ids = Array.from({ length: 1000 }, randomLong);
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.ok(id !== 0n && id >= -(2n ** 63n) && id < 2n ** 63n);
    for (let i = 0; i < 1000; i++) {
      const id = randomPositiveLong();
      assert.ok(id > 0n && id < 2n ** 63n);
    }
  });
});
