/**
 * A small pool of decrypt workers. Packets are transferred, not copied, when they own their memory.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { acquirePacket, adoptPacket, isExclusive } from "./packet-buffers.js";

interface DecryptRequest {
  id: number;
  key: Uint8Array;
  buffer: ArrayBuffer;
  offset: number;
  length: number;
}

/** The plaintext comes back in the very memory the packet went out in. */
type DecryptReply = { id: number; buffer: ArrayBuffer; length: number } | { id: number; error: string };

/** Below this a message is decrypted inline: posting it to a worker costs more than decrypting it. */
export const WORKER_THRESHOLD = 64 * 1024;

export class DecryptPool {
  private readonly workers: { worker: Worker; busy: number }[] = [];
  private readonly pending = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>();
  private nextId = 1;

  constructor(size = Math.min(4, availableParallelism())) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL("./decrypt-worker.mjs", import.meta.url));
      const entry = { worker, busy: 0 };
      worker.on("message", (reply: DecryptReply) => {
        entry.busy--;
        const p = this.pending.get(reply.id);
        if (!p) return;
        this.pending.delete(reply.id);
        if ("error" in reply) p.reject(new Error(reply.error));
        else p.resolve(adoptPacket(reply.buffer, reply.length));
      });
      worker.on("error", (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      worker.unref();
      this.workers.push(entry);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  decrypt(key: Buffer, packet: Buffer): Promise<Buffer> {
    const entry = this.workers.reduce((a, b) => (b.busy < a.busy ? b : a));
    entry.busy++;
    const id = this.nextId++;
    // Move the packet's memory to the worker when it owns it alone; otherwise copy it into memory that does.
    let data = packet;
    if (!isExclusive(packet)) {
      data = acquirePacket(packet.length);
      packet.copy(data);
    }
    const buffer = data.buffer as ArrayBuffer;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const req: DecryptRequest = { id, key, buffer, offset: data.byteOffset, length: data.byteLength };
      entry.worker.postMessage(req, [buffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
    for (const p of this.pending.values()) p.reject(new Error("decrypt pool closed"));
    this.pending.clear();
  }
}
