/** `npm run demo`, the README's first command: the whole product offline, ending in one JSON line. */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { execa } from "execa";

const ROOT = path.resolve(import.meta.dirname, "../..");

describe("npm run demo", () => {
  it("plays the conversation, delivers every direct file byte for byte and ends in its JSON line", async () => {
    const run = await execa("npm", ["run", "--silent", "demo"], {
      cwd: ROOT,
      reject: false,
      timeout: 420_000, // the README says 1-2 minutes; a loaded CI machine gets room, a hang does not
      env: { CI: "true" },
    });
    assert.equal(run.exitCode, 0, `${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`);
    const last = run.stdout.trim().split("\n").at(-1) ?? "";
    const summary = JSON.parse(last) as Record<string, number | boolean>;
    assert.deepEqual(Object.keys(summary), [
      "jobs",
      "done",
      "failed",
      "canceled",
      "uploaded_bytes",
      "sha256_ok",
      "seconds",
    ]);
    assert.equal(summary.sha256_ok, true);
    assert.equal(summary.jobs, 7);
    assert.equal(summary.done, 5);
    assert.equal(summary.failed, 1, "the dead link");
    assert.equal(summary.canceled, 1, "the job cancelled from the live status");
    assert.ok(Number(summary.uploaded_bytes) > 2000 * 1024 * 1024, "the big file went up, split");
    assert.match(run.stdout, /Uma → presses Cancel on job #\d+\n {3}bot: \(answer\) Cancelled\./);
    assert.match(run.stdout, /\[video index\.mp4, .*thumbnail\]/, "the HLS stream arrives as a video");
    assert.match(run.stdout, /Log channel: 6 copies/);
  });
});
