/**
 * The SSRF guard. A link from a chat must not reach the bot's own machine, its private network or the cloud's
 * metadata service. Two checks, both needed:
 * - `checkUrl` before the first request and on every redirect: scheme, then every address the host resolves to;
 * - `guardedLookup`, the resolver the sockets themselves use: it resolves, checks and hands the socket exactly the
 *   addresses it checked, so a DNS answer that changes between check and connect (rebinding) cannot slip through.
 * IP literals never reach a resolver (Node connects to them directly), so `checkUrl` alone covers them.
 */
import dns from "node:dns";
import net from "node:net";
import ipaddr from "ipaddr.js";
import { DownloadError } from "../../errors.js";
import { withDeadline } from "../../lib/abort.js";
import { displayUrl } from "../../logger.js";

export type ResolvedAddress = { address: string; family: 4 | 6 };
/** Resolves a hostname to all its addresses (tests inject names that point wherever they like). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface GuardOptions {
  /** Allow loopback, private (RFC 1918, ULA) and CGNAT addresses: a bot that downloads from its own LAN. */
  allowPrivateNetworks: boolean;
  /**
   * Origins ("http://127.0.0.1:8080") trusted as they are, whatever their address. For an operator's internal
   * mirror, and for tests that need a local first hop while the redirect target stays guarded.
   * @default []
   */
  trustedOrigins?: readonly string[];
  /** @default dns.lookup with all: true */
  resolve?: Resolver;
  /** @default 10_000 */
  lookupTimeoutMs?: number;
}

const ALLOWED_SCHEMES = new Set(["http:", "https:"]);
/** getaddrinfo cannot be cancelled; past this we stop waiting for it. */
const DEFAULT_LOOKUP_TIMEOUT_MS = 10_000;
/** Ranges `allowPrivateNetworks` opens; link-local (cloud metadata), multicast and reserved stay closed. */
const PRIVATE_RANGES = new Set(["loopback", "private", "uniqueLocal", "carrierGradeNat"]);

/** Parses a link and refuses anything but http(s); the error never shows credentials. */
export function parseHttpUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch (cause) {
    throw new DownloadError("URL_INVALID", `Not a valid URL: ${displayUrl(raw)}`, {
      cause,
      userMessage: "That is not a valid link.",
      hint: "Send a full link starting with https://",
    });
  }
  if (!ALLOWED_SCHEMES.has(url.protocol)) {
    throw new DownloadError(
      "URL_SCHEME_NOT_ALLOWED",
      `Scheme ${url.protocol} refused: ${displayUrl(url.href)}`,
      {
        userMessage: `Only http and https links can be downloaded, not ${url.protocol.replace(/:$/, "")}.`,
        key: "err.URL_SCHEME_NAMED",
        params: { scheme: url.protocol.replace(/:$/, "") },
      },
    );
  }
  if (!url.hostname) {
    throw new DownloadError("URL_INVALID", `No host in ${displayUrl(url.href)}`, {
      userMessage: "That link has no host name.",
      key: "err.URL_NO_HOST",
    });
  }
  return url;
}

/** Why an address is refused ("loopback", "linkLocal" …), or undefined when it may be contacted. */
export function blockedRange(address: string, allowPrivateNetworks: boolean): string | undefined {
  if (!ipaddr.isValid(address)) return "invalid";
  const ip = ipaddr.parse(address);
  if (ip.kind() === "ipv6") {
    // An IPv6 address that carries an IPv4 one reaches (or is translated to) that IPv4 host: judge each.
    const embedded = embeddedIPv4(ip as ipaddr.IPv6);
    if (embedded.length > 0) {
      for (const v4 of embedded) {
        const range = blockedIPv4OrV6(v4, allowPrivateNetworks);
        if (range !== undefined) return `${range} (${v4.toString()} inside ${address})`;
      }
      return undefined;
    }
  }
  return blockedIPv4OrV6(ip, allowPrivateNetworks);
}

function blockedIPv4OrV6(ip: ipaddr.IPv4 | ipaddr.IPv6, allowPrivateNetworks: boolean): string | undefined {
  const range = ip.range();
  if (range === "unicast") return undefined;
  if (allowPrivateNetworks && PRIVATE_RANGES.has(range)) return undefined;
  // Everything else: unspecified, broadcast, multicast, linkLocal, reserved, translation ranges we cannot see
  // through (64:ff9b:1::/48, ::ffff:0:0:0/96) …
  return range;
}

/**
 * The IPv4 addresses inside an IPv6 one: IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96 (not :: and ::1),
 * NAT64 64:ff9b::/96, 6to4 2002::/16 and Teredo 2001::/32 (its server and its obfuscated client address).
 */
export function embeddedIPv4(ip: ipaddr.IPv6): ipaddr.IPv4[] {
  const b = ip.toByteArray();
  const v4 = (bytes: number[]) => new ipaddr.IPv4(bytes);
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const last32 = b.slice(12, 16);
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return [v4(last32)];
  if (zero(0, 12) && !(zero(12, 15) && (b[15] ?? 0) <= 1)) return [v4(last32)];
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return [v4(last32)];
  if (b[0] === 0x20 && b[1] === 0x02) return [v4(b.slice(2, 6))];
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x00 && b[3] === 0x00) {
    return [v4(b.slice(4, 8)), v4(last32.map((x) => x ^ 0xff))];
  }
  return [];
}

function hostOf(url: URL): string {
  // URL keeps brackets around IPv6 literals.
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

function isTrusted(url: URL, options: GuardOptions): boolean {
  return (options.trustedOrigins ?? []).some((origin) => origin === url.origin);
}

/** Scheme and every resolved address of `url`; throws DownloadError. Call before each request and redirect. */
export async function checkUrl(url: URL, options: GuardOptions): Promise<void> {
  if (!ALLOWED_SCHEMES.has(url.protocol)) parseHttpUrl(url.href);
  if (isTrusted(url, options)) return;
  const host = hostOf(url);
  if (net.isIP(host)) {
    refuseIfBlocked(host, host, options);
    return;
  }
  await resolveChecked(host, options);
}

/**
 * The addresses a connection to `url` may use: checked like `checkUrl`, but also resolved for trusted origins and
 * IP literals, so a caller that connects by itself (the yt-dlp proxy) dials exactly these and never looks up again.
 */
export async function checkedAddresses(url: URL, options: GuardOptions): Promise<ResolvedAddress[]> {
  if (!ALLOWED_SCHEMES.has(url.protocol)) parseHttpUrl(url.href);
  const host = hostOf(url);
  const literal = net.isIP(host);
  if (literal) {
    if (!isTrusted(url, options)) refuseIfBlocked(host, host, options);
    return [{ address: host, family: literal === 6 ? 6 : 4 }];
  }
  return isTrusted(url, options) ? resolveBounded(host, options) : resolveChecked(host, options);
}

/** What the user reads when the guard refuses, by code; the yt-dlp error mapping reuses the same words. */
export const GUARD_REPLIES = {
  URL_PRIVATE_ADDRESS:
    "That link points to a private or reserved network address, which this bot does not fetch.",
  URL_SCHEME_NOT_ALLOWED: "Only http and https links can be downloaded.",
  URL_INVALID: "That is not a valid link.",
  DNS_NOT_FOUND: "The site's name could not be resolved.",
  DNS_TIMEOUT: "The site's name could not be resolved in time.",
} as const;
export type GuardCode = keyof typeof GUARD_REPLIES;

function refuseIfBlocked(host: string, address: string, options: GuardOptions): void {
  const range = blockedRange(address, options.allowPrivateNetworks);
  if (range === undefined) return;
  throw new DownloadError("URL_PRIVATE_ADDRESS", `Refused ${host}: address ${address} is ${range}`, {
    userMessage: GUARD_REPLIES.URL_PRIVATE_ADDRESS,
  });
}

/** All addresses of `host`, each checked; refuses the host when any one is blocked. */
export async function resolveChecked(host: string, options: GuardOptions): Promise<ResolvedAddress[]> {
  const addresses = await resolveBounded(host, options);
  for (const { address } of addresses) refuseIfBlocked(host, address, options);
  return addresses;
}

/** All addresses of `host`, unchecked, within the lookup timeout; DownloadError when there are none. */
async function resolveBounded(host: string, options: GuardOptions): Promise<ResolvedAddress[]> {
  const resolve = options.resolve ?? systemResolve;
  const timeoutMs = options.lookupTimeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS;
  let addresses: ResolvedAddress[];
  try {
    addresses = await withDeadline(resolve(host), timeoutMs, undefined, () => {
      return new DownloadError("DNS_TIMEOUT", `Resolving ${host} took over ${timeoutMs} ms`, {
        userMessage: GUARD_REPLIES.DNS_TIMEOUT,
      });
    });
  } catch (cause) {
    if (cause instanceof DownloadError) throw cause;
    throw new DownloadError("DNS_NOT_FOUND", `Cannot resolve ${host}`, {
      cause,
      userMessage: GUARD_REPLIES.DNS_NOT_FOUND,
    });
  }
  if (addresses.length === 0) {
    throw new DownloadError("DNS_NOT_FOUND", `No addresses for ${host}`, {
      userMessage: GUARD_REPLIES.DNS_NOT_FOUND,
    });
  }
  return addresses;
}

async function systemResolve(hostname: string): Promise<ResolvedAddress[]> {
  const found = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for sockets (got's `dnsLookup`): the connection goes only to addresses this very call checked.
 * Hosts of trusted origins resolve unchecked (the lookup sees no port, so trust covers the host name).
 */
export function guardedLookup(options: GuardOptions) {
  const trustedHosts = new Set(
    (options.trustedOrigins ?? []).flatMap((origin) => {
      try {
        return [hostOf(new URL(origin))];
      } catch {
        return [];
      }
    }),
  );
  return (hostname: string, lookupOptions: dns.LookupOptions | number, callback: LookupCallback): void => {
    const family = typeof lookupOptions === "number" ? lookupOptions : (lookupOptions.family ?? 0);
    const all = typeof lookupOptions === "object" && lookupOptions.all === true;
    const resolved = trustedHosts.has(hostname)
      ? (options.resolve ?? systemResolve)(hostname)
      : resolveChecked(hostname, options);
    resolved.then(
      (addresses) => {
        const wanted =
          family === 4 || family === 6 ? addresses.filter((a) => a.family === family) : addresses;
        const first = wanted[0];
        if (!first) {
          const error: NodeJS.ErrnoException = new Error(`No IPv${family} address for ${hostname}`);
          error.code = "ENOTFOUND";
          callback(error, "");
          return;
        }
        if (all) callback(null, wanted);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ""),
    );
  };
}
