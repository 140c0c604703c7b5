/**
 * better-sqlite3's native addon in the single binary. A .node file can only be loaded from disk, so the binary
 * writes its embedded copy once into a cache folder named by the addon's hash (a new build gets a new folder),
 * through a temporary file and a rename: two starts at once each write their own temporary and the rename is
 * atomic, so neither ever loads a half-written file.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { bundledAsset, inSingleBinary } from "../lib/sea.js";

/** The asset name the build (scripts/build-binary.ts) embeds the addon under. */
export const SQLITE_ADDON_ASSET = "better_sqlite3.node";
/** Enough of the SHA-256 to tell builds apart. */
const HASH_CHARS = 16;

/** The loaded addon, once per process (Node loads a .node file only once anyway). */
let bundledAddon: object | undefined;

/**
 * Unpacks (first start only) and loads the embedded addon from `cacheDir`; returns the file it loaded.
 * A no-op outside the single binary.
 */
export function useBundledSqliteAddon(cacheDir: string): string | undefined {
  const bytes = bundledAsset(SQLITE_ADDON_ASSET);
  if (!bytes) return undefined;
  const hash = createHash("sha256").update(bytes).digest("hex").slice(0, HASH_CHARS);
  const file = path.join(cacheDir, hash, SQLITE_ADDON_ASSET);
  if (fs.statSync(file, { throwIfNoEntry: false })?.size !== bytes.length) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      fs.writeFileSync(temporary, bytes, { mode: 0o755 });
      fs.renameSync(temporary, file);
    } finally {
      fs.rmSync(temporary, { force: true });
    }
  }
  if (!bundledAddon) {
    const module = { exports: {} };
    process.dlopen(module, file);
    bundledAddon = module.exports;
  }
  return file;
}

/** What openDatabase hands better-sqlite3 as `nativeBinding`: the unpacked addon, or undefined to find its own. */
export function sqliteNativeBinding(): object | undefined {
  if (!bundledAddon && inSingleBinary()) {
    throw new Error("the single binary opened the database before useBundledSqliteAddon unpacked the addon");
  }
  return bundledAddon;
}
