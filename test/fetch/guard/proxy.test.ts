/**
 * The proxy yt-dlp goes through, in this process, so the connect wrapper sees every socket it opens: a refused target
 * must fail before any connect, and an allowed one must get exactly one connection, to the checked address.
 */
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { type GuardProxy, startGuardProxy } from "../../../src/fetch/guard/proxy.js";
import type { GuardOptions } from "../../../src/fetch/guard/url-guard.js";
import { recordConnections, startHttpServer, type TestHttpServer } from "../../support/http-server.js";

/** Every exchange here is local and tiny; only a wedged proxy hits this. */
const TIMEOUT_MS = 5000;

let origin: TestHttpServer;
let connections: ReturnType<typeof recordConnections>;
let proxy: GuardProxy | undefined;

before(async () => {
  origin = await startHttpServer();
  origin.route("/hello", (req, res) => {
    res.writeHead(200, { "content-type": "text/plain", "x-seen-host": req.headers.host ?? "" });
    res.end("hello");
  });
  origin.route("/echo", (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => res.writeHead(200).end(Buffer.concat(chunks)));
  });
});
after(() => origin.close());
beforeEach(() => {
  connections = recordConnections();
});
afterEach(async () => {
  connections.restore();
  await proxy?.close();
  proxy = undefined;
});

async function start(
  guard: GuardOptions,
  extra: { idleTimeoutMs?: number; maxUpstream?: number } = {},
): Promise<number> {
  proxy = await startGuardProxy({ guard, ...extra });
  return Number(new URL(proxy.url).port);
}

/** Writes `text` to the proxy on a plain socket and reads until the proxy closes it. */
function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no end within ${TIMEOUT_MS} ms; got ${Buffer.concat(chunks).toString()}`));
    }, TIMEOUT_MS);
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString());
    });
    socket.write(text);
  });
}

/** A proxied GET, the way yt-dlp's urllib sends one. */
function get(
  port: number,
  url: string,
): Promise<{ status: number; reason: string; body: string; host: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: url, timeout: TIMEOUT_MS, agent: false });
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          reason: res.statusMessage ?? "",
          body,
          host: String(res.headers["x-seen-host"] ?? ""),
        }),
      );
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

describe("guard proxy", () => {
  it("forwards an HTTP request to a trusted local origin over one connection", async () => {
    const port = await start({ allowPrivateNetworks: false, trustedOrigins: [origin.origin] });
    const reply = await get(port, `${origin.origin}/hello`);
    assert.equal(reply.status, 200);
    assert.equal(reply.body, "hello");
    assert.equal(reply.host, `127.0.0.1:${origin.port}`);
    assert.deepEqual(connections.attempts, [`127.0.0.1:${port}`, `127.0.0.1:${origin.port}`]);
  });

  it("forwards a request body", async () => {
    const port = await start({ allowPrivateNetworks: true });
    const reply = await exchange(
      port,
      `POST ${origin.origin}/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nabcde`,
    );
    assert.match(reply, /^HTTP\/1\.1 200 /);
    assert.match(reply, /\r\n\r\n5\r\nabcde\r\n0\r\n\r\n$/, "the body came back (chunked)");
  });

  it("connects to the address it checked: a test name resolves once, to 127.0.0.1", async () => {
    let lookups = 0;
    const port = await start({
      allowPrivateNetworks: true,
      resolve: async () => {
        lookups++;
        return [{ address: "127.0.0.1", family: 4 }];
      },
    });
    const reply = await get(port, `http://files.test:${origin.port}/hello`);
    assert.equal(reply.body, "hello");
    assert.equal(reply.host, `files.test:${origin.port}`, "the site sees its own name");
    assert.equal(lookups, 1);
    assert.deepEqual(connections.attempts, [`127.0.0.1:${port}`, `127.0.0.1:${origin.port}`]);
  });

  it("tunnels CONNECT to a trusted origin, passing on bytes sent with the request", async () => {
    const port = await start({
      allowPrivateNetworks: false,
      trustedOrigins: [`https://127.0.0.1:${origin.port}`],
    });
    const reply = await exchange(
      port,
      `CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n` +
        "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert.match(reply, /^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200 OK/);
    assert.match(reply, /\r\nhello\r\n/);
    assert.deepEqual(connections.attempts, [`127.0.0.1:${port}`, `127.0.0.1:${origin.port}`]);
  });

  const targets: Array<[string, GuardOptions]> = [
    ["http://10.0.0.1/", { allowPrivateNetworks: false }],
    ["http://169.254.169.254/latest/meta-data/", { allowPrivateNetworks: false }],
    // Link-local stays closed even when private networks are open.
    ["http://169.254.169.254/latest/meta-data/", { allowPrivateNetworks: true }],
    ["http://[::ffff:10.0.0.1]/", { allowPrivateNetworks: false }],
    // IPv6 forms that carry a private IPv4 address: IPv4-compatible, NAT64, 6to4, Teredo.
    ["http://[::127.0.0.1]/", { allowPrivateNetworks: false }],
    ["http://[64:ff9b::a9fe:a9fe]/latest/meta-data/", { allowPrivateNetworks: true }],
    ["http://[2002:a00:1::1]/", { allowPrivateNetworks: false }],
    ["http://[2001:0:808:808::80ff:fffe]/", { allowPrivateNetworks: false }],
    [
      "http://metadata.test/computeMetadata/v1/",
      { allowPrivateNetworks: false, resolve: async () => [{ address: "169.254.169.254", family: 4 }] },
    ],
    // The local origin itself, untrusted, while private networks are closed.
    ["http://127.0.0.1:PORT/hello", { allowPrivateNetworks: false }],
  ];
  for (const [template, guard] of targets) {
    const label = `${template}${guard.allowPrivateNetworks ? " (private networks open)" : ""}`;
    it(`refuses ${label} with a 403 that says why, opening no socket to it`, async () => {
      const port = await start(guard);
      const before = origin.connections;
      const reply = await get(port, template.replace("PORT", String(origin.port)));
      assert.equal(reply.status, 403);
      assert.equal(reply.reason, "Medusa guard: URL_PRIVATE_ADDRESS");
      assert.match(reply.body, /^Refused .+ is (private|linkLocal|loopback)/);
      assert.deepEqual(connections.attempts, [`127.0.0.1:${port}`], "only the client's own connection");
      assert.equal(origin.connections, before);
    });
  }

  for (const target of [
    "10.0.0.1:443",
    "169.254.169.254:443",
    "[fd00::1]:443",
    "127.0.0.1:PORT",
    "[::7f00:1]:PORT",
    "[64:ff9b::a9fe:a9fe]:443",
    "[2002:a00:1::1]:443",
    "[2001:0:808:808::80ff:fffe]:443",
  ]) {
    it(`refuses CONNECT ${target} before connecting`, async () => {
      const port = await start({ allowPrivateNetworks: false });
      const authority = target.replace("PORT", String(origin.port));
      const reply = await exchange(port, `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
      assert.match(reply, /^HTTP\/1\.1 403 Medusa guard: URL_PRIVATE_ADDRESS\r\n/);
      assert.match(reply, /\r\n\r\nRefused /);
      assert.deepEqual(connections.attempts, [`127.0.0.1:${port}`]);
    });
  }

  it("refuses what is not a proxy request: a bare path, a non-http scheme, a bad CONNECT target", async () => {
    const port = await start({ allowPrivateNetworks: true });
    assert.equal((await get(port, "/hello")).status, 400);
    assert.equal(
      (await get(port, `https://127.0.0.1:${origin.port}/hello`)).status,
      400,
      "https goes by CONNECT",
    );
    const ftp = await get(port, "ftp://127.0.0.1/x");
    assert.equal(ftp.status, 403);
    assert.equal(ftp.reason, "Medusa guard: URL_SCHEME_NOT_ALLOWED");
    for (const target of ["127.0.0.1", "127.0.0.1:0", "127.0.0.1:99999", "user@127.0.0.1:80"]) {
      const reply = await exchange(port, `CONNECT ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.match(reply, /^HTTP\/1\.1 400 /, target);
    }
    assert.deepEqual(new Set(connections.attempts), new Set([`127.0.0.1:${port}`]));
  });

  it("refuses headers past its size limit", async () => {
    const port = await start({ allowPrivateNetworks: true });
    const reply = await exchange(
      port,
      `GET ${origin.origin}/hello HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`,
    );
    assert.match(reply, /^HTTP\/1\.1 4\d\d /);
    assert.equal(connections.attempts.length, 1, "nothing forwarded");
  });

  it("caps upstream connections: a second tunnel past the cap gets 503 while the first stays open", async () => {
    const port = await start(
      { allowPrivateNetworks: false, trustedOrigins: [`https://127.0.0.1:${origin.port}`] },
      { maxUpstream: 1 },
    );
    const first = net.connect({ host: "127.0.0.1", port });
    first.on("error", () => {});
    first.write(`CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await new Promise((resolve) => first.once("data", resolve));
    const second = await exchange(port, `CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.match(second, /^HTTP\/1\.1 503 /);
    first.destroy();
  });

  it("says Connection refused when the allowed origin is down", async () => {
    const closed = await startHttpServer();
    const closedPort = closed.port;
    await closed.close();
    const port = await start({ allowPrivateNetworks: true });
    const reply = await get(port, `http://127.0.0.1:${closedPort}/x`);
    assert.equal(reply.status, 502);
    assert.equal(reply.reason, "Connection refused");
  });

  it("closes an idle tunnel, and close() ends every open socket", async () => {
    const port = await start(
      { allowPrivateNetworks: false, trustedOrigins: [`https://127.0.0.1:${origin.port}`] },
      { idleTimeoutMs: 300 },
    );
    const started = Date.now();
    const idle = await exchange(port, `CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.match(idle, /^HTTP\/1\.1 200 Connection Established/);
    assert.ok(Date.now() - started < TIMEOUT_MS);

    const open = net.connect({ host: "127.0.0.1", port });
    const ended = new Promise<void>((resolve) => open.on("close", () => resolve()));
    open.on("error", () => {});
    open.write(`CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await new Promise((resolve) => open.once("data", resolve));
    await proxy?.close();
    await ended;
    const handles = process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap");
    // The origin server's own keep-alive sockets may linger until it closes; none of them is the proxy's.
    assert.ok(handles.length <= origin.connections, handles.join(","));
  });
});
