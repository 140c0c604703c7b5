import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { CancelledError, ToolError } from "../../src/errors.js";
import { runTool } from "../../src/lib/run-tool.js";

const FFMPEG = "ffmpeg";
/** Generous: the slow machine is shared, and the tests below never wait this long unless something is wrong. */
const TIMEOUT_MS = 30_000;

/** A process is gone when /proc has no entry for it or it is a zombie waiting for its reaper. */
function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

describe("runTool", () => {
  it("returns stdout of a successful run", async () => {
    const { stdout } = await runTool(FFMPEG, ["-hide_banner", "-version"], { timeoutMs: TIMEOUT_MS });
    assert.match(stdout, /^ffmpeg version/);
  });

  it("throws a ToolError with the exit code and the stderr tail when the program fails", async () => {
    const error = await runTool(FFMPEG, ["-hide_banner", "-i", "/nonexistent/medusa-input.mp4"], {
      timeoutMs: TIMEOUT_MS,
    }).catch((e: unknown) => e);
    assert.ok(error instanceof ToolError);
    assert.equal(error.code, "TOOL_FAILED");
    assert.equal(error.tool, "ffmpeg");
    assert.notEqual(error.exitCode, 0);
    assert.match(error.stderrTail, /No such file or directory/);
    assert.match(error.message, /No such file or directory/);
  });

  it("throws TOOL_NOT_FOUND for a missing program", async () => {
    const error = await runTool("/nonexistent/medusa-tool", [], { timeoutMs: TIMEOUT_MS }).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof ToolError);
    assert.equal(error.code, "TOOL_NOT_FOUND");
  });

  it("kills a run that outlives its timeout and keeps its stderr", async () => {
    // -re reads the endless test source in real time, so only the timeout can end it.
    const args = ["-re", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=5", "-f", "null", "-"];
    const error = await runTool(FFMPEG, args, { timeoutMs: 500 }).catch((e: unknown) => e);
    assert.ok(error instanceof ToolError);
    assert.equal(error.code, "TOOL_TIMEOUT");
    assert.match(error.stderrTail, /testsrc|Input #0/);
  });

  it("cancel kills the whole process tree, grandchildren included", async () => {
    // A parent that starts a long-lived child and prints its pid: the shape of yt-dlp starting ffmpeg.
    const script = [
      "const { spawn } = require('node:child_process');",
      "const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });",
      "console.log(child.pid);",
      "setInterval(() => {}, 1000);",
    ].join("\n");
    const controller = new AbortController();
    let grandchild = 0;
    const error = await runTool(process.execPath, ["-e", script], {
      timeoutMs: TIMEOUT_MS,
      signal: controller.signal,
      onStdoutLine: (line) => {
        grandchild = Number(line);
        controller.abort();
      },
    }).catch((e: unknown) => e);
    assert.ok(error instanceof CancelledError);
    assert.ok(grandchild > 0);
    assert.ok(processGone(grandchild), `process ${grandchild} should be gone`);
  });

  it("stops the program and rethrows when a line callback throws", async () => {
    const failure = new Error("consumer failed");
    const error = await runTool(process.execPath, ["-e", "setInterval(() => console.log('line'), 10)"], {
      timeoutMs: TIMEOUT_MS,
      onStdoutLine: () => {
        throw failure;
      },
    }).catch((e: unknown) => e);
    assert.equal(error, failure);
  });

  it("refuses to start when already cancelled", async () => {
    const error = await runTool(FFMPEG, ["-version"], {
      timeoutMs: TIMEOUT_MS,
      signal: AbortSignal.abort(),
    }).catch((e: unknown) => e);
    assert.ok(error instanceof CancelledError);
  });
});
