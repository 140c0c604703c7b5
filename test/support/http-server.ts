/**
 * A real HTTP server on 127.0.0.1 for download tests and the download benchmark: Range or not, per-connection
 * rate caps, dropped connections, stalls, lying Content-Length, redirects. Bodies are either a Buffer or a
 * deterministic pattern of any size that costs no memory beyond one block.
 */
import { randomBytes } from "node:crypto";
import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import net, { type AddressInfo, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** The bytes a route serves; `read` returns at most one block (zero-copy where it can). */
export interface Body {
  size: number;
  read(start: number, end: number): Buffer;
}

export function bufferBody(buffer: Buffer): Body {
  return { size: buffer.length, read: (start, end) => buffer.subarray(start, end) };
}

/** A pseudo-random block repeated to `size` bytes: big files without big memory. */
const PATTERN_BLOCK = 1024 * 1024;
export function patternBody(size: number, seed = 1): Body {
  const block = Buffer.alloc(PATTERN_BLOCK);
  // xorshift32: the same bytes in every process, so a child's file can be checked against the parent's pattern.
  let x = seed >>> 0 || 1;
  for (let i = 0; i < PATTERN_BLOCK; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    block.writeUInt32LE(x, i);
  }
  return {
    size,
    read(start, end) {
      const offset = start % PATTERN_BLOCK;
      return block.subarray(offset, Math.min(PATTERN_BLOCK, offset + (end - start)));
    },
  };
}

export function randomBody(size: number): Body {
  return bufferBody(randomBytes(size));
}

export interface ServeOptions {
  /** Honour Range requests and advertise Accept-Ranges. @default true */
  ranges?: boolean;
  /** @default "application/octet-stream" */
  contentType?: string;
  contentDisposition?: string;
  etag?: string;
  /** Bytes per second for this response's connection; unlimited when absent. */
  rate?: number;
  /** Destroy the connection after this many body bytes of this response. */
  dropAfter?: number;
  /** Stop sending (keep the connection open) after this many body bytes. */
  stallAfter?: number;
  /** A Content-Length other than the truth (a short body when larger). */
  declaredLength?: number;
  /** Send without Content-Length (chunked). */
  chunked?: boolean;
  /** Answer a Range request with at most this many bytes (a correct, shorter 206), as some CDNs do. */
  rangeCap?: number;
}

/** Largest single write: one pattern block, so that serving costs the bench server little CPU. */
const WRITE_CHUNK = 1024 * 1024;
/**
 * Bucket size for rate caps: 20 ms worth of bytes (at least 64 KiB), so that timers running late on a busy machine
 * do not lose tokens and the cap is what the connection really gets.
 */
const BURST_MS = 20;
const MIN_BURST = 64 * 1024;

/** Answers a GET for `body` with Range support and the faults in `options`. */
export function serveBody(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: Body,
  options: ServeOptions = {},
) {
  const ranges = options.ranges ?? true;
  let start = 0;
  let end = body.size;
  let status = 200;
  const range = ranges ? /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "") : null;
  const ifRange = req.headers["if-range"];
  if (range && (!ifRange || ifRange === options.etag)) {
    if (range[1] === "") {
      start = Math.max(0, body.size - Number(range[2]));
    } else {
      start = Number(range[1]);
      if (range[2] !== "") end = Math.min(body.size, Number(range[2]) + 1);
    }
    if (start >= body.size || start >= end) {
      res.writeHead(416, { "content-range": `bytes */${body.size}` }).end();
      return;
    }
    if (options.rangeCap !== undefined) end = Math.min(end, start + options.rangeCap);
    status = 206;
  }
  const headers: http.OutgoingHttpHeaders = {
    "content-type": options.contentType ?? "application/octet-stream",
  };
  if (ranges) headers["accept-ranges"] = "bytes";
  if (options.contentDisposition) headers["content-disposition"] = options.contentDisposition;
  if (options.etag) headers.etag = options.etag;
  if (status === 206) headers["content-range"] = `bytes ${start}-${end - 1}/${body.size}`;
  if (!options.chunked) headers["content-length"] = options.declaredLength ?? end - start;
  res.writeHead(status, headers);
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  void send(res, body, start, end, options);
}

async function send(res: http.ServerResponse, body: Body, start: number, end: number, options: ServeOptions) {
  const socket = res.socket as Socket;
  let closed = false;
  res.once("close", () => {
    closed = true;
  });
  const rate = options.rate;
  const burst = rate ? Math.max(MIN_BURST, Math.floor((rate * BURST_MS) / 1000)) : 0;
  let tokens = burst;
  let last = performance.now();
  let sent = 0;
  let pos = start;
  while (pos < end && !closed) {
    let n = Math.min(WRITE_CHUNK, end - pos);
    if (options.dropAfter !== undefined && sent >= options.dropAfter) {
      socket.destroy();
      return;
    }
    if (options.stallAfter !== undefined && sent >= options.stallAfter) {
      // Silent but open; the client's idle timeout (or the server's close) ends it.
      return;
    }
    if (options.dropAfter !== undefined) n = Math.min(n, options.dropAfter - sent);
    if (options.stallAfter !== undefined) n = Math.min(n, options.stallAfter - sent);
    if (rate) {
      const now = performance.now();
      tokens = Math.min(burst, tokens + ((now - last) * rate) / 1000);
      last = now;
      if (tokens < Math.min(n, burst / 2)) {
        await sleep(1);
        continue;
      }
      n = Math.min(n, Math.floor(tokens));
      tokens -= n;
    }
    const chunk = body.read(pos, pos + n);
    pos += chunk.length;
    sent += chunk.length;
    if (options.dropAfter !== undefined && sent >= options.dropAfter) {
      // The bytes before a drop must reach the client: destroy() discards what the socket still holds, and with
      // it, on a large first write, the headers (the client would see a hang-up before any response).
      await new Promise<void>((resolve) => {
        res.once("close", resolve);
        res.write(chunk, () => {
          res.off("close", resolve);
          resolve();
        });
      });
      continue;
    }
    if (!res.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off("drain", done);
          res.off("close", done);
          resolve();
        };
        res.on("drain", done);
        res.on("close", done);
      });
    }
  }
  if (closed) return;
  if (options.declaredLength !== undefined && options.declaredLength > sent) {
    // A body shorter than promised: the connection closes early, as a crashed upstream would.
    socket.destroy();
    return;
  }
  res.end();
}

export type Route = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface FlakyOptions extends ServeOptions {
  /** Share (0..1) of requests whose connection is destroyed part-way through the body (a random point). */
  dropShare?: number;
  /** Share (0..1) of requests answered `errorStatus` with no body. */
  errorShare?: number;
  /** @default 503 */
  errorStatus?: number;
  /** @default Math.random */
  random?: () => number;
}

/** What a flaky route did, counted per request; several routes may share one tally. */
export interface FaultTally {
  requests: number;
  /** Responses cut off mid-body. */
  drops: number;
  /** Responses answered with the error status. */
  errors: number;
}

export function newFaultTally(): FaultTally {
  return { requests: 0, drops: 0, errors: 0 };
}

/**
 * Serves `body` like serveBody, but a share of requests fail as a real site's do now and then: an error status
 * (503 by default), or a connection closed part-way through the body (after at least one byte and before the
 * last, so the client sees a short body and has something to resume from).
 */
export function flakyRoute(body: Body, options: FlakyOptions, tally: FaultTally): Route {
  const random = options.random ?? Math.random;
  return (req, res) => {
    tally.requests++;
    const roll = random();
    const errorShare = options.errorShare ?? 0;
    if (roll < errorShare) {
      tally.errors++;
      res.writeHead(options.errorStatus ?? 503, { "content-type": "text/plain" }).end();
      return;
    }
    if (roll < errorShare + (options.dropShare ?? 0)) {
      // Body bytes this response would carry: from the Range start (when ranges apply) to the end.
      const range = (options.ranges ?? true) ? /^bytes=(\d+)-/.exec(req.headers.range ?? "") : null;
      const remaining = body.size - (range ? Number(range[1]) : 0);
      if (remaining >= 2) {
        tally.drops++;
        serveBody(req, res, body, { ...options, dropAfter: 1 + Math.floor(random() * (remaining - 1)) });
        return;
      }
    }
    serveBody(req, res, body, options);
  };
}

export interface TestHttpServer {
  /** "http://127.0.0.1:PORT" (https with TLS) */
  origin: string;
  port: number;
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** Every request seen: path and Range header. */
  readonly requests: Array<{ path: string; range: string | undefined }>;
  /** Body bytes handed to the sockets so far, by path (what a resumed download must keep low). */
  readonly bytesServed: Map<string, number>;
  route(path: string, handler: Route): void;
  close(): Promise<void>;
}

export interface StartOptions {
  /** @default 0 (a free port) */
  port?: number;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: Buffer | string; cert: Buffer | string };
}

/** Starts a server on 127.0.0.1; unknown paths answer 404. */
export async function startHttpServer(options: StartOptions = {}): Promise<TestHttpServer> {
  const port = options.port ?? 0;
  const routes = new Map<string, Route>();
  const requests: Array<{ path: string; range: string | undefined }> = [];
  const bytesServed = new Map<string, number>();
  const sockets = new Set<Socket>();
  let connections = 0;
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    requests.push({ path, range: req.headers.range });
    const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (chunk instanceof Uint8Array) bytesServed.set(path, (bytesServed.get(path) ?? 0) + chunk.length);
      return write(chunk, ...rest);
    }) as typeof res.write;
    const handler = routes.get(path);
    if (handler) handler(req, res);
    else res.writeHead(404, { "content-type": "text/plain" }).end("not found");
  };
  const server = options.tls ? https.createServer(options.tls, listener) : http.createServer(listener);
  // For TLS, "connection" is the raw TCP socket, which is the one to count and to destroy on close.
  server.on("connection", (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    origin: `${options.tls ? "https" : "http"}://127.0.0.1:${actual}`,
    port: actual,
    get connections() {
      return connections;
    },
    requests,
    bytesServed,
    route(path, handler) {
      routes.set(path, handler);
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A route that redirects to `location` with `status`. */
export function redirectTo(location: string, status = 302): Route {
  return (_req, res) => {
    res.writeHead(status, { location }).end();
  };
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

type LookupFn = (host: string, options: object, callback: (...args: unknown[]) => void) => void;

/**
 * Wraps net.Socket.prototype.connect for the SSRF tests. Every connection that goes ahead is recorded as
 * "address:port" (or "name=address:port"); one to anything but loopback throws before a packet leaves, so a broken
 * guard fails the test instead of reaching 10.0.0.1 or 169.254.169.254. For host names the check sits after the
 * socket's own lookup (the guard's, when it is in place), on the address the socket would really use.
 */
export function recordConnections(): { attempts: string[]; restore(): void } {
  const attempts: string[] = [];
  const original = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const first = Array.isArray(args[0]) ? args[0][0] : args[0];
    if (typeof first !== "object" || first === null)
      throw new Error("test: connect(port, host) form not expected");
    const options = first as { host?: string; port?: number; path?: string | null; lookup?: LookupFn };
    if (!options.path) {
      const host = options.host ?? "localhost";
      if (net.isIP(host)) {
        if (!LOOPBACK.has(host)) throw new Error(`test refused a connection to non-loopback ${host}`);
        attempts.push(`${host}:${options.port}`);
      } else {
        const lookup: LookupFn = options.lookup ?? (dns.lookup as unknown as LookupFn);
        options.lookup = (name, lookupOptions, callback) =>
          lookup(name, lookupOptions, (error: unknown, address: unknown, family: unknown) => {
            if (!error) {
              const list = Array.isArray(address)
                ? address.map((a: { address: string }) => a.address)
                : [address];
              const outside = list.find((a) => !LOOPBACK.has(String(a)));
              if (outside !== undefined) {
                callback(new Error(`test refused a connection to non-loopback ${name}=${outside}`));
                return;
              }
              attempts.push(`${name}=${list[0]}:${options.port}`);
            }
            callback(error, address, family);
          });
      }
    }
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof original;
  return {
    attempts,
    restore() {
      net.Socket.prototype.connect = original;
    },
  };
}
