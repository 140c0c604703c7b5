import assert from "node:assert/strict";
import { randomBytes, randomInt } from "node:crypto";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import {
  currentCrypto,
  fastCrc32,
  IGE_HEADROOM,
  IGE_TAILROOM,
  installFastCrypto,
  NativeIge,
  nativeIgeEncryptFramed,
  nativeIgeEncryptInto,
  uninstallFastCrypto,
  WasmIge,
} from "../../src/telegram/fast-crypto.js";
import { stockCrc32 as gramjsCrc32, stockIge as gramjsIge } from "../../src/telegram/gramjs-internals.js";

const VECTORS = 200;
const require = createRequire(import.meta.url);

describe("fast crypto", () => {
  it("WASM AES-IGE encrypts and decrypts exactly like gramjs's on 200 random vectors", () => {
    for (let i = 0; i < VECTORS; i++) {
      const key = randomBytes(32);
      const iv = randomBytes(32);
      // Whole blocks, as MTProto always sends: gramjs pads with random bytes otherwise.
      const plain = randomBytes(16 * randomInt(1, 2048));
      const ours = new WasmIge(key, iv).encryptIge(plain);
      const theirs = new gramjsIge(key, iv).encryptIge(plain);
      assert.ok(Buffer.isBuffer(ours));
      assert.equal(ours.toString("hex"), theirs.toString("hex"), `encrypt vector ${i}`);
      const back = new WasmIge(key, iv).decryptIge(ours);
      assert.ok(Buffer.isBuffer(back));
      assert.equal(back.toString("hex"), plain.toString("hex"), `decrypt vector ${i}`);
      assert.equal(
        new gramjsIge(key, iv).decryptIge(theirs).toString("hex"),
        plain.toString("hex"),
        `gramjs decrypt ${i}`,
      );
    }
  });

  it("AES-NI IGE (through CBC) encrypts exactly like gramjs's on 200 random vectors, any length", () => {
    for (let i = 0; i < VECTORS; i++) {
      const key = randomBytes(32);
      const iv = randomBytes(32);
      // 1, 2 and 3 blocks exercise the IV special cases; then up to 32 KiB.
      const plain = randomBytes(16 * (i < 3 ? i + 1 : randomInt(1, 2048)));
      const theirs = new gramjsIge(key, iv).encryptIge(plain);
      const ours = new NativeIge(key, iv).encryptIge(plain);
      assert.equal(ours.toString("hex"), theirs.toString("hex"), `vector ${i}`);
      // The in-place form restores its scratch input and writes at an offset.
      const scratch = Buffer.from(plain);
      const out = Buffer.alloc(plain.length + 8);
      nativeIgeEncryptInto(scratch, key, iv, out, 8);
      assert.ok(scratch.equals(plain), `scratch restored ${i}`);
      assert.equal(out.subarray(8).toString("hex"), theirs.toString("hex"), `in place ${i}`);
      assert.equal(new NativeIge(key, iv).decryptIge(ours).toString("hex"), plain.toString("hex"));
    }
  });

  it("AES-NI IGE also handles unaligned buffers", () => {
    const key = randomBytes(32);
    const iv = randomBytes(32);
    const backing = randomBytes(16 * 64 + 3);
    const plain = backing.subarray(1, 1 + 16 * 64);
    const expected = new gramjsIge(key, iv).encryptIge(Buffer.from(plain)).toString("hex");
    const out = Buffer.alloc(16 * 64 + 5);
    nativeIgeEncryptInto(plain, key, iv, out, 3);
    assert.equal(out.subarray(3, 3 + 16 * 64).toString("hex"), expected);
  });

  it("pads a partial block to 16 bytes like gramjs", () => {
    const key = randomBytes(32);
    const iv = randomBytes(32);
    const encrypted = new WasmIge(key, iv).encryptIge(randomBytes(33));
    assert.equal(encrypted.length, 48);
  });

  it("rejects keys and IVs of the wrong size", () => {
    assert.throws(
      () => new WasmIge(randomBytes(16), randomBytes(32)),
      /Expected a 32-byte key, got 16 bytes/,
    );
    assert.throws(() => new WasmIge(randomBytes(32), randomBytes(16)), /Expected a 32-byte IV, got 16 bytes/);
  });

  it("zlib CRC32 equals gramjs's on 200 random vectors", () => {
    assert.equal(fastCrc32(Buffer.alloc(0)), gramjsCrc32(Buffer.alloc(0)));
    for (let i = 0; i < VECTORS; i++) {
      const data = randomBytes(randomInt(0, 70_000));
      assert.equal(fastCrc32(data), gramjsCrc32(data), `crc vector ${i}`);
    }
  });

  it("installs into gramjs's own modules and uninstalls", () => {
    const status = installFastCrypto();
    assert.deepEqual(status, { ige: "native", crc32: "zlib" });
    assert.equal(require("telegram/crypto/IGE").IGE, NativeIge);
    assert.equal(require("telegram/Helpers").crc32, fastCrc32);
    assert.deepEqual(currentCrypto(), status);
    uninstallFastCrypto();
    assert.equal(require("telegram/crypto/IGE").IGE, gramjsIge);
    assert.deepEqual(currentCrypto(), { ige: "gramjs", crc32: "gramjs" });
  });
});

describe("framed AES-NI IGE", () => {
  it("leaves the ciphertext where the packet needs it, equal to gramjs's, on 200 random vectors", () => {
    for (let i = 0; i < VECTORS; i++) {
      const key = randomBytes(32);
      const iv = randomBytes(32);
      const plain = randomBytes(16 * (i < 3 ? i + 1 : randomInt(1, 2048)));
      const space = Buffer.alloc(IGE_HEADROOM + plain.length + IGE_TAILROOM);
      plain.copy(space, IGE_HEADROOM);
      const out = nativeIgeEncryptFramed(space, plain.length, key, iv);
      const expected = new gramjsIge(key, iv).encryptIge(plain);
      assert.equal(out.length, space.length);
      assert.equal(
        out.subarray(IGE_HEADROOM, IGE_HEADROOM + plain.length).toString("hex"),
        expected.toString("hex"),
      );
    }
  });
});
