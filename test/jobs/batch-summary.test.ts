import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { batchSummaryTexts } from "../../src/bot/summary-texts.js";
import { type BatchFailure, type BatchSummary, renderBatchSummary } from "../../src/jobs/batch-summary.js";
import { readHtml, visible } from "./read-telegram-html.js";

const BASE: BatchSummary = {
  done: 12,
  failed: 0,
  skipped: 1,
  cancelled: 0,
  bytes: 1.5 * 1024 ** 3,
  seconds: 3723,
  failures: [],
};

const render = (summary: BatchSummary) => renderBatchSummary(summary, batchSummaryTexts("en"));

function withFailures(failures: BatchFailure[], failed = failures.length): BatchSummary {
  return { ...BASE, failed, failures };
}

describe("renderBatchSummary", () => {
  it("gives the counts, the size and the time", () => {
    const html = render(BASE);
    assert.equal(
      visible(html),
      "Batch finished\nDone: 12 · Failed: 0 · Skipped: 1 · Cancelled: 0\nDelivered 1.5 GiB in 1:02:03",
    );
    assert.deepEqual(readHtml(html).elements, [{ tag: "b", text: "Batch finished" }]);
  });

  it("lists each failure by line number, with its name and reason, in line order", () => {
    const html = render(
      withFailures([
        { line: 7, name: null, reason: "The file is larger than 2000 MiB." },
        { line: 3, name: "Lecture 1", reason: "The site refused the download." },
      ]),
    );
    assert.equal(
      visible(html),
      [
        "Batch finished",
        "Done: 12 · Failed: 2 · Skipped: 1 · Cancelled: 0",
        "Delivered 1.5 GiB in 1:02:03",
        "",
        "Failed",
        "Line 3 · Lecture 1: The site refused the download.",
        "Line 7: The file is larger than 2000 MiB.",
      ].join("\n"),
    );
  });

  it("shows names and reasons literally, each failure on one line", () => {
    const html = render(
      withFailures([{ line: 1, name: '<b>"x"</b> &amp;\nLine 2: fake', reason: "size < 2 GiB & \u202Eno" }]),
    );
    assert.equal(
      visible(html).split("\n").at(-1),
      'Line 1 · <b>"x"</b> &amp; Line 2: fake: size < 2 GiB & no',
    );
  });

  it("shortens a very long name or reason so one failure cannot take the whole message", () => {
    const text = visible(
      render(withFailures([{ line: 1, name: "n".repeat(500), reason: "r".repeat(5000) }])),
    );
    assert.equal(text.split("\n").at(-1), `Line 1 · ${"n".repeat(99)}…: ${"r".repeat(299)}…`);
  });

  it("speaks the reader's language: Russian words, a failed job's reason from its saved error key", () => {
    const ru = batchSummaryTexts("ru");
    const reason = ru.reason({
      error_code: "HTTP_GONE",
      error_message: "The server answered 404. Check the link; the file may have been removed.",
      error_key: "err.HTTP_GONE",
      error_params: JSON.stringify({ status: 404 }),
    });
    const text = visible(renderBatchSummary(withFailures([{ line: 3, name: "Лекция", reason }]), ru));
    assert.equal(
      text,
      [
        "Пакет завершён",
        "Готово: 12 · Ошибки: 1 · Пропущено: 1 · Отменено: 0",
        "Доставлено 1.5 GiB за 1:02:03",
        "",
        "Ошибки",
        `Строка 3 · Лекция: ${reason}`,
      ].join("\n"),
    );
    assert.match(reason, /404/);
    assert.ok(!/[a-z]{3}/i.test(reason), `Russian, not English: ${reason}`);
    assert.equal(ru.reason({ error_code: null, error_message: null }), "Ошибка по неизвестной причине.");
  });

  it("counts failures it was not given the details of", () => {
    const text = visible(render(withFailures([{ line: 4, name: null, reason: "Gone." }], 3)));
    assert.ok(
      text.endsWith(
        "Failed: 3 · Skipped: 1 · Cancelled: 0\nDelivered 1.5 GiB in 1:02:03\n\nFailed\nLine 4: Gone.\n… and 2 more",
      ),
    );
  });
});

describe("renderBatchSummary: 4096 visible characters", () => {
  /** A failure whose reason is `units` long: `char` repeated, after one "x" when the parity asks for it. */
  const failure = (line: number, units: number, char = "r"): BatchFailure => ({
    line,
    name: null,
    reason: "x".repeat(units % char.length) + char.repeat(Math.floor(units / char.length)),
  });

  it("lists the first failures and says how many more there are", () => {
    const failures = Array.from({ length: 500 }, (_, i) => ({
      line: 1000 - i,
      name: `Video ${i}`,
      reason: "The site said the video is private.",
    }));
    const text = visible(render(withFailures(failures)));
    assert.ok(text.length <= 4096);
    const lines = text.split("\n");
    const listed = lines.filter((l) => l.startsWith("Line "));
    assert.equal(listed[0], "Line 501 · Video 499: The site said the video is private.");
    const more = Number(/^… and (\d+) more$/.exec(lines.at(-1)!)?.[1]);
    assert.equal(listed.length + more, 500);
    // As many as fit: one more line would not leave room for "… and N more".
    const next = `\nLine ${501 + listed.length} · Video ${499 - listed.length}: The site said the video is private.`;
    assert.ok(
      text.length - `\n… and ${more} more`.length + next.length + `\n… and ${more - 1} more`.length > 4096,
    );
  });

  /** Failures on lines 10, 11, … ("Line NN: " and the reason, 10 units with the line break) totalling `total`. */
  function exactly(total: number, char: string): BatchFailure[] {
    const header = (n: number) => visible(render(withFailures([], n))).length - `\n… and ${n} more`.length;
    const full = 10 + 300; // a reason of 300 units is the longest kept whole
    for (let n = 1; n < 90; n++) {
      const last = total - header(n) - (n - 1) * full - 10;
      if (last >= char.length && last <= 300) {
        return Array.from({ length: n }, (_, i) => failure(10 + i, i === n - 1 ? last : 300, char));
      }
    }
    throw new Error("no arrangement");
  }

  it("fits a summary of exactly 4096 whole, and moves one failure to 'and 1 more' at 4097", () => {
    const failures = exactly(4096, "r");
    const text = visible(render(withFailures(failures)));
    assert.equal(text.length, 4096);
    assert.ok(!text.includes("more"));

    const last = failures.at(-1)!;
    const over = [...failures.slice(0, -1), { ...last, reason: `${last.reason}r` }];
    const shorter = visible(render(withFailures(over)));
    assert.ok(shorter.length <= 4096);
    assert.ok(shorter.endsWith("\n… and 1 more"));
    assert.equal(shorter.split("\n").filter((l) => l.startsWith("Line ")).length, failures.length - 1);
  });

  it("counts emoji as two units", () => {
    const failures = exactly(4096, "😀");
    const text = visible(render(withFailures(failures)));
    assert.equal(text.length, 4096);
    const last = failures.at(-1)!;
    const over = [...failures.slice(0, -1), { ...last, reason: `${last.reason}😀` }];
    assert.ok(visible(render(withFailures(over))).endsWith("… and 1 more"));
  });
});
