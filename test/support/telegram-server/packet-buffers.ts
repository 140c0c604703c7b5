/**
 * Reusable buffers for big packets. A file part's packet goes to a decrypt worker and comes back as plaintext in
 * the same memory; once the part is on disk the buffer serves the next packet, so the main thread allocates (and
 * garbage-collects) almost nothing per part. Only buffers that one message owns alone are ever reused.
 */

/** A 1 MiB container plus its envelope: every packet gramjs sends fits. */
export const PACKET_CAPACITY = 1024 * 1024 + 4096;
/** Enough for 8 connections x 8 parts in flight; beyond that buffers are left to the garbage collector. */
const MAX_FREE = 64;

const free: ArrayBuffer[] = [];
/** Memory that exactly one packet (or its plaintext) uses, so it may move between threads and be reused. */
const exclusive = new WeakSet<ArrayBufferLike>();

export function acquirePacket(length: number): Buffer {
  const ab =
    length > PACKET_CAPACITY ? new ArrayBuffer(length) : (free.pop() ?? new ArrayBuffer(PACKET_CAPACITY));
  exclusive.add(ab);
  return Buffer.from(ab, 0, length);
}

export function isExclusive(buf: Uint8Array): boolean {
  return exclusive.has(buf.buffer);
}

/** Marks memory that came back from a worker as owned by one message again. */
export function adoptPacket(ab: ArrayBuffer, length: number): Buffer {
  exclusive.add(ab);
  return Buffer.from(ab, 0, length);
}

/** The memory now holds several messages (a container): never reuse it. */
export function sharePacket(buf: Uint8Array): void {
  exclusive.delete(buf.buffer);
}

/** Called when the only user of the memory is done with it (a part written to disk). */
export function releasePacket(buf: Uint8Array): void {
  const ab = buf.buffer;
  if (!exclusive.has(ab) || ab.byteLength !== PACKET_CAPACITY || free.length >= MAX_FREE) return;
  exclusive.delete(ab);
  free.push(ab as ArrayBuffer);
}
