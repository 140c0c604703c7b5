/**
 * How a file of a given size is cut into parts, and Telegram's limits, checked before any byte is sent.
 */
import { UploadError } from "../errors.js";
import { MIB } from "../lib/size.js";

/** The largest part Telegram accepts; parts must also divide 512 KiB and be multiples of 1 KiB. */
export const PART_SIZE = 512 * 1024;
/** Telegram: a file larger than 10 MB must go through upload.saveBigFilePart and InputFileBig. */
export const BIG_FILE_THRESHOLD = 10 * 1024 * 1024;
/** 4000 parts x 512 KiB = 2000 MiB, the limit of bots and normal users. */
export const MAX_PART_COUNT = 4000;
/** 8000 parts x 512 KiB = 4000 MiB for Premium user sessions. */
export const MAX_PART_COUNT_PREMIUM = 8000;

export interface UploadPlan {
  readonly size: number;
  readonly partSize: number;
  readonly partCount: number;
  /** saveBigFilePart + InputFileBig rather than saveFilePart + InputFile. */
  readonly big: boolean;
}

export function planUpload(size: number, premium: boolean): UploadPlan {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new TypeError(`Expected the file size to be a non-negative integer, got ${size}`);
  }
  if (size === 0) {
    throw new UploadError(
      "UPLOAD_EMPTY_FILE",
      "The file is empty (0 bytes): Telegram does not accept empty files",
      {
        hint: "Check that the download finished",
      },
    );
  }
  const partCount = Math.ceil(size / PART_SIZE);
  const maxParts = premium ? MAX_PART_COUNT_PREMIUM : MAX_PART_COUNT;
  if (partCount > maxParts) {
    const limitMib = (maxParts * PART_SIZE) / MIB;
    throw new UploadError(
      "UPLOAD_TOO_MANY_PARTS",
      `The file is ${(size / MIB).toFixed(1)} MiB (${partCount} parts of 512 KiB); ` +
        `Telegram accepts at most ${maxParts} parts (${limitMib} MiB)${premium ? "" : " without Premium"}`,
      {
        hint: premium
          ? `Split it into pieces of at most ${limitMib} MiB`
          : `Split it into pieces of at most ${limitMib} MiB, or upload with a Premium user session`,
        params: { limit: `${limitMib} MiB` },
      },
    );
  }
  return { size, partSize: PART_SIZE, partCount, big: size > BIG_FILE_THRESHOLD };
}

/** Bytes in part `index` (all parts are full but the last). */
export function partLength(plan: UploadPlan, index: number): number {
  return index === plan.partCount - 1 ? plan.size - index * plan.partSize : plan.partSize;
}
