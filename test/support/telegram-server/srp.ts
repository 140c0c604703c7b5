/**
 * The server side of Telegram's 2FA check (core.telegram.org/api/srp): SRP-6a over Telegram's 2048-bit safe
 * prime with g = 3, the password hashed as PH2 (SHA-256 salted twice around PBKDF2-HMAC-SHA512, 100000 rounds).
 * The server knows the password, so it derives the verifier v = g^x itself; it never sees the password on the
 * wire, only A and M1, and checks M1 exactly as the client computed it.
 */
import { createHash, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";

/** Telegram's SRP prime (the one gramjs's Password.js accepts), big-endian. */
export const SRP_PRIME = Buffer.from(
  "c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f48198a0aa7c14058229493d22530f4dbfa336f6e0ac925139543aed44cce7c3720fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f18faf8c595f642477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4a4a695811051907e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754fd17ed950d5965b4b9dd46582db1178d169c6bc465b0d6ff9ca3928fef5b9ae4e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f0d8115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5b",
  "hex",
);
export const SRP_G = 3;
/** PBKDF2 rounds of PH2, as the algorithm's name says. */
const PH2_ROUNDS = 100_000;
/** Byte length of p, g, A, B and S when hashed. */
const SIZE = 256;
/** A, B and g^b must keep this many bits, as must p minus them (the check clients make of the server). */
const MIN_GOOD_BITS = 2048 - 64;

const P = toBig(SRP_PRIME);
const G = BigInt(SRP_G);

/** The cloud password as the server keeps it: salts and the verifier, plus the password for the tests' sake. */
export interface PasswordRecord {
  password: string;
  hint: string | undefined;
  salt1: Buffer;
  salt2: Buffer;
  v: bigint;
}

/** What one account.getPassword handed out: srp_id names it, auth.checkPassword must quote it. */
export interface SrpChallenge {
  id: bigint;
  b: bigint;
  B: Buffer;
}

export function newPasswordRecord(password: string, hint?: string): PasswordRecord {
  const salt1 = randomBytes(40);
  const salt2 = randomBytes(16);
  const x = toBig(passwordHash(password, salt1, salt2));
  return { password, hint, salt1, salt2, v: modPow(G, x, P) };
}

/** PH2(password, salt1, salt2). */
export function passwordHash(password: string, salt1: Buffer, salt2: Buffer): Buffer {
  const sh = (data: Buffer, salt: Buffer) => sha256(salt, data, salt);
  const ph1 = sh(sh(Buffer.from(password, "utf8"), salt1), salt2);
  return sh(pbkdf2Sync(ph1, salt1, PH2_ROUNDS, 64, "sha512"), salt2);
}

/** B = k·v + g^b mod p, with a fresh b whose g^b passes the clients' range checks. */
export function newChallenge(record: PasswordRecord): SrpChallenge {
  const k = toBig(sha256(SRP_PRIME, pad(G)));
  for (;;) {
    const b = toBig(randomBytes(SIZE));
    const gb = modPow(G, b, P);
    const B = (k * record.v + gb) % P;
    if (isGood(gb) && isGood(B)) return { id: randomBytes(8).readBigInt64LE(0), b, B: pad(B) };
  }
}

/** Whether the client's A and M1 prove it knows the password behind `record`. */
export function checkProof(record: PasswordRecord, challenge: SrpChallenge, A: Buffer, M1: Buffer): boolean {
  const a = toBig(A);
  if (A.length > SIZE || !isGood(a) || M1.length !== 32) return false;
  const aBytes = pad(a);
  const u = toBig(sha256(aBytes, challenge.B));
  if (u === 0n) return false;
  const S = modPow((a * modPow(record.v, u, P)) % P, challenge.b, P);
  const K = sha256(pad(S));
  const pg = xor(sha256(SRP_PRIME), sha256(pad(G)));
  const expected = sha256(pg, sha256(record.salt1), sha256(record.salt2), aBytes, challenge.B, K);
  return timingSafeEqual(expected, M1);
}

function isGood(n: bigint): boolean {
  return n > 0n && n < P && bitLength(n) >= MIN_GOOD_BITS && bitLength(P - n) >= MIN_GOOD_BITS;
}

function bitLength(n: bigint): number {
  return n.toString(2).length;
}

export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}

function toBig(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString("hex")}`);
}

function pad(n: bigint): Buffer {
  return Buffer.from(n.toString(16).padStart(SIZE * 2, "0"), "hex");
}

function sha256(...parts: Buffer[]): Buffer {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
}

function xor(a: Buffer, b: Buffer): Buffer {
  return Buffer.from(a.map((x, i) => x ^ b[i]!));
}
