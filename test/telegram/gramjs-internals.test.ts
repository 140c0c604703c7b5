/** The seam to gramjs's internals: the version they were read in is enforced, and no other file reaches past it. */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { UserError } from "../../src/errors.js";
import {
  checkGramjsVersion,
  GRAMJS_VERSION,
  installedGramjsVersion,
} from "../../src/telegram/gramjs-internals.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SEAM = "src/telegram/gramjs-internals.ts";

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(path.join(ROOT, dir), { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory()
        ? sourceFiles(path.join(dir, entry.name))
        : entry.name.endsWith(".ts")
          ? [path.join(dir, entry.name)]
          : [],
    );
}

/** Files under src/ whose text matches `pattern`, as repo-relative paths. */
function filesMatching(pattern: RegExp): string[] {
  return sourceFiles("src").filter((file) => pattern.test(fs.readFileSync(path.join(ROOT, file), "utf8")));
}

describe("gramjs version check", () => {
  it("accepts the installed gramjs, which is the version the internals were read in", () => {
    assert.equal(installedGramjsVersion(), GRAMJS_VERSION);
    assert.doesNotThrow(() => checkGramjsVersion(installedGramjsVersion()));
  });

  for (const found of ["2.26.21", "2.27.0", "3.0.0-beta.1"]) {
    it(`refuses gramjs ${found}, naming both versions and the fix`, () => {
      assert.throws(
        () => checkGramjsVersion(found),
        (error: unknown) => {
          assert.ok(error instanceof UserError);
          assert.equal(error.code, "GRAMJS_VERSION");
          assert.ok(error.message.includes(found), error.message);
          assert.ok(error.message.includes(`exactly ${GRAMJS_VERSION}`), error.message);
          assert.match(error.hint ?? "", /npm ci/);
          return true;
        },
      );
    });
  }

  it("is pinned exactly in package.json and the lock file", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
    assert.equal(pkg.dependencies.telegram, GRAMJS_VERSION);
    assert.equal(lock.packages[""].dependencies.telegram, GRAMJS_VERSION);
    assert.equal(lock.packages["node_modules/telegram"].version, GRAMJS_VERSION);
  });
});

describe("gramjs internals stay in one module", () => {
  it("reads gramjs's private client fields nowhere else", () => {
    const pattern =
      /\._(sender|serverKeys|exportedSenderPromises|exportedSenderReleaseTimeouts|borrowedSenderPromises)\b/;
    assert.deepEqual(filesMatching(pattern), [SEAM]);
  });

  it("replaces prototypes and module exports nowhere else", () => {
    assert.deepEqual(filesMatching(/prototype\./), [SEAM]);
    assert.deepEqual(filesMatching(/require\("telegram/), [SEAM]);
  });
});
