/**
 * The single binary (a Node single executable application) carries files a folder install reads from
 * node_modules: the SQLite addon and the WASM crypto. Outside the binary there are no assets.
 */
import sea from "node:sea";

/** True when running as the single binary `dist/medusa`. */
export function inSingleBinary(): boolean {
  return sea.isSea();
}

/** A file embedded in the single binary, or undefined outside it. */
export function bundledAsset(name: string): Buffer | undefined {
  if (!sea.isSea()) return undefined;
  return Buffer.from(sea.getAsset(name));
}
