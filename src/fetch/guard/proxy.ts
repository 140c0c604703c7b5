/**
 * A forward proxy on 127.0.0.1 for yt-dlp. The URL guard checks the link we are given; yt-dlp then follows
 * redirects and fetches playlists, segments and keys by itself. With `--proxy` pointing here, every one of those
 * requests (an absolute-URI HTTP request, or CONNECT for HTTPS) passes the same guard before any socket opens, and
 * the connection goes to the very address the check returned: no second lookup, so DNS cannot change in between.
 *
 * A refusal is answered with a status whose reason phrase carries the guard's code ("Medusa guard:
 * URL_PRIVATE_ADDRESS"); yt-dlp prints it, and ytdlp-errors turns it back into the guard's DownloadError.
 * One proxy per yt-dlp run: `close()` ends every socket it holds, so a run cannot leak connections.
 */
import http from "node:http";
import net from "node:net";
import { DownloadError } from "../../errors.js";
import { checkedAddresses, GUARD_REPLIES, type GuardOptions, type ResolvedAddress } from "./url-guard.js";

export interface GuardProxyOptions {
  guard: GuardOptions;
  /** @default 15_000 */
  connectTimeoutMs?: number;
  /** A client or upstream socket with no traffic this long is closed. @default 60_000 */
  idleTimeoutMs?: number;
  /** Upstream connections open at once; yt-dlp itself uses one or two. @default 16 */
  maxUpstream?: number;
}

export interface GuardProxy {
  /** "http://127.0.0.1:PORT", for yt-dlp's `--proxy`. */
  url: string;
  close(): Promise<void>;
}

/** Starts the reason phrase of every refusal; ytdlp-errors looks for it. */
export const GUARD_REFUSAL_PREFIX = "Medusa guard: ";

const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
/** Above yt-dlp's own 30 s socket timeout, so yt-dlp reports a stall before we cut it. */
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_UPSTREAM = 16;
/** A media request's line and headers are a few hundred bytes; cookies can add some kilobytes. */
const MAX_HEADER_BYTES = 32 * 1024;
/** yt-dlp sends its request at once; a client that trickles headers is not yt-dlp. */
const HEADERS_TIMEOUT_MS = 15_000;
/** Headers that belong to one hop (RFC 9110 §7.6.1) or to the proxy; never forwarded. */
const HOP_BY_HOP = new Set([
  "connection",
  "proxy-connection",
  "keep-alive",
  "proxy-authorization",
  "proxy-authenticate",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);
/** "host:port" or "[v6]:port": the only form a CONNECT target may take. */
const AUTHORITY = /^(\[[0-9a-fA-F:.]+\]|[^\s:/?#@[\]]+):(\d{1,5})$/;

const GATEWAY_REASONS: Record<string, readonly [number, string]> = {
  // The phrases yt-dlp's error mapping already knows (UNREACHABLE, TIMEOUT).
  ECONNREFUSED: [502, "Connection refused"],
  EHOSTUNREACH: [502, "No route to host"],
  ENETUNREACH: [502, "Network is unreachable"],
  ETIMEDOUT: [504, "Connection timed out"],
};

export async function startGuardProxy(options: GuardProxyOptions): Promise<GuardProxy> {
  const connectTimeoutMs = positive(options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, "connectTimeoutMs");
  const idleTimeoutMs = positive(options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS, "idleTimeoutMs");
  const maxUpstream = positive(options.maxUpstream, DEFAULT_MAX_UPSTREAM, "maxUpstream");
  const sockets = new Set<net.Socket>();
  let upstreamOpen = 0;
  let closed = false;

  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };

  /** The checked address for `url`, or the reply that refuses it. */
  async function target(url: URL): Promise<ResolvedAddress | Refusal> {
    try {
      const [first] = await checkedAddresses(url, options.guard);
      if (first) return first;
      return {
        status: 502,
        reason: `${GUARD_REFUSAL_PREFIX}DNS_NOT_FOUND`,
        body: `No address for ${url.host}`,
      };
    } catch (error) {
      return refusalFor(error);
    }
  }

  /** Opens a socket to the checked address only; bounded by the connect timeout and the upstream cap. */
  function dial(address: ResolvedAddress, port: number): Promise<net.Socket> {
    if (closed) return Promise.reject(errnoError("ECONNABORTED", "proxy closed"));
    if (upstreamOpen >= maxUpstream) {
      return Promise.reject(errnoError("EBUSY", `over ${maxUpstream} upstream connections`));
    }
    upstreamOpen++;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: address.address, port, family: address.family });
      track(socket);
      socket.once("close", () => upstreamOpen--);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(errnoError("ETIMEDOUT", `connect to ${address.address}:${port} timed out`));
      }, connectTimeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.setTimeout(idleTimeoutMs, () => socket.destroy());
        resolve(socket);
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  async function forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? "");
    } catch {
      return answer(res, { status: 400, reason: "Bad Request", body: "Expected an absolute http:// URL" });
    }
    // HTTPS comes as CONNECT (a client that sends it here would expect us to speak TLS for it); other schemes
    // are refused as the guard refuses them.
    if (url.protocol === "https:") {
      return answer(res, { status: 400, reason: "Bad Request", body: "Use CONNECT for https" });
    }
    if (url.protocol !== "http:") return answer(res, refusalFor(schemeError(url)));
    const address = await target(url);
    if ("reason" in address) return answer(res, address);
    let socket: net.Socket;
    try {
      socket = await dial(address, Number(url.port || 80));
    } catch (error) {
      return answer(res, gatewayRefusal(error));
    }
    if (res.destroyed) return void socket.destroy();
    const upstream = http.request({
      createConnection: () => socket,
      method: req.method,
      path: `${url.pathname}${url.search}`,
      headers: { ...forwardedHeaders(req.rawHeaders), host: url.host, connection: "close" },
      setHost: false,
    });
    upstream.on("response", (reply) => {
      res.writeHead(reply.statusCode ?? 502, reply.statusMessage, {
        ...forwardedHeaders(reply.rawHeaders),
        connection: "close",
      });
      reply.pipe(res);
    });
    upstream.on("error", (error) => answer(res, gatewayRefusal(error)));
    res.on("close", () => {
      upstream.destroy();
      socket.destroy();
    });
    req.pipe(upstream);
  }

  async function tunnel(req: http.IncomingMessage, client: net.Socket, head: Buffer): Promise<void> {
    client.setTimeout(idleTimeoutMs, () => client.destroy());
    client.on("error", () => client.destroy()); // a reset by yt-dlp ends the tunnel, nothing more
    const match = AUTHORITY.exec(req.url ?? "");
    const port = Number(match?.[2]);
    if (!match || !(port >= 1 && port <= 65_535)) {
      return rawAnswer(client, { status: 400, reason: "Bad Request", body: "Expected CONNECT host:port" });
    }
    let url: URL;
    try {
      url = new URL(`https://${match[1]}:${port}/`);
    } catch {
      return rawAnswer(client, { status: 400, reason: "Bad Request", body: "Expected CONNECT host:port" });
    }
    const address = await target(url);
    if ("reason" in address) return rawAnswer(client, address);
    let upstream: net.Socket;
    try {
      upstream = await dial(address, port);
    } catch (error) {
      return rawAnswer(client, gatewayRefusal(error));
    }
    if (client.destroyed) return void upstream.destroy();
    upstream.on("error", () => client.destroy());
    upstream.once("close", () => client.destroy());
    client.once("close", () => upstream.destroy());
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  }

  const server = http.createServer({
    maxHeaderSize: MAX_HEADER_BYTES,
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: 0, // a download may take long; the idle timeout bounds a stalled one
  });
  server.maxConnections = maxUpstream * 2;
  server.setTimeout(idleTimeoutMs); // no "timeout" listener: idle client sockets are destroyed
  server.on("connection", track);
  server.on("request", (req, res) => {
    forward(req, res).catch((error: unknown) => answer(res, gatewayRefusal(error)));
  });
  server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    tunnel(req, client, head).catch(() => client.destroy());
  });
  server.on("clientError", (error: NodeJS.ErrnoException, socket: net.Socket) => {
    if (error.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
    rawAnswer(socket, { status: 400, reason: "Bad Request", body: "Malformed or oversized request" });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as net.AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        closed = true;
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

interface Refusal {
  status: number;
  reason: string;
  body: string;
}

function refusalFor(error: unknown): Refusal {
  if (error instanceof DownloadError && error.code in GUARD_REPLIES) {
    const status = error.code.startsWith("DNS_") ? 502 : 403;
    return { status, reason: `${GUARD_REFUSAL_PREFIX}${error.code}`, body: error.message };
  }
  return gatewayRefusal(error);
}

function gatewayRefusal(error: unknown): Refusal {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? "";
  const [status, reason] =
    GATEWAY_REASONS[code] ?? (code === "EBUSY" ? [503, "Proxy Busy"] : [502, "Bad Gateway"]);
  return { status, reason, body: error instanceof Error ? error.message : String(error) };
}

function schemeError(url: URL): DownloadError {
  return new DownloadError("URL_SCHEME_NOT_ALLOWED", `Scheme ${url.protocol} refused by the proxy`, {
    userMessage: GUARD_REPLIES.URL_SCHEME_NOT_ALLOWED,
  });
}

function answer(res: http.ServerResponse, refusal: Refusal): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = `${refusal.body}\n`;
  res
    .writeHead(refusal.status, refusal.reason, {
      "content-type": "text/plain; charset=utf-8",
      "content-length": Buffer.byteLength(body),
      connection: "close",
    })
    .end(body);
}

/** An answer on a socket the HTTP server has let go of (CONNECT, parse errors). */
function rawAnswer(socket: net.Socket, refusal: Refusal): void {
  if (socket.destroyed) return;
  const body = `${refusal.body}\n`;
  socket.end(
    `HTTP/1.1 ${refusal.status} ${refusal.reason}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** Raw header pairs minus the hop-by-hop ones; repeated names (Set-Cookie) stay repeated. */
function forwardedHeaders(raw: readonly string[]): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? "").toLowerCase();
    const value = raw[i + 1] ?? "";
    if (HOP_BY_HOP.has(name)) continue;
    const seen = headers[name];
    if (seen === undefined) headers[name] = value;
    else headers[name] = Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return headers;
}

function errnoError(code: string, message: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(message);
  error.code = code;
  return error;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(Number.isSafeInteger(value) && value > 0)) {
    throw new TypeError(`Expected ${name} to be a positive whole number, got ${value}`);
  }
  return value;
}
