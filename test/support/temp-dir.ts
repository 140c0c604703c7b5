/** A fresh temp directory per test, removed afterwards (even when the test fails). */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestContext } from "node:test";

export function tempDir(t: Pick<TestContext, "after">, prefix = "medusa-test-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
