/**
 * Fewer copies of every outgoing message in gramjs, without forking it. Per 512 KiB part, stock gramjs
 * allocates about a dozen 512 KiB buffers between the request and the socket; each is garbage a moment later,
 * which costs CPU (GC, memcpy) and peak memory. Four replacements, each producing the same bytes:
 * - `MessagePacker.get`: hands the batch over as pieces (no concatenation, none of the container's two);
 * - `GZIPPacked.gzipIfSmaller`: gramjs's `gzip` is the identity (compression is commented out), so the
 *   "compressed" form is always 8 bytes longer and thrown away, after three copies. Returning the data as it
 *   is gives the same result.
 * - `MTProtoState.encryptMessageData`: the plaintext is written straight into WASM memory, encrypted there and
 *   copied once into a buffer that already has room for the TCP frame (stock: five 512 KiB buffers);
 * - `FullPacketCodec.encodePacket`: frames such a message in place (CRC32 over it), others in one buffer.
 * The IGE class and crc32 are still looked up at call time, so fast-crypto's replacements apply. The assignments
 * into gramjs are in gramjs-internals.ts; installGramjsPatches (gramjs-patches.ts) makes them once at start.
 */
import { createHash } from "node:crypto";
import {
  IGE_HEADROOM,
  IGE_TAILROOM,
  NativeIge,
  nativeIgeEncryptFramed,
  WasmIge,
  wasmIgeEncryptInto,
} from "./fast-crypto.js";
import {
  type CodecLike,
  currentIge,
  currentTransport,
  gramjsHelpers as helpers,
  messageContainer,
  type PackedData,
  type PackerLike,
  patchUsage,
  type RequestStateLike,
  type StateLike,
  setTransport,
  stockTransport,
  type TransportFunctions,
} from "./gramjs-internals.js";

/** MTProto 2.0: msg_key_large = SHA256(substr(auth_key, 88 + 0, 32) + plaintext + padding) for the client. */
const CLIENT_MSG_KEY_OFFSET = 88;
/** Salt (8) + session id (8) before the message. */
const PLAIN_HEADER = 16;
/** Padding of 12 to 1024 bytes; gramjs uses the smallest that aligns to 16 bytes. */
const MIN_PADDING = 12;
/** TCP full transport: length (4) + sequence number (4) + payload + CRC32 (4). */
const TCP_FULL_OVERHEAD = 12;
/** gramjs's TLMessage.SIZE_OVERHEAD: msg_id, seq_no, length. */
const TL_MESSAGE_OVERHEAD = 12;

/** Collects what gramjs's BinaryWriter would concatenate. */
class GatherWriter {
  readonly pieces: Buffer[] = [];
  length = 0;
  write(buffer: Buffer): void {
    this.pieces.push(buffer);
    this.length += buffer.length;
  }
}

/**
 * MessagePacker.get as in gramjs 2.26.22 (same order, ids, sizes and container rules), but the batch is returned
 * as pieces rather than concatenated (twice more for a container): encryption copies them once.
 */
async function leanPackerGet(
  this: PackerLike,
): Promise<{ batch: RequestStateLike[]; data: PackedData } | null | undefined> {
  if (!this._queue[this._queue.length - 1]) {
    this._queue = this._queue.filter(Boolean);
    return undefined;
  }
  const MessageContainer = messageContainer;
  const writer = new GatherWriter();
  const batch: RequestStateLike[] = [];
  let size = 0;
  // Bounded by the queue and by MAXIMUM_LENGTH.
  while (this._queue.length && batch.length <= MessageContainer.MAXIMUM_LENGTH) {
    const state = this._queue.shift();
    if (!state) continue;
    size += state.data.length + TL_MESSAGE_OVERHEAD;
    if (size <= MessageContainer.MAXIMUM_SIZE) {
      state.msgId = await this._state.writeDataAsMessage(
        writer,
        state.data,
        state.request.classType === "request",
        state.after?.msgId,
      );
      batch.push(state);
      continue;
    }
    if (batch.length) {
      this._queue.unshift(state);
      break;
    }
    this._log.warn(
      `Message payload for ${state.request.className || state.request.constructor.name} is too long ${state.data.length} and cannot be sent`,
    );
    state.promise.reject("Request Payload is too big");
    size = 0;
  }
  if (!batch.length) return null;
  patchUsage.packedBatches++;
  if (batch.length === 1) return { batch, data: new GatheredMessage(writer.pieces, writer.length) };
  // msg_container#73f1f8dc messages:vector<message>, itself sent as one message (not content-related).
  const head = Buffer.alloc(8);
  head.writeUInt32LE(MessageContainer.CONSTRUCTOR_ID, 0);
  head.writeInt32LE(batch.length, 4);
  const containerId = this._state._getNewMsgId();
  const header = Buffer.alloc(16);
  helpers.toSignedLittleBuffer(containerId, 8).copy(header, 0);
  header.writeInt32LE(this._state._getSeqNo(false), 8);
  header.writeInt32LE(head.length + writer.length, 12);
  for (const state of batch) state.containerId = containerId;
  return {
    batch,
    data: new GatheredMessage([header, head, ...writer.pieces], 16 + head.length + writer.length),
  };
}

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

/**
 * A message (or container) as the pieces gramjs would have concatenated: copied once, straight into the
 * encryption buffer. Only our encryptMessageData reads it; it is installed together with our packer.
 */
export class GatheredMessage {
  constructor(
    readonly pieces: readonly Buffer[],
    readonly length: number,
  ) {}
}

function copyOutgoing(data: PackedData, target: Buffer, offset: number): void {
  if (Buffer.isBuffer(data)) {
    data.copy(target, offset);
    return;
  }
  let at = offset;
  for (const piece of data.pieces) {
    piece.copy(target, at);
    at += piece.length;
  }
}

async function leanEncryptMessageData(this: StateLike, data: PackedData): Promise<Buffer> {
  if (!this.authKey) throw new Error("Auth key unset");
  await this.authKey.waitForKey();
  const authKey = this.authKey.getKey();
  if (!authKey) throw new Error("Auth key unset");
  if (!this.salt || !this.id || !this.authKey.keyId) throw new Error("Unset params");
  const unpadded = PLAIN_HEADER + data.length;
  const padding = (((-(unpadded + MIN_PADDING) % 16) + 16) % 16) + MIN_PADDING;
  const plainLength = unpadded + padding;
  const messageLength = ENCRYPTED_HEADER + plainLength;
  const keyId = helpers.readBufferFromBigInt(this.authKey.keyId, 8);
  const salt = helpers.toSignedLittleBuffer(this.salt, 8);
  const sessionId = helpers.toSignedLittleBuffer(this.id, 8);
  const randomPadding = helpers.generateRandomBytes(padding);
  let msgKey = Buffer.alloc(0);
  const prepare = (plain: Buffer) => {
    salt.copy(plain, 0);
    sessionId.copy(plain, 8);
    copyOutgoing(data, plain, PLAIN_HEADER);
    randomPadding.copy(plain, unpadded);
    const msgKeyLarge = createHash("sha256")
      .update(authKey.subarray(CLIENT_MSG_KEY_OFFSET, CLIENT_MSG_KEY_OFFSET + 32))
      .update(plain)
      .digest();
    msgKey = msgKeyLarge.subarray(8, 24);
    return clientKeyIv(authKey, msgKey);
  };
  let packet: Buffer;
  const Ige = currentIge();
  if (Ige === NativeIge) {
    patchUsage.encrypted.native++;
    // OpenSSL's output is the packet (see nativeIgeEncryptFramed); the scratch is reused, all synchronous.
    const space = scratch(IGE_HEADROOM + plainLength + IGE_TAILROOM);
    const { key, iv } = prepare(space.subarray(IGE_HEADROOM, IGE_HEADROOM + plainLength));
    packet = nativeIgeEncryptFramed(space, plainLength, key, iv);
  } else {
    // One buffer for everything that goes on the wire: TCP head, auth_key_id, msg_key, ciphertext, CRC32.
    packet = Buffer.allocUnsafe(TCP_FULL_HEAD + messageLength + 4);
    const cipherOffset = TCP_FULL_HEAD + ENCRYPTED_HEADER;
    if (Ige === WasmIge) {
      patchUsage.encrypted.wasm++;
      wasmIgeEncryptInto(plainLength, prepare, packet, cipherOffset);
    } else {
      patchUsage.encrypted.gramjs++;
      const plain = Buffer.allocUnsafe(plainLength);
      const { key, iv } = prepare(plain);
      new Ige(key, iv).encryptIge(plain).copy(packet, cipherOffset);
    }
  }
  keyId.copy(packet, TCP_FULL_HEAD);
  msgKey.copy(packet, TCP_FULL_HEAD + 8);
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
  patchUsage.framedPackets++;
  patchUsage.framedBytes += length;
  return packet;
}

const LEAN: Readonly<TransportFunctions> = Object.freeze({
  packerGet: leanPackerGet,
  gzipIfSmaller: leanGzipIfSmaller,
  encryptMessageData: leanEncryptMessageData,
  encodePacket: leanEncodePacket,
});

/** Installs the four replacements process-wide. Idempotent. */
export function installLeanTransport(): void {
  // The packer's pieces are only understood by our encryptMessageData: always installed together.
  setTransport(LEAN);
}

/** Puts gramjs's own code back (the byte-identity tests compare against it this way). */
export function uninstallLeanTransport(): void {
  setTransport(stockTransport);
}

/** Whether gramjs sends through the lean transport right now. */
export function leanTransportInstalled(): boolean {
  const now = currentTransport();
  return (Object.keys(LEAN) as (keyof TransportFunctions)[]).every((name) => now[name] === LEAN[name]);
}
