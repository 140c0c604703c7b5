/**
 * Faster crypto for gramjs without forking it. gramjs looks up the `IGE` export of telegram/crypto/IGE and the
 * `crc32` export of telegram/Helpers at call time, so replacing those two exports changes every sender:
 * - AES-256-IGE encryption through OpenSSL's AES-256-CBC with AES-NI (~600 MB/s here, see nativeIgeEncryptInto),
 *   decryption and the fallback from @mtcute/wasm (~170 MB/s), against ~50–66 MB/s for gramjs's pure JS;
 * - CRC32 from `zlib.crc32` (Node >= 20.15, ~5 GB/s against ~0.4 GB/s for gramjs's table loop).
 * Both keep gramjs's conventions (a 32-byte IV, random padding to 16 bytes, Buffers in and out). The assignments
 * into gramjs are in gramjs-internals.ts; installGramjsPatches (gramjs-patches.ts) makes them once at start.
 */
import { createCipheriv, createDecipheriv, getCiphers, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import { __getWasm, getWasmUrl, ige256Decrypt, ige256Encrypt, initSync } from "@mtcute/wasm";
import { bundledAsset } from "../lib/sea.js";
import {
  type Crc32,
  currentCrc32,
  currentIge,
  type IgeClass,
  type IgeInstance,
  patchUsage,
  setCrypto,
  stockCrc32,
  stockIge,
} from "./gramjs-internals.js";

/** AES blocks are 16 bytes: IGE works on whole blocks only. */
const AES_BLOCK = 16;
/** IGE keeps two 16-byte chaining blocks, passed together as one 32-byte IV. */
const IGE_IV_SIZE = 32;
const AES_256_KEY_SIZE = 32;

let wasmReady = false;

/** The name the single-binary build embeds @mtcute/wasm's SIMD build under (every x64 Node 24+ has SIMD). */
export const WASM_ASSET = "mtcute-simd.wasm";

function ensureWasm(): void {
  if (wasmReady) return;
  // The single binary has no node_modules folder to read the .wasm from: it carries it.
  initSync(bundledAsset(WASM_ASSET) ?? readFileSync(fileURLToPath(getWasmUrl())));
  wasmReady = true;
}

/** A view on the same memory: the WASM result is already a fresh copy, no need for another. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Drop-in replacement for gramjs's `IGE` class: same constructor and methods. */
export class WasmIge implements IgeInstance {
  readonly #key: Buffer;
  readonly #iv: Buffer;

  constructor(key: Buffer, iv: Buffer) {
    if (key.length !== AES_256_KEY_SIZE)
      throw new TypeError(`Expected a 32-byte key, got ${key.length} bytes`);
    if (iv.length !== IGE_IV_SIZE) throw new TypeError(`Expected a 32-byte IV, got ${iv.length} bytes`);
    ensureWasm();
    this.#key = key;
    this.#iv = iv;
  }

  encryptIge(plainText: Buffer): Buffer {
    const rest = plainText.length % AES_BLOCK;
    // Same as gramjs: pad with random bytes up to a whole block.
    const padded = rest === 0 ? plainText : Buffer.concat([plainText, randomBytes(AES_BLOCK - rest)]);
    return asBuffer(ige256Encrypt(padded, this.#key, this.#iv));
  }

  decryptIge(cipherText: Buffer): Buffer {
    patchUsage.igeDecryptions++;
    return asBuffer(ige256Decrypt(cipherText, this.#key, this.#iv));
  }
}

/** Words (int32) per AES block. */
const BLOCK_WORDS = 4;

function int32View(buffer: Buffer): Int32Array | undefined {
  return buffer.byteOffset % 4 === 0 && buffer.length % 4 === 0
    ? new Int32Array(buffer.buffer, buffer.byteOffset, buffer.length / 4)
    : undefined;
}

/**
 * AES-256-IGE encryption through OpenSSL's AES-256-CBC, which uses AES-NI (~1 GB/s here against ~170 MB/s for
 * WASM). IGE: y_i = E(x_i ^ y_(i-1)) ^ x_(i-1), with y_(-1) = iv[0:16] and x_(-1) = iv[16:32]. Writing
 * c_i = y_i ^ x_(i-1) turns it into c_i = E(p_i ^ c_(i-1)), plain CBC with IV iv[0:16], over
 * p_0 = x_0, p_1 = x_1 ^ iv[16:32], p_i = x_i ^ x_(i-2): the plaintext side is known in advance.
 * `plain` is used as scratch and restored before returning; the result goes to `out` at `offset`.
 */
export function nativeIgeEncryptInto(
  plain: Buffer,
  key: Buffer,
  iv: Buffer,
  out: Buffer,
  offset: number,
): void {
  if (plain.length % AES_BLOCK !== 0)
    throw new RangeError(`Expected whole 16-byte blocks, got ${plain.length} bytes`);
  if (key.length !== AES_256_KEY_SIZE || iv.length !== IGE_IV_SIZE) {
    throw new TypeError(`Expected a 32-byte key and IV, got ${key.length} and ${iv.length} bytes`);
  }
  const target = out.subarray(offset, offset + plain.length);
  const x = int32View(plain);
  const y = int32View(target);
  if (!x || !y) {
    // Unaligned memory: do the same on an aligned copy (rare; our own buffers are aligned).
    const aligned = Buffer.allocUnsafeSlow(plain.length);
    plain.copy(aligned);
    const result = Buffer.allocUnsafeSlow(plain.length);
    nativeIgeEncryptInto(aligned, key, iv, result, 0);
    result.copy(out, offset);
    return;
  }
  const iv2 = ivWords(iv);
  toCbcInput(x, iv2);
  const cipher = createCipheriv("aes-256-cbc", key, iv.subarray(0, AES_BLOCK));
  cipher.setAutoPadding(false);
  const c = cipher.update(plain);
  const cw = int32View(c) ?? new Int32Array(Uint8Array.from(c).buffer);
  fromCbcOutput(x, cw, iv2);
  y.set(cw);
}

/** Two AES blocks of room before the ciphertext: TCP head (8) + auth_key_id (8) + msg_key (16) = 32 bytes. */
export const IGE_HEADROOM = 32;
/** One block after it, for the CRC32 of the TCP frame (4 bytes) in the same buffer. */
export const IGE_TAILROOM = 16;
const ZERO_BLOCK = Buffer.alloc(AES_BLOCK);

/**
 * The same IGE encryption, but OpenSSL's output buffer becomes the packet: `space` holds IGE_HEADROOM bytes,
 * the plaintext (`length` bytes), then IGE_TAILROOM bytes; the result has the same layout, the ciphertext at
 * IGE_HEADROOM. Two prefix blocks D(0), D(iv1) bring CBC (IV 0) to the chaining value iv1 exactly where the
 * plaintext starts (CBC gives 0, then iv1, for them), so nothing is copied after encryption. `space` is scratch.
 */
export function nativeIgeEncryptFramed(space: Buffer, length: number, key: Buffer, iv: Buffer): Buffer {
  if (length % AES_BLOCK !== 0) throw new RangeError(`Expected whole 16-byte blocks, got ${length} bytes`);
  if (space.length !== IGE_HEADROOM + length + IGE_TAILROOM) {
    throw new RangeError(
      `Expected ${IGE_HEADROOM + length + IGE_TAILROOM} bytes of space, got ${space.length}`,
    );
  }
  const plain = space.subarray(IGE_HEADROOM, IGE_HEADROOM + length);
  const x = int32View(plain);
  if (!x) {
    const out = Buffer.allocUnsafeSlow(space.length);
    nativeIgeEncryptInto(Buffer.from(plain), key, iv, out, IGE_HEADROOM);
    return out;
  }
  const prefix = createDecipheriv("aes-256-ecb", key, null);
  prefix.setAutoPadding(false);
  prefix.update(Buffer.concat([ZERO_BLOCK, iv.subarray(0, AES_BLOCK)])).copy(space, 0);
  const iv2 = ivWords(iv);
  toCbcInput(x, iv2);
  const cipher = createCipheriv("aes-256-cbc", key, ZERO_BLOCK);
  cipher.setAutoPadding(false);
  const out = cipher.update(space);
  const target = out.subarray(IGE_HEADROOM, IGE_HEADROOM + length);
  const y = int32View(target);
  if (y) {
    fromCbcOutput(x, y, iv2);
  } else {
    const aligned = new Int32Array(length / 4);
    new Uint8Array(aligned.buffer).set(target);
    fromCbcOutput(x, aligned, iv2);
    target.set(new Uint8Array(aligned.buffer));
  }
  return out;
}

function ivWords(iv: Buffer): Int32Array {
  const words = new Int32Array(BLOCK_WORDS);
  for (let i = 0; i < BLOCK_WORDS; i++) words[i] = iv.readInt32LE(AES_BLOCK + i * 4);
  return words;
}

/** x -> p in place: p_0 = x_0, p_1 = x_1 ^ iv2, p_i = x_i ^ x_(i-2); backwards so x_(i-2) is still there. */
function toCbcInput(x: Int32Array, iv2: Int32Array): void {
  const words = x.length;
  const twoBlocks = 2 * BLOCK_WORDS;
  // One block (4 words) per pass: fewer loop checks, the hot path of every upload.
  for (let w = words - BLOCK_WORDS; w >= twoBlocks; w -= BLOCK_WORDS) {
    x[w] = (x[w] as number) ^ (x[w - 8] as number);
    x[w + 1] = (x[w + 1] as number) ^ (x[w - 7] as number);
    x[w + 2] = (x[w + 2] as number) ^ (x[w - 6] as number);
    x[w + 3] = (x[w + 3] as number) ^ (x[w - 5] as number);
  }
  const end = Math.min(words, twoBlocks);
  for (let w = BLOCK_WORDS; w < end; w++) x[w] = (x[w] as number) ^ (iv2[w - BLOCK_WORDS] as number);
}

/** p -> x in place (forwards), and c -> y in place: y_i = c_i ^ x_(i-1), with x_(-1) = iv2. */
function fromCbcOutput(x: Int32Array, c: Int32Array, iv2: Int32Array): void {
  const words = x.length;
  const twoBlocks = 2 * BLOCK_WORDS;
  const firstTwo = Math.min(words, twoBlocks);
  for (let w = BLOCK_WORDS; w < firstTwo; w++) x[w] = (x[w] as number) ^ (iv2[w - BLOCK_WORDS] as number);
  const first = Math.min(words, BLOCK_WORDS);
  for (let w = 0; w < first; w++) c[w] = (c[w] as number) ^ (iv2[w] as number);
  for (let w = BLOCK_WORDS; w < firstTwo; w++) c[w] = (c[w] as number) ^ (x[w - BLOCK_WORDS] as number);
  for (let w = twoBlocks; w < words; w += BLOCK_WORDS) {
    const x0 = (x[w] as number) ^ (x[w - 8] as number);
    const x1 = (x[w + 1] as number) ^ (x[w - 7] as number);
    const x2 = (x[w + 2] as number) ^ (x[w - 6] as number);
    const x3 = (x[w + 3] as number) ^ (x[w - 5] as number);
    x[w] = x0;
    x[w + 1] = x1;
    x[w + 2] = x2;
    x[w + 3] = x3;
    c[w] = (c[w] as number) ^ (x[w - 4] as number);
    c[w + 1] = (c[w + 1] as number) ^ (x[w - 3] as number);
    c[w + 2] = (c[w + 2] as number) ^ (x[w - 2] as number);
    c[w + 3] = (c[w + 3] as number) ^ (x[w - 1] as number);
  }
}

const NATIVE_CBC = getCiphers().includes("aes-256-cbc") && getCiphers().includes("aes-256-ecb");

/** gramjs's IGE interface: encryption through AES-NI (above), decryption (small answers only) through WASM. */
export class NativeIge extends WasmIge {
  readonly #key: Buffer;
  readonly #iv: Buffer;

  constructor(key: Buffer, iv: Buffer) {
    super(key, iv);
    this.#key = key;
    this.#iv = iv;
  }

  override encryptIge(plainText: Buffer): Buffer {
    const rest = plainText.length % AES_BLOCK;
    const padded = Buffer.allocUnsafeSlow(plainText.length + (rest === 0 ? 0 : AES_BLOCK - rest));
    plainText.copy(padded);
    if (rest !== 0) randomBytes(AES_BLOCK - rest).copy(padded, plainText.length);
    const out = Buffer.allocUnsafeSlow(padded.length);
    nativeIgeEncryptInto(padded, this.#key, this.#iv, out, 0);
    return out;
  }
}

/** The WASM exports used below (read in @mtcute/wasm 0.30's index.js, which does the same). */
interface MtcuteWasm {
  memory: { buffer: ArrayBuffer };
  __malloc(size: number): number;
  __free(pointer: number): void;
  __get_shared_key_buffer(): number;
  __get_shared_iv_buffer(): number;
  ige256_encrypt(input: number, length: number, output: number): void;
}

/**
 * AES-256-IGE with no intermediate buffers: `prepare` writes the plaintext straight into WASM memory and returns
 * the key and IV (MTProto derives them from the plaintext's hash); the ciphertext is copied into `out` at
 * `offset`. Synchronous on purpose: WASM memory can grow (and move) between awaits.
 */
export function wasmIgeEncryptInto(
  length: number,
  prepare: (plain: Buffer) => { key: Buffer; iv: Buffer },
  out: Buffer,
  offset: number,
): void {
  if (length % AES_BLOCK !== 0) throw new RangeError(`Expected whole 16-byte blocks, got ${length} bytes`);
  ensureWasm();
  const wasm = __getWasm() as unknown as MtcuteWasm;
  const input = wasm.__malloc(length * 2);
  try {
    const output = input + length;
    const { key, iv } = prepare(Buffer.from(wasm.memory.buffer, input, length));
    if (key.length !== AES_256_KEY_SIZE || iv.length !== IGE_IV_SIZE) {
      throw new TypeError(`Expected a 32-byte key and IV, got ${key.length} and ${iv.length} bytes`);
    }
    const memory = new Uint8Array(wasm.memory.buffer);
    memory.set(key, wasm.__get_shared_key_buffer());
    memory.set(iv, wasm.__get_shared_iv_buffer());
    wasm.ige256_encrypt(input, length, output);
    out.set(new Uint8Array(wasm.memory.buffer, output, length), offset);
  } finally {
    wasm.__free(input);
  }
}

/** `zlib.crc32` exists from Node 20.15 / 22.2; older runtimes keep gramjs's. */
const zlibCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

export function fastCrc32(data: Buffer | Uint8Array): number {
  patchUsage.crc32Calls++;
  patchUsage.crc32Bytes += data.length;
  return zlibCrc32 === undefined ? stockCrc32(data) : zlibCrc32(data);
}

export interface FastCryptoStatus {
  ige: "native" | "wasm" | "gramjs";
  crc32: "zlib" | "gramjs";
}

/**
 * Swaps gramjs's AES-IGE and CRC32 for the fast ones, process-wide (gramjs's modules are singletons).
 * Idempotent. If the WASM module cannot load, gramjs's IGE stays and the status says so.
 */
export function installFastCrypto(options: { ige?: "native" | "wasm" } = {}): FastCryptoStatus {
  let ige: IgeClass = stockIge;
  try {
    ensureWasm();
    ige = NATIVE_CBC && options.ige !== "wasm" ? NativeIge : WasmIge;
  } catch {
    // The JS one is slower but correct: uploads still work, and the status says "gramjs".
  }
  const crc32: Crc32 = zlibCrc32 === undefined ? stockCrc32 : fastCrc32;
  setCrypto(ige, crc32);
  return currentCrypto();
}

/** Puts gramjs's own implementations back (the byte-identity tests compare against them this way). */
export function uninstallFastCrypto(): void {
  setCrypto(stockIge, stockCrc32);
}

/** What gramjs will use right now, read the way gramjs reads it. */
export function currentCrypto(): FastCryptoStatus {
  const ige = currentIge();
  return {
    ige: ige === NativeIge ? "native" : ige === WasmIge ? "wasm" : "gramjs",
    crc32: currentCrc32() === fastCrc32 ? "zlib" : "gramjs",
  };
}
