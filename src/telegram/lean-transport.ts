/**
 * Fewer copies of every outgoing message in gramjs, without forking it. Per 512 KiB part, stock gramjs
 * allocates about a dozen 512 KiB buffers between the request and the socket; each is garbage a moment later,
 * which costs CPU (GC, memcpy) and peak memory. Three replacements, each producing the same bytes:
 * - `GZIPPacked.gzipIfSmaller`: gramjs's `gzip` is the identity (compression is commented out), so the
 *   "compressed" form is always 8 bytes longer and thrown away, after three copies. Returning the data as it
 *   is gives the same result.
 * - `MTProtoState.encryptMessageData`: the plaintext is written straight into WASM memory, encrypted there and
 *   copied once into a buffer that already has room for the TCP frame (stock: five 512 KiB buffers);
 * - `FullPacketCodec.encodePacket`: frames such a message in place (CRC32 over it), others in one buffer.
 * The IGE class and crc32 are still looked up at call time, so fast-crypto's replacements apply.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { NativeIge, nativeIgeEncryptInto, WasmIge, wasmIgeEncryptInto } from "./fast-crypto.js";

const require = createRequire(import.meta.url);
// gramjs's modules import each other in a cycle that only resolves when the package index loads first.
require("telegram");

/** MTProto 2.0: msg_key_large = SHA256(substr(auth_key, 88 + 0, 32) + plaintext + padding) for the client. */
const CLIENT_MSG_KEY_OFFSET = 88;
/** Salt (8) + session id (8) before the message. */
const PLAIN_HEADER = 16;
/** Padding of 12 to 1024 bytes; gramjs uses the smallest that aligns to 16 bytes. */
const MIN_PADDING = 12;
/** TCP full transport: length (4) + sequence number (4) + payload + CRC32 (4). */
const TCP_FULL_OVERHEAD = 12;

type BigIntLike = unknown;

interface AuthKeyLike {
  waitForKey(): Promise<void>;
  getKey(): Buffer | undefined;
  keyId: BigIntLike | undefined;
}

interface StateLike {
  authKey: AuthKeyLike | undefined;
  salt: BigIntLike;
  id: BigIntLike;
}

interface CodecLike {
  _sendCounter: number;
}

interface Helpers {
  toSignedLittleBuffer(value: BigIntLike, bytes: number): Buffer;
  readBufferFromBigInt(value: BigIntLike, bytes: number): Buffer;
  generateRandomBytes(count: number): Buffer;
  crc32(data: Buffer): number;
}

const helpers = require("telegram/Helpers") as Helpers;
const igeModule = require("telegram/crypto/IGE") as {
  IGE: new (key: Buffer, iv: Buffer) => { encryptIge(plain: Buffer): Buffer };
};
const gzipModule = require("telegram/tl/core/GZIPPacked") as {
  GZIPPacked: { gzipIfSmaller(contentRelated: boolean, data: Buffer): Promise<Buffer> };
};
const stateModule = require("telegram/network/MTProtoState") as {
  MTProtoState: { prototype: { encryptMessageData(this: StateLike, data: Buffer): Promise<Buffer> } };
};
const tcpFullModule = require("telegram/network/connection/TCPFull") as {
  FullPacketCodec: { prototype: { encodePacket(this: CodecLike, data: Buffer): Buffer } };
};

export const stockGzipIfSmaller = gzipModule.GZIPPacked.gzipIfSmaller;
export const stockEncryptMessageData = stateModule.MTProtoState.prototype.encryptMessageData;
export const stockEncodePacket = tcpFullModule.FullPacketCodec.prototype.encodePacket;

async function leanGzipIfSmaller(_contentRelated: boolean, data: Buffer): Promise<Buffer> {
  return data;
}

/** MTProto 2.0 key derivation (x = 0 for messages from the client), as gramjs's `_calcKey`, synchronously. */
function clientKeyIv(authKey: Buffer, msgKey: Buffer): { key: Buffer; iv: Buffer } {
  const a = createHash("sha256").update(msgKey).update(authKey.subarray(0, 36)).digest();
  const b = createHash("sha256").update(authKey.subarray(40, 76)).update(msgKey).digest();
  return {
    key: Buffer.concat([a.subarray(0, 8), b.subarray(8, 24), a.subarray(24, 32)]),
    iv: Buffer.concat([b.subarray(0, 8), a.subarray(8, 24), b.subarray(24, 32)]),
  };
}

let scratchBuffer = Buffer.alloc(0);

/** A plaintext buffer reused by every message (grown to the largest one, a part plus headers). */
function scratch(length: number): Buffer {
  if (scratchBuffer.length < length) scratchBuffer = Buffer.allocUnsafeSlow(length);
  return scratchBuffer.subarray(0, length);
}

/** Messages encrypted here sit inside a buffer with room for the TCP frame: encodePacket fills it in place. */
const framable = new WeakSet<Buffer>();
/** auth_key_id (8) + msg_key (16) before the ciphertext. */
const ENCRYPTED_HEADER = 24;
/** TCP full: length (4) + sequence number (4) before the payload; CRC32 (4) after. */
const TCP_FULL_HEAD = 8;

async function leanEncryptMessageData(this: StateLike, data: Buffer): Promise<Buffer> {
  if (!this.authKey) throw new Error("Auth key unset");
  await this.authKey.waitForKey();
  const authKey = this.authKey.getKey();
  if (!authKey) throw new Error("Auth key unset");
  if (!this.salt || !this.id || !this.authKey.keyId) throw new Error("Unset params");
  const unpadded = PLAIN_HEADER + data.length;
  const padding = (((-(unpadded + MIN_PADDING) % 16) + 16) % 16) + MIN_PADDING;
  const plainLength = unpadded + padding;
  const messageLength = ENCRYPTED_HEADER + plainLength;
  // One buffer for everything that goes on the wire: TCP head, auth_key_id, msg_key, ciphertext, CRC32.
  const packet = Buffer.allocUnsafe(TCP_FULL_HEAD + messageLength + 4);
  helpers.readBufferFromBigInt(this.authKey.keyId, 8).copy(packet, TCP_FULL_HEAD);
  const salt = helpers.toSignedLittleBuffer(this.salt, 8);
  const sessionId = helpers.toSignedLittleBuffer(this.id, 8);
  const randomPadding = helpers.generateRandomBytes(padding);
  const prepare = (plain: Buffer) => {
    salt.copy(plain, 0);
    sessionId.copy(plain, 8);
    data.copy(plain, PLAIN_HEADER);
    randomPadding.copy(plain, unpadded);
    const msgKeyLarge = createHash("sha256")
      .update(authKey.subarray(CLIENT_MSG_KEY_OFFSET, CLIENT_MSG_KEY_OFFSET + 32))
      .update(plain)
      .digest();
    const msgKey = msgKeyLarge.subarray(8, 24);
    msgKey.copy(packet, TCP_FULL_HEAD + 8);
    return clientKeyIv(authKey, msgKey);
  };
  const cipherOffset = TCP_FULL_HEAD + ENCRYPTED_HEADER;
  if (igeModule.IGE === NativeIge) {
    // Scratch reused across messages: everything from here to the end is synchronous.
    const plain = scratch(plainLength);
    const { key, iv } = prepare(plain);
    nativeIgeEncryptInto(plain, key, iv, packet, cipherOffset);
  } else if (igeModule.IGE === WasmIge) {
    wasmIgeEncryptInto(plainLength, prepare, packet, cipherOffset);
  } else {
    const plain = Buffer.allocUnsafe(plainLength);
    const { key, iv } = prepare(plain);
    new igeModule.IGE(key, iv).encryptIge(plain).copy(packet, cipherOffset);
  }
  const message = packet.subarray(TCP_FULL_HEAD, TCP_FULL_HEAD + messageLength);
  framable.add(message);
  return message;
}

function leanEncodePacket(this: CodecLike, data: Buffer): Buffer {
  const length = data.length + TCP_FULL_OVERHEAD;
  let packet: Buffer;
  if (framable.has(data) && data.byteOffset >= TCP_FULL_HEAD) {
    packet = Buffer.from(data.buffer, data.byteOffset - TCP_FULL_HEAD, length);
  } else {
    packet = Buffer.allocUnsafe(length);
    data.copy(packet, TCP_FULL_HEAD);
  }
  packet.writeInt32LE(length, 0);
  packet.writeInt32LE(this._sendCounter, 4);
  packet.writeUInt32LE(helpers.crc32(packet.subarray(0, length - 4)), length - 4);
  this._sendCounter += 1;
  return packet;
}

/** Installs the three replacements process-wide. Idempotent. */
export function installLeanTransport(): void {
  gzipModule.GZIPPacked.gzipIfSmaller = leanGzipIfSmaller;
  stateModule.MTProtoState.prototype.encryptMessageData = leanEncryptMessageData;
  tcpFullModule.FullPacketCodec.prototype.encodePacket = leanEncodePacket;
}

/** Puts gramjs's own code back (the benchmark measures stock gramjs this way). */
export function uninstallLeanTransport(): void {
  gzipModule.GZIPPacked.gzipIfSmaller = stockGzipIfSmaller;
  stateModule.MTProtoState.prototype.encryptMessageData = stockEncryptMessageData;
  tcpFullModule.FullPacketCodec.prototype.encodePacket = stockEncodePacket;
}
