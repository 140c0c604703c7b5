/**
 * The server's cryptography: its RSA key, the MTProto 2.0 message-key derivation and AES-IGE through
 * @mtcute/wasm (gramjs's pure-JS IGE is 3x slower and would make the server the bottleneck).
 */
import { constants, createHash, generateKeyPairSync, type KeyObject, privateDecrypt } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { getWasmUrl, ige256Decrypt, ige256Encrypt, initSync } from "@mtcute/wasm";
import { serializeBytes } from "telegram/tl/index.js";

let wasmReady = false;

/** Loads the WASM module once per thread; every IGE call below needs it. */
export function initCrypto(): void {
  if (wasmReady) return;
  initSync(readFileSync(fileURLToPath(getWasmUrl())));
  wasmReady = true;
}

export function sha1(...parts: Uint8Array[]): Buffer {
  const h = createHash("sha1");
  for (const p of parts) h.update(p);
  return h.digest();
}

export function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
}

export function igeEncrypt(data: Uint8Array, key: Uint8Array, iv: Uint8Array): Buffer {
  const out = ige256Encrypt(data, key, iv);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

export function igeDecrypt(data: Uint8Array, key: Uint8Array, iv: Uint8Array): Buffer {
  const out = ige256Decrypt(data, key, iv);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString("hex")}`);
}

/** Big-endian, left-padded with zeros to `length` bytes (the protocol's fixed-width encoding). */
export function bigIntToBytes(value: bigint, length: number): Buffer {
  const hex = value.toString(16).padStart(length * 2, "0");
  if (hex.length > length * 2) throw new Error(`value does not fit in ${length} bytes`);
  return Buffer.from(hex, "hex");
}

export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

export interface ServerRsaKey {
  /** PKCS#1 "RSA PUBLIC KEY" PEM, the format Telegram publishes its keys in. */
  publicKeyPem: string;
  /** The key's fingerprint as gramjs's `_serverKeys` map keys it: a signed 64-bit decimal string. */
  fingerprint: string;
  n: bigint;
  e: number;
  privateKey: KeyObject;
}

/** Fingerprint = the low 64 bits of SHA1(TL bytes n, TL bytes e), read as a signed little-endian long. */
export function rsaFingerprint(n: bigint, e: number): string {
  const nBytes = Buffer.from(n.toString(16).padStart(512, "0"), "hex");
  const eHex = e.toString(16);
  const eBytes = Buffer.from(eHex.length % 2 ? `0${eHex}` : eHex, "hex");
  const digest = sha1(serializeBytes(nBytes), serializeBytes(eBytes));
  return digest.subarray(12, 20).readBigInt64LE(0).toString();
}

export function generateServerRsaKey(): ServerRsaKey {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicExponent: 65537,
  });
  const jwk = publicKey.export({ format: "jwk" });
  const n = bytesToBigInt(Buffer.from(String(jwk.n), "base64url"));
  const e = Number(bytesToBigInt(Buffer.from(String(jwk.e), "base64url")));
  return {
    publicKeyPem: publicKey.export({ type: "pkcs1", format: "pem" }).toString(),
    fingerprint: rsaFingerprint(n, e),
    n,
    e,
    privateKey,
  };
}

/** Textbook RSA decryption (RSA_PAD carries its own padding scheme), 256 bytes in and out. */
export function rsaDecryptRaw(key: ServerRsaKey, data: Uint8Array): Buffer {
  return privateDecrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, data);
}

/** MTProto 2.0 key derivation: x = 0 for client-to-server messages, 8 for server-to-client. */
export function messageKeys(authKey: Buffer, msgKey: Uint8Array, x: 0 | 8): { key: Buffer; iv: Buffer } {
  const a = sha256(msgKey, authKey.subarray(x, x + 36));
  const b = sha256(authKey.subarray(40 + x, 40 + x + 36), msgKey);
  return {
    key: Buffer.concat([a.subarray(0, 8), b.subarray(8, 24), a.subarray(24, 32)]),
    iv: Buffer.concat([b.subarray(0, 8), a.subarray(8, 24), b.subarray(24, 32)]),
  };
}

/** The auth key id: the low 64 bits of SHA1(auth_key), as a signed decimal string. */
export function authKeyId(authKey: Buffer): string {
  return sha1(authKey).readBigInt64LE(12).toString();
}

/**
 * Decrypts a client packet (auth_key_id, msg_key, data) and checks msg_key = SHA256(auth_key[88:120] +
 * plaintext)[8:24]; returns the plaintext (salt, session_id, message, padding).
 */
export function decryptMessage(authKey: Buffer, packet: Buffer): Buffer {
  const msgKey = packet.subarray(8, 24);
  const encrypted = packet.subarray(24);
  if (encrypted.length % 16 !== 0) throw new Error("encrypted data not a multiple of 16 bytes");
  const { key, iv } = messageKeys(authKey, msgKey, 0);
  const plain = igeDecrypt(encrypted, key, iv);
  if (!sha256(authKey.subarray(88, 120), plain).subarray(8, 24).equals(msgKey))
    throw new Error("msg_key mismatch");
  return plain;
}
