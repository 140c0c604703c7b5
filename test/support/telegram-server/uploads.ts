/**
 * Saved file parts and their assembly, under Telegram's rules. Small files (saveFilePart, at most 10 MiB) are
 * kept in memory until sent; big files (saveBigFilePart) are written at their offset in a file on disk as parts
 * arrive, in any order and over any connection. Sending assembles and hashes the file.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { type FileHandle, open, rm } from "node:fs/promises";
import path from "node:path";
import { releasePacket } from "./packet-buffers.js";
import { RpcFailure } from "./rpc-error.js";

/** The largest part Telegram accepts; every non-last part size must divide it. */
export const MAX_PART_SIZE = 512 * 1024;
/** Files above this must be uploaded with saveBigFilePart (gramjs uses the same threshold). */
export const BIG_FILE_THRESHOLD = 10 * 1024 * 1024;
/** 4000 x 512 KiB = 2000 MiB per file, or 8000 parts (4000 MiB) for Premium accounts. */
export const MAX_PARTS = 4000;
export const MAX_PARTS_PREMIUM = 8000;

export interface AssembledFile {
  path: string;
  size: number;
  sha256: string;
}

interface SmallUpload {
  big: false;
  parts: Map<number, Buffer>;
  assembled: AssembledFile | undefined;
}

interface BigUpload {
  big: true;
  totalParts: number;
  partSize: number | undefined;
  received: Uint8Array;
  receivedCount: number;
  lastSize: number | undefined;
  /** A last part that arrived before any other: its offset is unknown until the part size is. */
  pendingLast: Buffer | undefined;
  file: Promise<FileHandle> | undefined;
  filePath: string;
  writes: Set<Promise<unknown>>;
  /** Set once every part is in and a send assembles the file. */
  assembling: Promise<AssembledFile> | undefined;
  assembled: AssembledFile | undefined;
}

type Upload = SmallUpload | BigUpload;

function validPartSize(size: number): boolean {
  return size > 0 && size % 1024 === 0 && MAX_PART_SIZE % size === 0;
}

export class UploadStore {
  private readonly uploads = new Map<string, Upload>();
  private seq = 0;

  constructor(private readonly dir: string) {}

  /** upload.saveFilePart: parts of a file of at most 10 MiB. */
  saveSmallPart(owner: number, fileId: string, part: number, bytes: Buffer): void {
    checkBytes(bytes);
    // A non-last part starts at part * its size; beyond 10 MiB the file must be a big one.
    if (part < 0 || part * bytes.length >= BIG_FILE_THRESHOLD) throw new RpcFailure(400, "FILE_PART_INVALID");
    const key = `${owner}:${fileId}`;
    let u = this.uploads.get(key);
    if (u?.big) throw new RpcFailure(400, "FILE_PARTS_INVALID");
    if (!u) {
      u = { big: false, parts: new Map(), assembled: undefined };
      this.uploads.set(key, u);
    }
    u.parts.set(part, bytes);
  }

  /** upload.saveBigFilePart: written straight to disk at part * partSize. */
  async saveBigPart(
    owner: number,
    fileId: string,
    part: number,
    total: number,
    bytes: Buffer,
    premium: boolean,
  ) {
    checkBytes(bytes);
    const limit = premium ? MAX_PARTS_PREMIUM : MAX_PARTS;
    if (total <= 0 || total > limit) throw new RpcFailure(400, "FILE_PARTS_INVALID");
    if (part < 0 || part >= total) throw new RpcFailure(400, "FILE_PART_INVALID");
    const key = `${owner}:${fileId}`;
    let u = this.uploads.get(key);
    if (u && !u.big) throw new RpcFailure(400, "FILE_PARTS_INVALID");
    if (!u) {
      u = {
        big: true,
        totalParts: total,
        partSize: undefined,
        received: new Uint8Array(total),
        receivedCount: 0,
        lastSize: undefined,
        pendingLast: undefined,
        file: undefined,
        filePath: path.join(this.dir, `upload-${++this.seq}.bin`),
        writes: new Set(),
        assembling: undefined,
        assembled: undefined,
      };
      this.uploads.set(key, u);
    }
    if (u.totalParts !== total) throw new RpcFailure(400, "FILE_PARTS_INVALID");
    // Already sent or being assembled: a late resend changes nothing (and must not reopen the file, truncating it).
    if (u.assembling) return;
    const last = part === total - 1;
    if (!last) {
      if (!validPartSize(bytes.length)) throw new RpcFailure(400, "FILE_PART_SIZE_INVALID");
      if (u.partSize === undefined) u.partSize = bytes.length;
      else if (u.partSize !== bytes.length) throw new RpcFailure(400, "FILE_PART_SIZE_CHANGED");
    } else if (u.partSize !== undefined && bytes.length > u.partSize) {
      throw new RpcFailure(400, "FILE_PART_SIZE_INVALID");
    }
    u.file ??= open(u.filePath, "w+");
    if (last) u.lastSize = bytes.length;
    if (last && u.partSize === undefined && total > 1) u.pendingLast = bytes;
    else await this.write(u, part, bytes);
    if (u.pendingLast && u.partSize !== undefined) {
      if (u.pendingLast.length > u.partSize) {
        u.pendingLast = undefined;
        throw new RpcFailure(400, "FILE_PART_SIZE_INVALID");
      }
      const pending = u.pendingLast;
      u.pendingLast = undefined;
      await this.write(u, total - 1, pending);
    }
    if (!u.received[part]) {
      u.received[part] = 1;
      u.receivedCount++;
    }
  }

  private async write(u: BigUpload, part: number, bytes: Buffer): Promise<void> {
    const offset = part * (u.partSize ?? 0);
    const w = u.file!.then((fh) => fh.write(bytes, 0, bytes.length, offset));
    u.writes.add(w);
    try {
      await w;
    } finally {
      u.writes.delete(w);
    }
    // On disk now: the packet memory this part arrived in can carry the next one.
    releasePacket(bytes);
  }

  /** Checks every rule a send checks, writes the file once and hashes it. */
  async assemble(
    owner: number,
    input: { big: boolean; id: string; parts: number; md5Checksum?: string },
  ): Promise<AssembledFile> {
    const u = this.uploads.get(`${owner}:${input.id}`);
    if (!u) throw new RpcFailure(400, "FILE_PART_0_MISSING");
    if (u.big !== input.big) throw new RpcFailure(400, "FILE_PARTS_INVALID");
    if (u.assembled) return u.assembled;
    if (!u.big) {
      if (input.parts <= 0) throw new RpcFailure(400, "FILE_PARTS_INVALID");
      for (let i = 0; i < input.parts; i++)
        if (!u.parts.has(i)) throw new RpcFailure(400, `FILE_PART_${i}_MISSING`);
      if ([...u.parts.keys()].some((p) => p >= input.parts)) throw new RpcFailure(400, "FILE_PARTS_INVALID");
      const partSize = u.parts.get(0)!.length;
      for (let i = 0; i < input.parts; i++) {
        const len = u.parts.get(i)!.length;
        const last = i === input.parts - 1;
        if (last ? len > partSize : !validPartSize(len) || len !== partSize) {
          throw new RpcFailure(400, "FILE_PART_SIZE_INVALID");
        }
      }
      const data = Buffer.concat([...Array(input.parts).keys()].map((i) => u.parts.get(i)!));
      if (data.length > BIG_FILE_THRESHOLD) throw new RpcFailure(400, "FILE_PARTS_INVALID");
      if (
        input.md5Checksum &&
        createHash("md5").update(data).digest("hex") !== input.md5Checksum.toLowerCase()
      ) {
        throw new RpcFailure(400, "MD5_CHECKSUM_INVALID");
      }
      const filePath = path.join(this.dir, `upload-${++this.seq}.bin`);
      const fh = await open(filePath, "w");
      await fh.writeFile(data);
      await fh.close();
      u.parts.clear();
      u.assembled = {
        path: filePath,
        size: data.length,
        sha256: createHash("sha256").update(data).digest("hex"),
      };
      return u.assembled;
    }
    if (input.parts !== u.totalParts) throw new RpcFailure(400, "FILE_PARTS_INVALID");
    for (let i = 0; i < u.totalParts; i++)
      if (!u.received[i]) throw new RpcFailure(400, `FILE_PART_${i}_MISSING`);
    // One assembly however many sends ask at once.
    u.assembling ??= this.finishBig(u).catch((e: unknown) => {
      u.assembling = undefined;
      throw e;
    });
    return u.assembling;
  }

  private async finishBig(u: BigUpload): Promise<AssembledFile> {
    await Promise.all(u.writes);
    const size = (u.totalParts - 1) * (u.partSize ?? 0) + (u.lastSize ?? 0);
    const fh = await u.file!;
    await fh.truncate(size);
    await fh.close();
    u.file = undefined;
    u.assembled = { path: u.filePath, size, sha256: await hashFile(u.filePath) };
    return u.assembled;
  }

  /**
   * Telegram keeps saved parts for minutes to hours: this forgets every part not yet sent, as an expiry would, and
   * returns how many uploads were dropped. Assembled (sent) files stay.
   */
  async expireParts(): Promise<number> {
    let dropped = 0;
    for (const [key, u] of this.uploads) {
      if (u.assembled || (u.big && u.assembling)) continue;
      if (u.big && u.file) {
        await Promise.allSettled(u.writes);
        await (await u.file).close().catch(() => undefined);
        await rm(u.filePath, { force: true });
      }
      this.uploads.delete(key);
      dropped++;
    }
    return dropped;
  }

  async close(): Promise<void> {
    for (const u of this.uploads.values()) {
      if (u.big && u.file) {
        await Promise.allSettled(u.writes);
        await (await u.file).close().catch(() => undefined);
        u.file = undefined;
      }
    }
    this.uploads.clear();
    await rm(this.dir, { recursive: true, force: true });
  }
}

function checkBytes(bytes: Buffer): void {
  if (bytes.length === 0) throw new RpcFailure(400, "FILE_PART_EMPTY");
  if (bytes.length > MAX_PART_SIZE) throw new RpcFailure(400, "FILE_PART_TOO_BIG");
}

export async function hashFile(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) h.update(chunk as Buffer);
  return h.digest("hex");
}
