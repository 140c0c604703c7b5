/**
 * Login codes for auth.sendCode / auth.signIn. A code is bound to the phone, the phone_code_hash and the auth key
 * that asked for it; a newer code for the same phone and key expires the older one, as does time. Tests read the
 * codes here (no SMS, no app) through the in-process API or the control API.
 */
import { randomBytes, randomInt } from "node:crypto";
import { RpcFailure } from "./rpc-error.js";

/** Telegram's app codes have 5 digits. */
export const CODE_LENGTH = 5;
/** How long a code stays valid. @default 5 minutes */
export const DEFAULT_CODE_TTL_MS = 5 * 60_000;

export interface LoginCode {
  phone: string;
  code: string;
  phoneCodeHash: string;
  authKeyId: string;
  expiresAt: number;
  used: boolean;
}

/** Digits only: "+1 555-0100" and "15550100" are the same phone. */
export function normalizePhone(phone: string): string {
  return phone.replace(/\D/g, "");
}

export class LoginCodes {
  private readonly byHash = new Map<string, LoginCode>();
  ttlMs = DEFAULT_CODE_TTL_MS;

  issue(phone: string, authKeyId: string): LoginCode {
    const normalized = normalizePhone(phone);
    if (normalized.length < 5 || normalized.length > 15) throw new RpcFailure(400, "PHONE_NUMBER_INVALID");
    for (const c of this.byHash.values()) {
      if (c.phone === normalized && c.authKeyId === authKeyId) c.expiresAt = 0; // superseded
    }
    const code: LoginCode = {
      phone: normalized,
      code: String(randomInt(10 ** CODE_LENGTH)).padStart(CODE_LENGTH, "0"),
      phoneCodeHash: randomBytes(9).toString("hex"),
      authKeyId,
      expiresAt: Date.now() + this.ttlMs,
      used: false,
    };
    this.byHash.set(code.phoneCodeHash, code);
    return code;
  }

  /** Checks a code for auth.signIn; throws Telegram's error when it does not fit. */
  check(phone: string, phoneCodeHash: string, code: string | undefined, authKeyId: string): LoginCode {
    if (!phoneCodeHash) throw new RpcFailure(400, "PHONE_CODE_HASH_EMPTY");
    if (!code) throw new RpcFailure(400, "PHONE_CODE_EMPTY");
    const issued = this.byHash.get(phoneCodeHash);
    if (!issued || issued.authKeyId !== authKeyId) throw new RpcFailure(400, "PHONE_CODE_EXPIRED");
    if (issued.phone !== normalizePhone(phone)) throw new RpcFailure(400, "PHONE_NUMBER_INVALID");
    if (issued.used || Date.now() >= issued.expiresAt) throw new RpcFailure(400, "PHONE_CODE_EXPIRED");
    if (issued.code !== code) throw new RpcFailure(400, "PHONE_CODE_INVALID");
    issued.used = true;
    return issued;
  }

  /** The newest code sent to the phone, for tests. */
  latest(phone: string): LoginCode | undefined {
    const normalized = normalizePhone(phone);
    let found: LoginCode | undefined;
    for (const c of this.byHash.values()) if (c.phone === normalized) found = c;
    return found;
  }
}
