import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CancelledError, DownloadError, ToolError, UploadError, UserError } from "../../src/errors.js";
import { retryDecision } from "../../src/jobs/retry.js";
import { TelegramError } from "../../src/telegram/telegram-error.js";

const policy = { maxAttempts: 5, baseMs: 1000, maxMs: 60_000 };

describe("retryDecision", () => {
  it("never retries what the user asked to stop or what another try cannot fix", () => {
    for (const error of [
      new CancelledError(),
      new UserError("BATCH_TOO_LARGE", "too large"),
      new DownloadError("URL_PRIVATE_ADDRESS", "refused"),
      new DownloadError("DRM_PROTECTED", "drm"),
      new DownloadError("HTTP_404", "gone"),
      new DownloadError("HTTP_403", "forbidden"),
      new ToolError("TOOL_FAILED", "ffmpeg", "bad input"),
      new TelegramError("CHAT_WRITE_FORBIDDEN", "no rights"),
    ]) {
      assert.equal(retryDecision(error, 1, policy).retry, false, error.code);
    }
    assert.deepEqual(retryDecision(new CancelledError(), 1, policy), { retry: false, why: "cancelled" });
  });

  it("retries server errors, rate limits and lost connections with a growing, jittered backoff", () => {
    for (const code of ["HTTP_500", "HTTP_503", "HTTP_429", "HTTP_408", "CONNECTION_LOST", "HTTP_TIMEOUT"]) {
      const first = retryDecision(new DownloadError(code, code), 1, policy);
      const third = retryDecision(new DownloadError(code, code), 3, policy);
      assert.ok(first.retry && third.retry, code);
      if (first.retry && third.retry) {
        assert.ok(first.delayMs >= 750 && first.delayMs <= 1250, `${code} first ${first.delayMs}`);
        assert.ok(third.delayMs >= 3000 && third.delayMs <= 5000, `${code} third ${third.delayMs}`);
      }
    }
    assert.equal(
      retryDecision(new Error("socket hang up"), 1, policy).retry,
      true,
      "unknown errors: transient",
    );
  });

  it("waits exactly as long as Telegram asked, and gives up on absurd waits", () => {
    const flood = new UploadError("UPLOAD_FLOOD_WAIT", "wait", { retryAfterSeconds: 420 });
    assert.deepEqual(retryDecision(flood, 1, policy), { retry: true, delayMs: 421_000, why: "flood_wait" });
    const edit = new TelegramError("FLOOD_WAIT", "wait", { retryAfterSeconds: 3 });
    assert.deepEqual(retryDecision(edit, 2, policy), { retry: true, delayMs: 4000, why: "flood_wait" });
    const forever = new TelegramError("FLOOD_WAIT", "wait", { retryAfterSeconds: 86_400 });
    assert.equal(retryDecision(forever, 1, policy).retry, false);
  });

  it("stops after the last attempt and waits longer for a full disk", () => {
    assert.deepEqual(retryDecision(new DownloadError("HTTP_503", "busy"), 5, policy), {
      retry: false,
      why: "attempts",
    });
    const disk = retryDecision(new DownloadError("DISK_FULL", "full"), 1, policy);
    assert.ok(disk.retry && disk.why === "disk" && disk.delayMs >= 60_000);
  });
});
