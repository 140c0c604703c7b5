/** Turns at heavy work: other work gets the event loop between two turns, not after all of them. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLoopTurns } from "../../src/lib/loop-turns.js";

/** Synchronous work of at least `ms`, as a part's encryption is: it holds the thread, it does not wait. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spinning is the point: the thread is held as encryption holds it
  }
}

describe("loop turns", () => {
  it("lets a due timer run after the first turn rather than after all twenty", async () => {
    const turns = createLoopTurns();
    const order: string[] = [];
    // Due once any turn has held the thread past 1 ms; it can only run when the loop gets to its timers.
    setTimeout(() => order.push("timer"), 0);
    busy(2);
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        await turns.next();
        order.push(`turn ${i}`);
        busy(2);
      }),
    );
    assert.ok(order.includes("timer"), order.join(", "));
    assert.ok(order.indexOf("timer") <= 1, `the timer ran at ${order.indexOf("timer")}: ${order.join(", ")}`);
    assert.deepEqual(
      order.filter((o) => o !== "timer"),
      Array.from({ length: 20 }, (_, i) => `turn ${i}`),
      "turns in the order asked",
    );
  });

  it("gives the turn at once, in the next pass, to a lone caller", async () => {
    const turns = createLoopTurns();
    let got = false;
    const waiting = turns.next().then(() => {
      got = true;
    });
    assert.equal(got, false, "not within the current task");
    await waiting;
    assert.equal(got, true);
  });
});
