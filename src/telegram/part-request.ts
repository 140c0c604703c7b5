/**
 * upload.saveBigFilePart / upload.saveFilePart requests serialised once into a reusable buffer, with the file
 * bytes read straight into place: gramjs would otherwise copy each 512 KiB part into a fresh buffer when
 * serialising it, and keep both alive until the server answers.
 */
import { Api, helpers } from "telegram";
import { PART_SIZE } from "./upload-plan.js";

const SAVE_BIG_FILE_PART_ID = 0xde7b673d; // upload.saveBigFilePart#de7b673d
const SAVE_FILE_PART_ID = 0xb304a621; // upload.saveFilePart#b304a621
/** TL `bytes` of 254 bytes or more: 0xfe then a 3-byte length. Parts are at least 1 byte, small ones use 1. */
const TL_LONG_BYTES_MARK = 0xfe;
const TL_SHORT_BYTES_MAX = 253;
/** Constructor + file_id + file_part + file_total_parts + the 4-byte length of `bytes`. */
const MAX_HEADER = 4 + 8 + 4 + 4 + 4;
/** TL pads `bytes` to a multiple of 4. */
const MAX_PADDING = 3;

export const PART_BUFFER_SIZE = MAX_HEADER + PART_SIZE + MAX_PADDING;

export interface PartTarget {
  readonly fileId: bigint;
  readonly big: boolean;
  readonly partCount: number;
}

/** One part's serialised request, laid out in `buffer`; `data` is where the file bytes go. */
export interface PartFrame {
  readonly buffer: Buffer;
  /** Where the caller writes the part's bytes. */
  readonly data: Buffer;
  /** The whole serialised request (header, data, padding). */
  readonly bytes: Buffer;
}

export function allocPartBuffer(): Buffer {
  // Slow = unpooled: these buffers live for the whole upload, so they should not pin Node's shared slab.
  return Buffer.allocUnsafeSlow(PART_BUFFER_SIZE);
}

/** Writes the request header for `part` of `length` bytes into `buffer` and returns where the data goes. */
export function framePart(buffer: Buffer, target: PartTarget, part: number, length: number): PartFrame {
  let offset = 0;
  offset = buffer.writeUInt32LE(target.big ? SAVE_BIG_FILE_PART_ID : SAVE_FILE_PART_ID, offset);
  offset = buffer.writeBigInt64LE(BigInt.asIntN(64, target.fileId), offset);
  offset = buffer.writeInt32LE(part, offset);
  if (target.big) offset = buffer.writeInt32LE(target.partCount, offset);
  if (length <= TL_SHORT_BYTES_MAX) {
    offset = buffer.writeUInt8(length, offset);
  } else {
    offset = buffer.writeUInt8(TL_LONG_BYTES_MARK, offset);
    offset = buffer.writeUIntLE(length, offset, 3);
  }
  const dataStart = offset;
  const dataEnd = dataStart + length;
  const prefix = length <= TL_SHORT_BYTES_MAX ? 1 : 4;
  const padding = (4 - ((prefix + length) % 4)) % 4;
  buffer.fill(0, dataEnd, dataEnd + padding);
  return {
    buffer,
    data: buffer.subarray(dataStart, dataEnd),
    bytes: buffer.subarray(0, dataEnd + padding),
  };
}

/** A gramjs request object whose serialisation is the prepared frame (no copy of the part). */
export function partRequest(
  target: PartTarget,
  part: number,
  frame: PartFrame,
): Api.upload.SaveBigFilePart | Api.upload.SaveFilePart {
  const fileId = helpers.returnBigInt(target.fileId);
  const empty = Buffer.alloc(0);
  const request = target.big
    ? new Api.upload.SaveBigFilePart({
        fileId,
        filePart: part,
        fileTotalParts: target.partCount,
        bytes: empty,
      })
    : new Api.upload.SaveFilePart({ fileId, filePart: part, bytes: empty });
  request.getBytes = () => frame.bytes;
  return request;
}
