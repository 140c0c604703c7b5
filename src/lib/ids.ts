/** Random 64-bit ids as Telegram wants them (random_id on sends, file ids of uploads). */
import { randomBytes } from "node:crypto";

/** A random non-zero signed 64-bit integer: a send's random_id (stored before the call). */
export function randomLong(): bigint {
  const id = randomBytes(8).readBigInt64LE();
  return id === 0n ? 1n : id;
}

/** A random positive 63-bit integer: Telegram keys saved parts by (session, file id). */
export function randomPositiveLong(): bigint {
  return randomLong() & 0x7fffffffffffffffn || 1n;
}
