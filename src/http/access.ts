/**
 * The dashboard's token. Accepted as `Authorization: Bearer …`, or once as `?token=…`, which becomes an HttpOnly,
 * SameSite=Strict cookie and a redirect to the same address without it (so it leaves the address bar, the history
 * and any Referer). Every comparison is constant-time over SHA-256 digests, so neither the content nor the length
 * of the token leaks through timing.
 */
import crypto from "node:crypto";
import type { IncomingMessage } from "node:http";

export const ACCESS_COOKIE = "medusa_dashboard";
/** How long the browser keeps the cookie: a month of looking in without pasting the token again. */
const COOKIE_MAX_AGE_S = 30 * 24 * 60 * 60;

export type AccessDecision =
  | { kind: "allowed" }
  | { kind: "denied" }
  /** The right token in the query: store it as a cookie and load the address without it. */
  | { kind: "redirect"; location: string; setCookie: string };

/** True when both texts are equal; constant-time whatever their lengths. */
export function tokensEqual(given: string, expected: string): boolean {
  const digest = (text: string) => crypto.createHash("sha256").update(text, "utf8").digest();
  return crypto.timingSafeEqual(digest(given), digest(expected));
}

/** What the cookie holds: derived from the token, so the browser's cookie store never holds the token itself. */
function cookieValue(token: string): string {
  return crypto.createHash("sha256").update(`medusa-dashboard-cookie:${token}`, "utf8").digest("base64url");
}

export function decideAccess(req: IncomingMessage, url: URL, token: string | undefined): AccessDecision {
  if (token === undefined) return { kind: "allowed" };
  const fromQuery = url.searchParams.get("token");
  if (fromQuery !== null) {
    if (!tokensEqual(fromQuery, token)) return { kind: "denied" };
    const clean = new URL(url);
    clean.searchParams.delete("token");
    return {
      kind: "redirect",
      location: `${clean.pathname}${clean.search}`,
      setCookie: `${ACCESS_COOKIE}=${cookieValue(token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${COOKIE_MAX_AGE_S}`,
    };
  }
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "")?.[1];
  if (bearer !== undefined) return tokensEqual(bearer, token) ? { kind: "allowed" } : { kind: "denied" };
  const cookie = readCookie(req.headers.cookie, ACCESS_COOKIE);
  if (cookie !== undefined && tokensEqual(cookie, cookieValue(token))) return { kind: "allowed" };
  return { kind: "denied" };
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}
