import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type BoardJob,
  CANCEL_ALL_DATA,
  cancelJobData,
  JOBS_PER_PAGE,
  pageData,
  pauseJobData,
  renderBoard,
  resumeJobData,
} from "../../src/bot/status-render.js";
import { STATUS_TEXTS_EN, STATUS_TEXTS_RU } from "../../src/bot/status-texts.js";
import { readHtml } from "../jobs/read-telegram-html.js";

const MIB = 1024 * 1024;

function job(id: number, patch: Partial<BoardJob> = {}): BoardJob {
  return {
    id,
    name: `file-${id}.mp4`,
    stage: "queued",
    position: id,
    bytesDone: 0,
    bytesTotal: null,
    bytesPerSecond: null,
    etaMs: null,
    link: null,
    reason: null,
    ...patch,
  };
}

const datas = (buttons: { data?: string }[][]) => buttons.flat().map((b) => b.data);

describe("status board rendering", () => {
  it("shows each stage with its bar, percent, sizes, speed and ETA, running jobs first", () => {
    const board = renderBoard(
      [
        job(3, { stage: "queued", position: 2 }),
        job(1, {
          stage: "downloading",
          bytesDone: 5 * MIB,
          bytesTotal: 10 * MIB,
          bytesPerSecond: MIB,
          etaMs: 5000,
        }),
        job(2, { stage: "uploading", bytesDone: 3 * MIB, bytesTotal: 4 * MIB }),
        job(4, { stage: "done", link: "https://t.me/chan/42" }),
        job(5, { stage: "failed", reason: "The server answered 404." }),
        job(6, { stage: "cancelled" }),
        job(7, { stage: "sending", bytesDone: 4 * MIB, bytesTotal: 4 * MIB }),
        job(8, { stage: "queued", position: 1 }),
      ],
      0,
      STATUS_TEXTS_EN,
    );
    const read = readHtml(board.text);
    const lines = read.text.split("\n").filter(Boolean);
    assert.equal(lines[0], "Your jobs: 5 active");
    assert.deepEqual(
      lines.filter((l) => l.startsWith("#")).map((l) => l.split(" ")[0]),
      ["#1", "#2", "#7", "#8", "#3", "#4", "#5", "#6"],
      "running, then queued by position, then finished",
    );
    assert.ok(lines.includes("Downloading · █████░░░░░ 50% · 5.0 MiB / 10.0 MiB · 1.0 MiB/s · ETA 0:05"));
    assert.ok(lines.includes("Uploading · ███████░░░ 75% · 3.0 MiB / 4.0 MiB"));
    assert.ok(lines.includes("Sending"), "no bar for a send by reference");
    assert.ok(lines.includes("Queued, #1 in line"));
    assert.ok(lines.includes("✅ Done · open"));
    assert.deepEqual(
      read.elements.filter((e) => e.tag === "a"),
      [{ tag: "a", text: "open", href: "https://t.me/chan/42" }],
    );
    assert.ok(lines.includes("❌ Failed: The server answered 404."));
    assert.ok(lines.includes("🚫 Cancelled"));
    assert.equal(board.finished, false);
    assert.equal(board.pages, 1);
    assert.deepEqual(
      board.buttons.map((row) => row.map((b) => b.data)),
      [
        [pauseJobData(1), cancelJobData(1), pauseJobData(2), cancelJobData(2)],
        [pauseJobData(7), cancelJobData(7), pauseJobData(8), cancelJobData(8)],
        [pauseJobData(3), cancelJobData(3)],
        [CANCEL_ALL_DATA],
      ],
      "pause and cancel for each unfinished job, two jobs a row",
    );
  });

  it("shows the final state without buttons once every job finished", () => {
    const board = renderBoard(
      [job(1, { stage: "done" }), job(2, { stage: "failed", reason: null }), job(3, { stage: "cancelled" })],
      0,
      STATUS_TEXTS_EN,
    );
    const lines = readHtml(board.text).text.split("\n");
    assert.equal(lines[0], "All jobs finished");
    assert.ok(lines.includes("✅ Done"), "no link when the delivered message has none");
    assert.ok(lines.includes("❌ Failed"));
    assert.equal(board.finished, true);
    assert.deepEqual(board.buttons, []);
  });

  it("offers no cancel for a job already cancelling, and says so", () => {
    const board = renderBoard([job(1, { stage: "cancelling" }), job(2)], 0, STATUS_TEXTS_EN);
    assert.ok(readHtml(board.text).text.includes("Cancelling…"));
    assert.deepEqual(datas(board.buttons), [pauseJobData(2), cancelJobData(2), CANCEL_ALL_DATA]);
  });

  it("shows paused jobs after the queued ones, with Resume instead of Pause", () => {
    const board = renderBoard(
      [job(1, { stage: "paused", position: null }), job(2, { stage: "pausing", position: null }), job(3)],
      0,
      STATUS_TEXTS_EN,
    );
    const lines = readHtml(board.text).text.split("\n").filter(Boolean);
    assert.deepEqual(
      lines.filter((l) => l.startsWith("#")).map((l) => l.split(" ")[0]),
      ["#2", "#3", "#1"],
    );
    assert.ok(lines.includes("⏸ Paused") && lines.includes("Pausing…"));
    assert.deepEqual(datas(board.buttons), [
      resumeJobData(2),
      cancelJobData(2),
      pauseJobData(3),
      cancelJobData(3),
      resumeJobData(1),
      cancelJobData(1),
      CANCEL_ALL_DATA,
    ]);
    assert.equal(board.finished, false, "a paused job is not finished");
  });

  it("renders hostile names and reasons literally: markup, bidi controls, line breaks, 300 characters", () => {
    const hostile = `<b>bold</b> &amp; <a href="https://evil.example">x</a>\u202Egnp.exe\n#99 fake line${"ж".repeat(300)}`;
    const board = renderBoard(
      [
        job(1, { name: hostile, stage: "downloading", bytesDone: 1, bytesTotal: 2 }),
        job(2, { stage: "failed", reason: `<i>${"e".repeat(5000)}</i>` }),
      ],
      0,
      STATUS_TEXTS_EN,
    );
    const read = readHtml(board.text); // throws on anything Telegram would refuse
    assert.deepEqual(
      read.elements.map((e) => e.tag),
      ["b", "b", "b"],
      "only the board's own tags: the title and the two job numbers",
    );
    const nameLine = read.text.split("\n").find((l) => l.startsWith("#1 ")) ?? "";
    assert.ok(
      nameLine?.startsWith('#1 <b>bold</b> &amp; <a href="https://evil.example">x</a>gnp.exe #99 fake'),
    );
    assert.ok(!read.text.includes("\u202E"), "no bidi override");
    assert.ok(nameLine.length <= 3 + 80, `the name is cut: ${nameLine.length}`);
    assert.ok(nameLine.endsWith("…"));
    const reasonLine = read.text.split("\n").find((l) => l.startsWith("❌")) ?? "";
    assert.ok(reasonLine.startsWith("❌ Failed: <i>eee"));
    assert.ok(reasonLine.length < 230, `the reason is cut: ${reasonLine.length}`);
  });

  it("pages many jobs, each page within Telegram's 4096 characters, every job on exactly one page", () => {
    const jobs = Array.from({ length: 57 }, (_, i) =>
      job(i + 1, {
        name: `${"長い名前".repeat(100)}-${i}`,
        stage: i % 3 === 0 ? "failed" : "queued",
        reason: "x".repeat(1000),
      }),
    );
    const first = renderBoard(jobs, 0, STATUS_TEXTS_EN);
    assert.ok(first.pages >= Math.ceil(57 / JOBS_PER_PAGE));
    const seen: string[] = [];
    for (let page = 0; page < first.pages; page++) {
      const board = renderBoard(jobs, page, STATUS_TEXTS_EN);
      assert.equal(board.page, page);
      const read = readHtml(board.text);
      assert.ok(read.text.length <= 4096, `page ${page}: ${read.text.length}`);
      const ids = read.text.split("\n").filter((l) => /^#\d+ /.test(l));
      assert.ok(ids.length >= 1 && ids.length <= JOBS_PER_PAGE);
      seen.push(...ids.map((l) => l.split(" ")[0]!));
      assert.ok(read.text.endsWith(`Page ${page + 1} of ${first.pages}`));
      const nav = board.buttons.at(-1)!.map((b) => b.data);
      assert.deepEqual(nav, [
        ...(page > 0 ? [pageData(page - 1)] : []),
        ...(page < first.pages - 1 ? [pageData(page + 1)] : []),
      ]);
      for (const b of board.buttons.flat()) assert.ok(Buffer.byteLength(b.data ?? "") <= 64);
    }
    assert.equal(seen.length, 57);
    assert.equal(new Set(seen).size, 57);
    assert.equal(
      renderBoard(jobs, 999, STATUS_TEXTS_EN).page,
      first.pages - 1,
      "a page past the end is clamped",
    );
    assert.equal(renderBoard(jobs, -3, STATUS_TEXTS_EN).page, 0);
  });

  it("fits a smaller limit by packing fewer jobs on a page", () => {
    const jobs = Array.from({ length: 10 }, (_, i) => job(i + 1));
    const board = renderBoard(jobs, 0, STATUS_TEXTS_EN, 200);
    assert.ok(board.pages > 1);
    assert.ok(readHtml(board.text).text.length <= 200);
  });

  it("takes every word from the catalog it is given", () => {
    const board = renderBoard(
      [job(1, { stage: "downloading", bytesDone: 1, bytesTotal: 4, bytesPerSecond: 2048 }), job(2)],
      0,
      STATUS_TEXTS_RU,
    );
    const text = readHtml(board.text).text;
    assert.match(text, /^Ваши задачи: 2 активные/);
    assert.match(text, /Скачивание · ██░░░░░░░░ 25%/);
    assert.match(text, /2\.0 KiB\/с/);
    assert.match(text, /В очереди, №2/);
    assert.deepEqual(
      board.buttons.flat().map((b) => b.text),
      ["⏸ #1", "✖ #1", "⏸ #2", "✖ #2", "✖ Отменить все"],
    );
  });
});
