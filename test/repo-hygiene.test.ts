import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { execa } from "execa";

const ROOT = path.resolve(import.meta.dirname, "..");

/** Shapes of real credentials; test values are built at run time so they never sit in the repo as literals. */
const SECRET_SHAPES: Array<[string, RegExp]> = [
  ["bot token", /(?<![\w$])\d{8,10}:AA[A-Za-z0-9_-]{33}(?![\w-])/],
  ["api hash", /(api_?hash|API_HASH)\W{1,6}[0-9a-f]{32}\b/i],
  ["session string", /["'`]1[A-Za-z0-9+/_-]{300,}={0,2}["'`]/],
  ["private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
];

async function trackedFiles(): Promise<string[]> {
  const { stdout } = await execa("git", ["ls-files", "-z"], { cwd: ROOT, timeout: 30_000 });
  return stdout.split("\0").filter(Boolean);
}

describe("repository hygiene", () => {
  it("holds no secret-looking literal", async () => {
    const hits: string[] = [];
    for (const file of await trackedFiles()) {
      if (file === "package-lock.json") continue; // integrity hashes only
      const full = path.join(ROOT, file);
      if (!fs.existsSync(full) || fs.statSync(full).size > 2 * 1024 * 1024) continue;
      const text = fs.readFileSync(full, "utf8");
      for (const [what, shape] of SECRET_SHAPES) if (shape.test(text)) hits.push(`${file}: ${what}`);
    }
    assert.deepEqual(hits, []);
  });

  it("tracks no env file, session, database or downloaded media", async () => {
    const bad = (await trackedFiles()).filter(
      (f) =>
        /(^|\/)\.env$/.test(f) ||
        /\.session$/.test(f) ||
        /^data\/(?!\.gitkeep$)/.test(f) ||
        /\.(db|sqlite|mp4|mkv|webm|mp3|m4a|jpg|png)$/.test(f),
    );
    assert.deepEqual(bad, []);
  });
});
