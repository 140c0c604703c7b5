/**
 * What an upload in progress keeps in the job's checkpoint so that a crash or a restart resumes it: the file id and
 * the parts Telegram acknowledged, as ranges ("0-41,44-60"), written at most once a second rather than per part.
 */

/** Acknowledged parts are written at most this often while an upload runs. */
export const UPLOAD_SAVE_EVERY_MS = 1000;
/** A file has at most 8000 parts (Premium); more ranges than that is a broken checkpoint. */
const MAX_RANGES = 8000;

/** One prepared part's upload, as the checkpoint holds it. */
export interface SavedUpload {
  /** The upload's file id (a signed 64-bit integer, as text). */
  fileId: string;
  /** The part it belongs to, so that a re-prepared part of other content starts over. */
  size: number;
  sha256: string;
  /** Acknowledged part indexes as ranges. */
  acked: string;
}

/** "0-3,5,7-9" for {0,1,2,3,5,7,8,9}. */
export function encodeParts(parts: Iterable<number>): string {
  const sorted = [...new Set(parts)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    const start = sorted[i] as number;
    let end = start;
    while (i + 1 < sorted.length && sorted[i + 1] === end + 1) end = sorted[++i] as number;
    ranges.push(start === end ? String(start) : `${start}-${end}`);
    i++;
  }
  return ranges.join(",");
}

/** The part indexes below `partCount` that `text` names; anything malformed counts as not acknowledged. */
export function decodeParts(text: string, partCount: number): number[] {
  const parts: number[] = [];
  const ranges = text === "" ? [] : text.split(",", MAX_RANGES);
  for (const range of ranges) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(range);
    if (!match) continue;
    const start = Number(match[1]);
    const end = Math.min(Number(match[2] ?? match[1]), partCount - 1);
    for (let part = start; part <= end; part++) parts.push(part);
  }
  return parts;
}

export interface UploadTracker {
  /** The resume options for the uploader, when the saved upload fits this part. */
  readonly resume: { fileId: bigint; acknowledgedParts: number[] } | undefined;
  /** For UploadOptions.onPartAcknowledged. */
  acknowledged(part: number, fileId: bigint): void;
  /** Starts over (the saved parts are gone): forgets the file id and the parts. */
  reset(): void;
  /** Writes what is not written yet and waits for every write. */
  flush(): Promise<void>;
}

/**
 * Tracks one part's upload. `write(saved)` persists it (the caller's checkpoint); calls are serialised, at most one
 * per UPLOAD_SAVE_EVERY_MS while parts arrive, and a failed write is reported once through `onError` and retried by
 * the next one: losing progress only costs a re-sent part.
 */
export function trackUpload(options: {
  saved: SavedUpload | undefined;
  part: { size: number; sha256: string };
  partCount: number;
  write: (saved: SavedUpload | undefined) => Promise<void>;
  onError?: (error: unknown) => void;
  now?: () => number;
}): UploadTracker {
  const now = options.now ?? Date.now;
  const fits =
    options.saved !== undefined &&
    options.saved.size === options.part.size &&
    options.saved.sha256 === options.part.sha256 &&
    /^-?\d{1,20}$/.test(options.saved.fileId);
  let fileId = fits ? options.saved?.fileId : undefined;
  const acked = new Set(fits ? decodeParts(options.saved?.acked ?? "", options.partCount) : []);
  const resume =
    fits && fileId !== undefined ? { fileId: BigInt(fileId), acknowledgedParts: [...acked] } : undefined;
  let lastWrite = now();
  let dirty = false;
  let chain: Promise<void> = Promise.resolve();

  const snapshot = (): SavedUpload | undefined =>
    fileId === undefined
      ? undefined
      : { fileId, size: options.part.size, sha256: options.part.sha256, acked: encodeParts(acked) };
  const writeNow = () => {
    dirty = false;
    lastWrite = now();
    const saved = snapshot();
    chain = chain.then(() =>
      options.write(saved).catch((error: unknown) => {
        dirty = true; // the next write carries it
        options.onError?.(error);
      }),
    );
  };

  return {
    resume,
    acknowledged(part, id) {
      const text = id.toString();
      if (fileId !== text) {
        fileId = text;
        acked.clear();
      }
      acked.add(part);
      dirty = true;
      if (now() - lastWrite >= UPLOAD_SAVE_EVERY_MS) writeNow();
    },
    reset() {
      fileId = undefined;
      acked.clear();
      writeNow();
    },
    async flush() {
      if (dirty) writeNow();
      await chain;
    },
  };
}
