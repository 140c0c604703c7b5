/** Test files with content that catches reordered or repeated parts, written fast at any size. */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";

/** Each block is one random block with its own index stamped in, so no two blocks are equal. */
const BLOCK = 1024 * 1024;

export async function writePatternFile(path: string, size: number): Promise<string> {
  const hash = createHash("sha256");
  const block = randomBytes(BLOCK);
  const handle = await open(path, "w");
  try {
    for (let offset = 0, index = 0; offset < size; offset += BLOCK, index++) {
      block.writeUInt32LE(index, 0);
      block.writeUInt32LE(index, BLOCK / 2); // also mid-block: 512 KiB parts each get a distinct stamp
      const length = Math.min(BLOCK, size - offset);
      const chunk = block.subarray(0, length);
      hash.update(chunk);
      await handle.write(chunk, 0, length, offset);
    }
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: BLOCK })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
