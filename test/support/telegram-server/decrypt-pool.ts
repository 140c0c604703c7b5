/**
 * A small pool of decrypt workers. Packets are transferred, not copied, when they own their memory.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

interface DecryptRequest {
  id: number;
  key: Uint8Array;
  packet: Uint8Array;
}

type DecryptReply = { id: number; plain: Uint8Array } | { id: number; error: string };

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
        else p.resolve(Buffer.from(reply.plain.buffer, reply.plain.byteOffset, reply.plain.byteLength));
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
    // Transfer when the packet owns its whole ArrayBuffer (big packets do); otherwise copy it.
    const owned = packet.byteOffset === 0 && packet.byteLength === packet.buffer.byteLength;
    const data = owned ? packet : Buffer.from(packet);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      entry.worker.postMessage({ id, key, packet: data } satisfies DecryptRequest, [
        data.buffer as ArrayBuffer,
      ]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
    for (const p of this.pending.values()) p.reject(new Error("decrypt pool closed"));
    this.pending.clear();
  }
}
