/**
 * MTProto transports over one TCP stream: full (gramjs's Node default), intermediate, padded intermediate and
 * abridged, told apart by the first bytes the client sends, each also inside the obfuscation layer (a 64-byte
 * random header, then AES-256-CTR both ways) that gramjs's ConnectionTCPObfuscated uses.
 */
import { type Cipher, createCipheriv, createDecipheriv, type Decipher, randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";
import { acquirePacket } from "./packet-buffers.js";

export type TransportKind = "full" | "intermediate" | "padded" | "abridged";

/** Larger than any legal MTProto packet (1 MiB container + envelope); guards against garbage lengths. */
const MAX_PACKET = 2 * 1024 * 1024;

export class TransportError extends Error {}

/** Packets from this size up are file parts on their way to a decrypt worker. */
const BIG_PACKET = 64 * 1024;

/** The protocol tag at bytes 56..60 of a decrypted obfuscation header. */
const OBFUSCATED_TAGS = new Map<number, TransportKind>([
  [0xefefefef, "abridged"],
  [0xeeeeeeee, "intermediate"],
  [0xdddddddd, "padded"],
]);

/** Splits a byte stream into transport packets and frames packets for the way back. */
export class TransportCodec {
  kind: TransportKind | undefined;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private recvSeq = 0;
  private sendSeq = 0;
  /** Set when the client opened with an obfuscation header. */
  obfuscated = false;
  private decipher: Decipher | undefined;
  private cipher: Cipher | undefined;

  /** Feeds received bytes; returns the complete packets they finish. Throws TransportError on a broken stream. */
  push(chunk: Buffer): Buffer[] {
    if (this.decipher) chunk = this.decipher.update(chunk);
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const packets: Buffer[] = [];
    if (this.kind === undefined && !this.detect()) return packets;
    for (;;) {
      const packet = this.next();
      if (!packet) return packets;
      packets.push(packet);
    }
  }

  /** Frames one packet for sending. */
  encode(payload: Buffer): Buffer[] {
    const framed = this.frame(payload);
    const cipher = this.cipher;
    return cipher ? framed.map((b) => cipher.update(b)) : framed;
  }

  private frame(payload: Buffer): Buffer[] {
    switch (this.kind) {
      case "intermediate": {
        const head = Buffer.alloc(4);
        head.writeUInt32LE(payload.length, 0);
        return [head, payload];
      }
      case "padded": {
        const pad = randomBytes(1 + (randomBytes(1)[0]! % 15));
        const head = Buffer.alloc(4);
        head.writeUInt32LE(payload.length + pad.length, 0);
        return [head, payload, pad];
      }
      case "abridged": {
        const words = payload.length / 4;
        if (words < 0x7f) return [Buffer.from([words]), payload];
        const head = Buffer.from([0x7f, words & 0xff, (words >> 8) & 0xff, (words >> 16) & 0xff]);
        return [head, payload];
      }
      default: {
        const head = Buffer.alloc(8);
        head.writeInt32LE(payload.length + 12, 0);
        head.writeInt32LE(this.sendSeq++, 4);
        const tail = Buffer.alloc(4);
        tail.writeUInt32LE(crc32(payload, crc32(head)), 0);
        return [head, payload, tail];
      }
    }
  }

  private detect(): boolean {
    if (this.buffered < 1) return false;
    if (this.peek(1)[0] === 0xef) {
      this.take(1);
      this.kind = "abridged";
      return true;
    }
    if (this.buffered < 4) return false;
    const tag = this.peek(4).readUInt32LE(0);
    if (tag === 0xeeeeeeee || tag === 0xdddddddd) {
      this.take(4);
      this.kind = tag === 0xeeeeeeee ? "intermediate" : "padded";
      return true;
    }
    if (this.buffered < 8) return false;
    // Full transport starts with its sequence number 0; an obfuscation header never has zeros there.
    if (this.peek(8).readUInt32LE(4) === 0) {
      this.kind = "full";
      return true;
    }
    if (this.buffered < 64) return false;
    this.startObfuscation(this.take(64));
    return true;
  }

  private startObfuscation(init: Buffer): void {
    const reversed = Buffer.from(init.subarray(8, 56)).reverse();
    this.decipher = createDecipheriv("aes-256-ctr", init.subarray(8, 40), init.subarray(40, 56));
    this.cipher = createCipheriv("aes-256-ctr", reversed.subarray(0, 32), reversed.subarray(32, 48));
    const tag = this.decipher.update(init).readUInt32LE(56);
    const kind = OBFUSCATED_TAGS.get(tag);
    if (!kind) throw new TransportError(`unknown obfuscated protocol tag ${tag.toString(16)}`);
    this.kind = kind;
    this.obfuscated = true;
    // Bytes that came with the header are part of the encrypted stream too.
    const rest = this.chunks.splice(0).map((c) => this.decipher!.update(c));
    this.chunks.push(...rest);
  }

  private next(): Buffer | undefined {
    switch (this.kind) {
      case "abridged": {
        if (this.buffered < 1) return undefined;
        const first = this.peek(1)[0]!;
        let words = first;
        let headLen = 1;
        if (first >= 0x7f) {
          if (this.buffered < 4) return undefined;
          const h = this.peek(4);
          words = h[1]! | (h[2]! << 8) | (h[3]! << 16);
          headLen = 4;
        }
        const len = words * 4;
        if (this.buffered < headLen + len) return undefined;
        this.take(headLen);
        return this.take(len);
      }
      case "intermediate":
      case "padded": {
        if (this.buffered < 4) return undefined;
        const len = this.peek(4).readUInt32LE(0);
        if (len > MAX_PACKET) throw new TransportError(`packet length ${len} too large`);
        if (this.buffered < 4 + len) return undefined;
        this.take(4);
        const body = this.take(len);
        return this.kind === "padded" ? stripPadding(body) : body;
      }
      default: {
        if (this.buffered < 8) return undefined;
        const head = this.peek(8);
        const len = head.readInt32LE(0);
        if (len < 12 || len > MAX_PACKET) throw new TransportError(`packet length ${len} invalid`);
        if (this.buffered < len) return undefined;
        const whole = this.take(len);
        const seq = whole.readInt32LE(4);
        if (seq !== this.recvSeq) throw new TransportError(`sequence ${seq}, expected ${this.recvSeq}`);
        this.recvSeq++;
        const crc = whole.readUInt32LE(len - 4);
        if (crc32(whole.subarray(0, len - 4)) !== crc) throw new TransportError("CRC32 mismatch");
        return whole.subarray(8, len - 4);
      }
    }
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const out = Buffer.alloc(n);
    let off = 0;
    for (const c of this.chunks) {
      if (off >= n) break;
      off += c.copy(out, off, 0, Math.min(c.length, n - off));
    }
    return out;
  }

  /** Removes n bytes from the front; a single copy only when they span chunks. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    // Big packets get memory of their own that can move to a decrypt worker and be reused.
    const out = n >= BIG_PACKET ? acquirePacket(n) : Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const need = n - off;
      if (c.length <= need) {
        c.copy(out, off);
        off += c.length;
        this.chunks.shift();
      } else {
        c.copy(out, off, 0, need);
        this.chunks[0] = c.subarray(need);
        off += need;
      }
    }
    return out;
  }
}

/**
 * Padded intermediate appends 0-15 random bytes. The payload's own shape tells its length: a plain message
 * carries it at offset 16, an encrypted one is 24 bytes of header and whole 16-byte blocks.
 */
function stripPadding(body: Buffer): Buffer {
  if (body.length >= 20 && body.readBigInt64LE(0) === 0n) return body.subarray(0, 20 + body.readInt32LE(16));
  if (body.length >= 24) return body.subarray(0, body.length - ((body.length - 24) % 16));
  return body.subarray(0, body.length - (body.length % 4));
}
