// A worker thread that decrypts big MTProto messages (file parts) off the main thread: AES-IGE through WASM runs
// at ~170 MiB/s per core, so one thread alone would make the server the bottleneck of upload benchmarks.
// Plain JavaScript: Node 20 cannot start a worker from a .ts entry even under tsx. Mirrors decryptMessage() in
// crypto.ts (MTProto 2.0, client-to-server, x = 0).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parentPort } from "node:worker_threads";
import { getWasmUrl, ige256Decrypt, initSync } from "@mtcute/wasm";

initSync(readFileSync(fileURLToPath(getWasmUrl())));

function sha256(...parts) {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
}

function decrypt(authKey, packet) {
  const msgKey = packet.subarray(8, 24);
  const encrypted = packet.subarray(24);
  if (encrypted.length % 16 !== 0) throw new Error("encrypted data not a multiple of 16 bytes");
  const a = sha256(msgKey, authKey.subarray(0, 36));
  const b = sha256(authKey.subarray(40, 76), msgKey);
  const key = Buffer.concat([a.subarray(0, 8), b.subarray(8, 24), a.subarray(24, 32)]);
  const iv = Buffer.concat([b.subarray(0, 8), a.subarray(8, 24), b.subarray(24, 32)]);
  const plain = ige256Decrypt(encrypted, key, iv);
  if (!sha256(authKey.subarray(88, 120), plain).subarray(8, 24).equals(msgKey))
    throw new Error("msg_key mismatch");
  return plain;
}

// The plaintext goes back in the packet's own memory (see packet-buffers.ts), so neither thread allocates per part.
parentPort.on("message", (req) => {
  try {
    const packet = Buffer.from(req.buffer, req.offset, req.length);
    const plain = decrypt(Buffer.from(req.key), packet);
    new Uint8Array(req.buffer).set(plain, 0);
    parentPort.postMessage({ id: req.id, buffer: req.buffer, length: plain.length }, [req.buffer]);
  } catch (e) {
    parentPort.postMessage({ id: req.id, error: e.message });
  }
});
