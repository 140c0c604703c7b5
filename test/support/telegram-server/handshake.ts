/**
 * The auth-key exchange (req_pq_multi … dh_gen_ok, RSA_PAD variant), one instance per connection. The auth key
 * is the full 256-byte g^ab as the protocol says; gramjs drops leading zero bytes, so about 1 exchange in 256
 * fails on its side with "Invalid new nonce hash" and it must retry (src/telegram/connect.ts does).
 */
import { createDiffieHellman, randomBytes } from "node:crypto";
import { Api } from "telegram";
import { AuthKey } from "telegram/crypto/AuthKey.js";
import { BinaryReader } from "telegram/extensions/index.js";
import { generateKeyDataFromNonce, readBigIntFromBuffer, toSignedLittleBuffer } from "telegram/Helpers.js";
import {
  bigIntToBytes,
  bytesToBigInt,
  igeDecrypt,
  igeEncrypt,
  rsaDecryptRaw,
  type ServerRsaKey,
  sha1,
  sha256,
} from "./crypto.js";

/** Telegram's own 2048-bit safe prime with g = 3 (gramjs checks neither, a faithful server uses them). */
const DH_PRIME = Buffer.from(
  "C71CAEB9C6B1C9048E6C522F70F13F73980D40238E3E21C14934D037563D930F48198A0AA7C14058229493D22530F4DBFA336F6E0AC92513" +
    "9543AED44CCE7C3720FD51F69458705AC68CD4FE6B6B13ABDC9746512969328454F18FAF8C595F642477FE96BB2A941D5BCD1D4AC8CC49880" +
    "708FA9B378E3C4F3A9060BEE67CF9A4A4A695811051907E162753B56B0F6B410DBA74D8A84B2A14B3144E0EF1284754FD17ED950D5965B4B9" +
    "DD46582DB1178D169C6BC465B0D6FF9CA3928FEF5B9AE4E418FC15E83EBEA0F87FA9FF5EED70050DED2849F47BF959D956850CE929851F0D8" +
    "115F635B105EE2E4E15D04B2454BF6F4FADF034B10403119CD8E3B92FCC5B",
  "hex",
);
const DH_G = 3;

export interface NewAuthKey {
  key: Buffer;
  /** substr(new_nonce, 0, 8) XOR substr(server_nonce, 0, 8): the first server salt. */
  salt: bigint;
}

export class HandshakeError extends Error {}

type BigInteger = ReturnType<typeof readBigIntFromBuffer>;

/** Small primes for pq: their product stays below 2^63 so gramjs (which reads pq as signed) factorises it. */
function randomPrime(): bigint {
  for (;;) {
    const candidate = (randomBytes(4).readUInt32BE(0) | 0x40000001) & 0x7fffffff;
    let prime = true;
    for (let d = 3; d * d <= candidate; d += 2) {
      if (candidate % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) return BigInt(candidate);
  }
}

export class Handshake {
  private nonce: BigInteger | undefined;
  private serverNonce: BigInteger | undefined;
  private newNonce: BigInteger | undefined;
  private p = 0n;
  private q = 0n;
  private dh: ReturnType<typeof createDiffieHellman> | undefined;
  private tmp: { key: Buffer; iv: Buffer } | undefined;

  constructor(
    private readonly rsa: ServerRsaKey,
    /** Test hook: answer the next dh_gen with a wrong hash, as gramjs sees the key mismatch (about 1 exchange in 200). */
    private readonly corruptNonceHash: () => boolean,
  ) {}

  /** Answers one plain-text request; returns the new key with the final answer. */
  async handle(
    request: unknown,
  ): Promise<{ answer: Api.AnyRequest | { getBytes(): Buffer }; authKey?: NewAuthKey }> {
    if (request instanceof Api.ReqPqMulti || request instanceof Api.ReqPq) {
      this.nonce = request.nonce;
      this.serverNonce = readBigIntFromBuffer(randomBytes(16), true, true);
      this.p = randomPrime();
      this.q = randomPrime();
      if (this.p > this.q) [this.p, this.q] = [this.q, this.p];
      return {
        answer: new Api.ResPQ({
          nonce: this.nonce,
          serverNonce: this.serverNonce,
          pq: bigIntToBytes(this.p * this.q, 8),
          serverPublicKeyFingerprints: [
            readBigIntFromBuffer(fingerprintBytes(this.rsa.fingerprint), true, true),
          ],
        }),
      };
    }
    if (request instanceof Api.ReqDHParams) return { answer: await this.dhParams(request) };
    if (request instanceof Api.SetClientDHParams) return this.clientDhParams(request);
    throw new HandshakeError(
      `unexpected plain-text message ${(request as { className?: string }).className}`,
    );
  }

  private checkNonces(r: { nonce: BigInteger; serverNonce: BigInteger }): void {
    if (!this.nonce || !this.serverNonce || !r.nonce.eq(this.nonce) || !r.serverNonce.eq(this.serverNonce)) {
      throw new HandshakeError("nonce mismatch");
    }
  }

  private async dhParams(r: Api.ReqDHParams): Promise<Api.ServerDHParamsOk> {
    this.checkNonces(r);
    if (r.publicKeyFingerprint.toString() !== this.rsa.fingerprint)
      throw new HandshakeError("unknown fingerprint");
    if (bytesToBigInt(r.p) !== this.p || bytesToBigInt(r.q) !== this.q)
      throw new HandshakeError("wrong p, q");
    // RSA_PAD: key_aes_encrypted = temp_key_xor (32) + aes_encrypted (224).
    const plain = rsaDecryptRaw(this.rsa, r.encryptedData);
    const tempKey = Buffer.from(plain.subarray(0, 32));
    const aesEncrypted = plain.subarray(32, 256);
    const h = sha256(aesEncrypted);
    for (let i = 0; i < 32; i++) tempKey[i]! ^= h[i]!;
    const dataWithHash = igeDecrypt(aesEncrypted, tempKey, Buffer.alloc(32));
    const dataWithPadding = Buffer.from(dataWithHash.subarray(0, 192)).reverse();
    if (!sha256(tempKey, dataWithPadding).equals(dataWithHash.subarray(192, 224))) {
      throw new HandshakeError("RSA_PAD hash mismatch");
    }
    const inner = new BinaryReader(dataWithPadding).tgReadObject();
    if (!(inner instanceof Api.PQInnerData || inner instanceof Api.PQInnerDataDc)) {
      throw new HandshakeError("expected p_q_inner_data");
    }
    this.checkNonces(inner);
    this.newNonce = inner.newNonce;
    this.tmp = await generateKeyDataFromNonce(this.serverNonce!, this.newNonce);
    this.dh = createDiffieHellman(DH_PRIME, Buffer.from([DH_G]));
    this.dh.generateKeys();
    const answer = new Api.ServerDHInnerData({
      nonce: this.nonce!,
      serverNonce: this.serverNonce!,
      g: DH_G,
      dhPrime: DH_PRIME,
      gA: bigIntToBytes(bytesToBigInt(this.dh.getPublicKey()), 256),
      serverTime: Math.floor(Date.now() / 1000),
    }).getBytes();
    const withHash = Buffer.concat([sha1(answer), answer]);
    const padded = Buffer.concat([withHash, randomBytes((16 - (withHash.length % 16)) % 16)]);
    return new Api.ServerDHParamsOk({
      nonce: this.nonce!,
      serverNonce: this.serverNonce!,
      encryptedAnswer: igeEncrypt(padded, this.tmp.key, this.tmp.iv),
    });
  }

  private async clientDhParams(
    r: Api.SetClientDHParams,
  ): Promise<{ answer: Api.DhGenOk; authKey: NewAuthKey }> {
    this.checkNonces(r);
    if (!this.tmp || !this.dh || !this.newNonce)
      throw new HandshakeError("set_client_DH_params out of order");
    const plain = igeDecrypt(r.encryptedData, this.tmp.key, this.tmp.iv);
    const reader = new BinaryReader(plain.subarray(20));
    const inner = reader.tgReadObject();
    if (!(inner instanceof Api.ClientDHInnerData)) throw new HandshakeError("expected client_DH_inner_data");
    if (!sha1(plain.subarray(20, 20 + reader.tellPosition())).equals(plain.subarray(0, 20))) {
      throw new HandshakeError("client_DH_inner_data hash mismatch");
    }
    this.checkNonces(inner);
    const key = bigIntToBytes(bytesToBigInt(this.dh.computeSecret(inner.gB)), 256);
    const authKey = new AuthKey();
    await authKey.setKey(key);
    let hash = await authKey.calcNewNonceHash(this.newNonce, 1);
    if (this.corruptNonceHash()) hash = hash.add(1);
    const nn = toSignedLittleBuffer(this.newNonce, 32);
    const sn = toSignedLittleBuffer(this.serverNonce!, 16);
    const salt = nn.readBigInt64LE(0) ^ sn.readBigInt64LE(0);
    return {
      answer: new Api.DhGenOk({ nonce: this.nonce!, serverNonce: this.serverNonce!, newNonceHash1: hash }),
      authKey: { key, salt },
    };
  }
}

function fingerprintBytes(fingerprint: string): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(BigInt(fingerprint), 0);
  return b;
}
