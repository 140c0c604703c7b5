/**
 * Memory discipline for long transfers (uploads, downloads). Each part leaves one dead 512 KiB packet behind (OpenSSL's output, once
 * the socket has taken it). V8 returns that memory only when it collects the Buffer object, and lets tens of MiB
 * of such external memory pile up before it does, so a 3 GiB upload peaked ~40 MiB above its live set
 * (173 MiB RSS here). The packets die young: a young-generation collection (~0.05 ms, measured) every few MiB
 * sent gives the memory back at once (133 MiB for the same run). Packets still in flight at two young collections
 * move to the old generation, which only a full collection frees: one every 128 MiB (~3 ms) covers them
 * (3 GiB at 100 MiB/s: 170 MiB RSS with young collections only).
 * V8's `gc` is reached without `--expose-gc` on the command line: the flag set at run time exposes it to new
 * contexts only, so nothing else in the process changes.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

type Gc = (options?: { type?: "minor" | "major" }) => void;

let cached: Gc | null | undefined;

function v8Gc(): Gc | null {
  if (cached !== undefined) return cached;
  cached = null;
  try {
    const existing = (globalThis as { gc?: Gc }).gc;
    if (typeof existing === "function") {
      cached = existing;
    } else {
      setFlagsFromString("--expose-gc");
      const gc = runInNewContext("gc") as unknown;
      if (typeof gc === "function") cached = gc as Gc;
    }
  } catch {
    cached = null; // no such hook in this runtime: memory is then only as tight as V8 keeps it
  }
  return cached;
}

/** Collects the young generation, if the runtime allows it; otherwise does nothing. */
export function collectYoungGarbage(): void {
  v8Gc()?.({ type: "minor" });
}

/** Collects the whole heap (packets that outlived two young collections were moved to the old one). */
export function collectAllGarbage(): void {
  v8Gc()?.({ type: "major" });
}
