/**
 * A resumable download's state in the job's folder: the bytes under a stable name and, next to them, a small JSON
 * record of the link, the server's validator (strong ETag or Last-Modified), the total length and the byte
 * intervals known to be on disk. The record lives beside the bytes, so the two go away together with the folder.
 */
import type { Hash } from "node:crypto";
import fs from "node:fs/promises";
import type http from "node:http";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type { TransferRange } from "./transfer.js";

export const PARTIAL_FILE = ".medusa-download.part";
export const PARTIAL_STATE = ".medusa-download.json";
/** A record is a few hundred bytes; anything much larger is not ours. */
const MAX_STATE_BYTES = 1024 * 1024;
/** Intervals kept in a record: a segmented download leaves a few dozen at most. */
const MAX_INTERVALS = 10_000;

export interface PartialState {
  v: 1;
  /** The link as given (a redirect target may be a signed URL that changes between attempts). */
  url: string;
  etag?: string;
  lastModified?: string;
  total: number;
  /** [start, end) intervals on disk, sorted, not overlapping. */
  done: Array<[number, number]>;
}

/** The record for `url` with its bytes, or undefined when there is none, it is another link's, or unreadable. */
export async function loadPartial(
  statePath: string,
  partPath: string,
  url: string,
): Promise<PartialState | undefined> {
  try {
    const [state, part] = await Promise.all([fs.stat(statePath), fs.stat(partPath)]);
    if (state.size > MAX_STATE_BYTES) return undefined;
    const parsed = JSON.parse(await fs.readFile(statePath, "utf8")) as Partial<PartialState>;
    const total = parsed.total;
    if (parsed.v !== 1 || parsed.url !== url || !Number.isSafeInteger(total) || (total as number) <= 0) {
      return undefined;
    }
    if (typeof parsed.etag !== "string" && typeof parsed.lastModified !== "string") return undefined;
    if (!Array.isArray(parsed.done) || parsed.done.length > MAX_INTERVALS) return undefined;
    const done: Array<[number, number]> = [];
    for (const item of parsed.done) {
      if (!Array.isArray(item) || item.length !== 2) return undefined;
      const [start, end] = item as [unknown, unknown];
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) return undefined;
      // Only what the file still holds: a record never vouches for bytes past its end.
      const s = start as number;
      const e = Math.min(end as number, part.size, total as number);
      if (s < 0 || e <= s) continue;
      done.push([s, e]);
    }
    return {
      v: 1,
      url,
      ...(typeof parsed.etag === "string" ? { etag: parsed.etag } : {}),
      ...(typeof parsed.lastModified === "string" ? { lastModified: parsed.lastModified } : {}),
      total: total as number,
      done: merge(done),
    };
  } catch {
    return undefined; // no record, no bytes, or a torn file: start over
  }
}

export async function removePartial(dir: string): Promise<void> {
  await fs.rm(path.join(dir, PARTIAL_STATE), { force: true });
  await fs.rm(path.join(dir, `${PARTIAL_STATE}.tmp`), { force: true });
  await fs.rm(path.join(dir, PARTIAL_FILE), { force: true });
}

/** Replaces `file` whole: a kill leaves the old record or the new one, never half of one. */
export async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  await fs.writeFile(tmp, text);
  await fs.rename(tmp, file);
}

/** The intervals of [0, total) that `done` lacks. */
export function missingOf(
  done: ReadonlyArray<readonly [number, number]>,
  total: number,
): Array<[number, number]> {
  const missing: Array<[number, number]> = [];
  let at = 0;
  for (const [start, end] of done) {
    if (start > at) missing.push([at, start]);
    at = Math.max(at, end);
  }
  if (at < total) missing.push([at, total]);
  return missing;
}

export function onDisk(done: ReadonlyArray<readonly [number, number]>): number {
  return done.reduce((sum, [start, end]) => sum + (end - start), 0);
}

/** The written intervals of a download's ranges, merged. */
export function doneIntervals(ranges: Iterable<TransferRange>): Array<[number, number]> {
  const intervals: Array<[number, number]> = [];
  for (const range of ranges) {
    const end = range.durable ?? range.start;
    if (end > range.start) intervals.push([range.start, end]);
  }
  return merge(intervals);
}

/** Bytes from 0 that are on disk without a gap. */
export function contiguousEnd(ranges: Iterable<TransferRange>): number {
  const first = doneIntervals(ranges)[0];
  return first && first[0] === 0 ? first[1] : 0;
}

/** The response still describes the file the record was made for. */
export function sameValidator(headers: http.IncomingHttpHeaders, state: PartialState): boolean {
  if (state.etag !== undefined) return headers.etag === state.etag;
  return state.lastModified !== undefined && headers["last-modified"] === state.lastModified;
}

/** Feeds bytes [0, end) of `file` to `hash` (a resumed download's digest starts with what is on disk). */
export async function hashPrefix(file: string, end: number, hash: Hash, signal?: AbortSignal): Promise<void> {
  const handle = await fs.open(file, "r");
  try {
    await pipeline(
      handle.createReadStream({ start: 0, end: end - 1, autoClose: false }),
      async (source) => {
        for await (const chunk of source) hash.update(chunk as Buffer);
      },
      { signal },
    );
  } finally {
    await handle.close();
  }
}

function merge(intervals: Array<[number, number]>): Array<[number, number]> {
  intervals.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [start, end] of intervals) {
    const last = merged.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}
