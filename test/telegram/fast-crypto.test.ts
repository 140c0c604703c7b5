import assert from "node:assert/strict";
import { randomBytes, randomInt } from "node:crypto";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import {
  currentCrypto,
  fastCrc32,
  gramjsCrc32,
  gramjsIge,
  installFastCrypto,
  uninstallFastCrypto,
  WasmIge,
} from "../../src/telegram/fast-crypto.js";

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
    assert.deepEqual(status, { ige: "wasm", crc32: "zlib" });
    assert.equal(require("telegram/crypto/IGE").IGE, WasmIge);
    assert.equal(require("telegram/Helpers").crc32, fastCrc32);
    assert.deepEqual(currentCrypto(), status);
    uninstallFastCrypto();
    assert.equal(require("telegram/crypto/IGE").IGE, gramjsIge);
    assert.deepEqual(currentCrypto(), { ige: "gramjs", crc32: "gramjs" });
  });
});
