/**
 * Faster crypto for gramjs without forking it. gramjs looks up `require("telegram/crypto/IGE").IGE` and
 * `require("telegram/Helpers").crc32` at call time, so replacing those two exports changes every sender:
 * - AES-256-IGE from @mtcute/wasm (~170 MB/s here against ~50–66 MB/s for gramjs's pure JS);
 * - CRC32 from `zlib.crc32` (Node >= 20.15, ~5 GB/s against ~0.4 GB/s for gramjs's table loop).
 * Both keep gramjs's conventions (a 32-byte IV, random padding to 16 bytes, Buffers in and out).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import { __getWasm, getWasmUrl, ige256Decrypt, ige256Encrypt, initSync } from "@mtcute/wasm";

const require = createRequire(import.meta.url);
// gramjs's modules import each other in a cycle that only resolves when the package index loads first.
require("telegram");

/** AES blocks are 16 bytes: IGE works on whole blocks only. */
const AES_BLOCK = 16;
/** IGE keeps two 16-byte chaining blocks, passed together as one 32-byte IV. */
const IGE_IV_SIZE = 32;
const AES_256_KEY_SIZE = 32;

type Crc32 = (data: Buffer | Uint8Array) => number;
interface IgeInstance {
  encryptIge(plainText: Buffer): Buffer;
  decryptIge(cipherText: Buffer): Buffer;
}
type IgeClass = new (key: Buffer, iv: Buffer) => IgeInstance;

interface GramIgeModule {
  IGE: IgeClass;
}
interface GramHelpersModule {
  crc32: Crc32;
}

const igeModule = require("telegram/crypto/IGE") as GramIgeModule;
const helpersModule = require("telegram/Helpers") as GramHelpersModule;

/** gramjs's own implementations, kept so that tests can compare and `uninstallFastCrypto` can restore. */
export const gramjsIge: IgeClass = igeModule.IGE;
export const gramjsCrc32: Crc32 = helpersModule.crc32;

let wasmReady = false;

function ensureWasm(): void {
  if (wasmReady) return;
  initSync(readFileSync(fileURLToPath(getWasmUrl())));
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
    return asBuffer(ige256Decrypt(cipherText, this.#key, this.#iv));
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
  return zlibCrc32 === undefined ? gramjsCrc32(data) : zlibCrc32(data);
}

export interface FastCryptoStatus {
  ige: "wasm" | "gramjs";
  crc32: "zlib" | "gramjs";
}

/**
 * Swaps gramjs's AES-IGE and CRC32 for the fast ones, process-wide (gramjs's modules are singletons).
 * Idempotent. If the WASM module cannot load, gramjs's IGE stays and the status says so.
 */
export function installFastCrypto(): FastCryptoStatus {
  let ige: FastCryptoStatus["ige"] = "gramjs";
  try {
    ensureWasm();
    igeModule.IGE = WasmIge;
    ige = "wasm";
  } catch {
    igeModule.IGE = gramjsIge; // the JS one is slower but correct: uploads still work
  }
  let crc32: FastCryptoStatus["crc32"] = "gramjs";
  if (zlibCrc32 !== undefined) {
    helpersModule.crc32 = fastCrc32;
    crc32 = "zlib";
  }
  return { ige, crc32 };
}

/** Puts gramjs's own implementations back (the benchmark measures stock gramjs this way). */
export function uninstallFastCrypto(): void {
  igeModule.IGE = gramjsIge;
  helpersModule.crc32 = gramjsCrc32;
}

/** What gramjs will use right now, read the way gramjs reads it. */
export function currentCrypto(): FastCryptoStatus {
  return {
    ige: igeModule.IGE === WasmIge ? "wasm" : "gramjs",
    crc32: helpersModule.crc32 === fastCrc32 ? "zlib" : "gramjs",
  };
}
