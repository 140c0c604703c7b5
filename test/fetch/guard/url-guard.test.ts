import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { DownloadError } from "../../../src/errors.js";
import {
  blockedRange,
  checkUrl,
  type GuardOptions,
  guardedLookup,
  parseHttpUrl,
  type ResolvedAddress,
} from "../../../src/fetch/guard/url-guard.js";
import { downloadHttp, type HttpDownloadOptions } from "../../../src/fetch/http/download.js";
import {
  randomBody,
  recordConnections,
  redirectTo,
  serveBody,
  startHttpServer,
  type TestHttpServer,
} from "../../support/http-server.js";

const PUBLIC = "93.184.216.34";
const CLOSED: GuardOptions = { allowPrivateNetworks: false };

async function refusal(promise: Promise<unknown>): Promise<DownloadError> {
  const error = await promise.then(
    () => assert.fail("expected a refusal"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof DownloadError, String(error));
  return error;
}

function syncRefusal(fn: () => unknown): DownloadError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof DownloadError, String(error));
    return error;
  }
  return assert.fail("expected a refusal");
}

/** A resolver for invented names; unknown names fail like NXDOMAIN. */
function resolver(table: Record<string, string[] | (() => string[])>) {
  const calls: string[] = [];
  const resolve = async (host: string): Promise<ResolvedAddress[]> => {
    calls.push(host);
    const entry = table[host];
    const list = typeof entry === "function" ? entry() : entry;
    if (!list) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return list.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return { resolve, calls };
}

describe("blockedRange", () => {
  const blocked = [
    "127.0.0.1",
    "127.1.2.3",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "192.0.2.1",
    "198.18.0.1",
    "240.0.0.1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "64:ff9b::a00:1",
    "2002:a00:1::1",
    "2001:db8::1",
  ];
  for (const address of blocked) {
    it(`refuses ${address}`, () => assert.notEqual(blockedRange(address, false), undefined));
  }
  for (const address of ["8.8.8.8", PUBLIC, "2606:4700:4700::1111", "::ffff:8.8.8.8"]) {
    it(`allows ${address}`, () => assert.equal(blockedRange(address, false), undefined));
  }
  // IPv6 forms that carry an IPv4 address are judged by that address: [form, address, what it carries].
  const embedding: Array<[string, string, string]> = [
    ["IPv4-compatible ::/96", "::7f00:1", "127.0.0.1"],
    ["IPv4-compatible ::/96", "::a9fe:a9fe", "169.254.169.254"],
    ["IPv4-compatible ::/96", "::a00:1", "10.0.0.1"],
    ["NAT64 64:ff9b::/96", "64:ff9b::7f00:1", "127.0.0.1"],
    ["NAT64 64:ff9b::/96", "64:ff9b::a9fe:a9fe", "169.254.169.254"],
    ["6to4 2002::/16", "2002:7f00:1::1", "127.0.0.1"],
    ["6to4 2002::/16", "2002:a9fe:a9fe::1", "169.254.169.254"],
    ["Teredo 2001::/32 (client, obfuscated)", "2001:0:808:808::80ff:fffe", "127.0.0.1"],
    ["Teredo 2001::/32 (server)", "2001:0:a00:1::f7f7:f7f7", "10.0.0.1"],
  ];
  for (const [form, address, inner] of embedding) {
    it(`refuses ${address} (${form}) by the ${inner} inside it`, () => {
      assert.match(
        blockedRange(address, false) ?? "",
        new RegExp(`\\(${inner.replace(/\./g, "\\.")} inside`),
      );
    });
  }
  for (const address of ["::808:808", "64:ff9b::808:808", "2002:808:808::1", "2001:0:808:808::f7f7:f7f7"]) {
    it(`allows ${address}, which carries the public 8.8.8.8`, () => {
      assert.equal(blockedRange(address, false), undefined);
    });
  }
  it("opens an embedded private address with allowPrivateNetworks, never an embedded link-local one", () => {
    for (const address of ["::7f00:1", "64:ff9b::a00:1", "2002:c0a8:101::1"]) {
      assert.equal(blockedRange(address, true), undefined, address);
    }
    for (const address of [
      "::a9fe:a9fe",
      "64:ff9b::a9fe:a9fe",
      "2002:a9fe:a9fe::1",
      "2001:0:808:808::5601:5601",
    ]) {
      assert.notEqual(blockedRange(address, true), undefined, address);
    }
  });
  it("keeps :: and ::1 IPv6 (unspecified, loopback), not IPv4-compatible 0.0.0.0 and 0.0.0.1", () => {
    assert.equal(blockedRange("::", false), "unspecified");
    assert.equal(blockedRange("::1", false), "loopback");
    assert.equal(blockedRange("::1", true), undefined);
  });
  it("opens private ranges with allowPrivateNetworks, but never link-local, multicast or unspecified", () => {
    for (const address of ["127.0.0.1", "10.0.0.1", "192.168.1.1", "100.64.0.1", "::1", "fd00::1"]) {
      assert.equal(blockedRange(address, true), undefined, address);
    }
    for (const address of ["169.254.169.254", "fe80::1", "224.0.0.1", "0.0.0.0", "::"]) {
      assert.notEqual(blockedRange(address, true), undefined, address);
    }
  });
});

describe("parseHttpUrl", () => {
  for (const raw of [
    "file:///etc/passwd",
    "ftp://example.com/a",
    "data:text/plain,hi",
    "javascript:alert(1)",
    "gopher://x/",
  ]) {
    it(`refuses ${raw.split(":")[0]}: links`, () => {
      const error = syncRefusal(() => parseHttpUrl(raw));
      assert.equal(error.code, "URL_SCHEME_NOT_ALLOWED");
      assert.match(error.userMessage, /Only http and https/);
    });
  }
  it("refuses garbage without echoing credentials", () => {
    const error = syncRefusal(() => parseHttpUrl("http://user:hunter2@[bad"));
    assert.equal(error.code, "URL_INVALID");
    assert.doesNotMatch(`${error.message} ${error.userMessage}`, /hunter2/);
  });
});

describe("checkUrl", () => {
  const literals = [
    "http://127.0.0.1/x",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/x",
    "http://[::1]/x",
    "http://[::ffff:127.0.0.1]/x",
    "http://[::ffff:a9fe:a9fe]/x",
    "http://[::127.0.0.1]/x",
    "http://[::169.254.169.254]/x",
    "http://[64:ff9b::7f00:1]/x",
    "http://[64:ff9b::169.254.169.254]/x",
    "http://[2002:a9fe:a9fe::1]/x",
    "http://[2001:0:808:808::80ff:fffe]/x",
    "http://0.0.0.0/x",
    "http://2130706433/x",
    "http://0x7f.1/x",
    "http://017700000001/x",
  ];
  for (const raw of literals) {
    it(`refuses ${raw} without resolving anything`, async () => {
      const dns = resolver({});
      const error = await refusal(checkUrl(parseHttpUrl(raw), { ...CLOSED, resolve: dns.resolve }));
      assert.equal(error.code, "URL_PRIVATE_ADDRESS");
      assert.deepEqual(dns.calls, []);
    });
  }

  it("refuses a name when any one of its addresses is private", async () => {
    const dns = resolver({ "mixed.test": [PUBLIC, "10.1.2.3"] });
    const error = await refusal(
      checkUrl(new URL("https://mixed.test/"), { ...CLOSED, resolve: dns.resolve }),
    );
    assert.equal(error.code, "URL_PRIVATE_ADDRESS");
    assert.match(error.userMessage, /private or reserved/);
  });

  it("allows a name whose addresses are all public", async () => {
    const dns = resolver({ "cdn.test": [PUBLIC, "2606:4700::1111"] });
    await checkUrl(new URL("https://cdn.test/"), { ...CLOSED, resolve: dns.resolve });
    assert.deepEqual(dns.calls, ["cdn.test"]);
  });

  it("times out a resolver that never answers", async () => {
    const error = await refusal(
      checkUrl(new URL("https://slow.test/"), {
        ...CLOSED,
        lookupTimeoutMs: 50,
        resolve: () => new Promise(() => undefined),
      }),
    );
    assert.equal(error.code, "DNS_TIMEOUT");
  });
});

describe("guardedLookup", () => {
  const lookup = (guard: GuardOptions, host: string, all: boolean) =>
    new Promise<unknown>((resolve, reject) =>
      guardedLookup(guard)(host, { all }, (error, address, family) =>
        error ? reject(error) : resolve(all ? address : { address, family }),
      ),
    );

  it("hands the socket exactly the addresses it checked", async () => {
    const dns = resolver({ "cdn.test": [PUBLIC] });
    assert.deepEqual(await lookup({ ...CLOSED, resolve: dns.resolve }, "cdn.test", false), {
      address: PUBLIC,
      family: 4,
    });
    assert.deepEqual(await lookup({ ...CLOSED, resolve: dns.resolve }, "cdn.test", true), [
      { address: PUBLIC, family: 4 },
    ]);
  });

  it("fails the connection when the name now points to a private address", async () => {
    const dns = resolver({ "inside.test": ["169.254.169.254"] });
    const error = await lookup({ ...CLOSED, resolve: dns.resolve }, "inside.test", true).then(
      () => assert.fail("expected a refusal"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof DownloadError);
    assert.equal(error.code, "URL_PRIVATE_ADDRESS");
  });
});

describe("the guard inside downloads (no socket to a non-loopback address, ever)", () => {
  let server: TestHttpServer;
  let dir: string;
  let connections: ReturnType<typeof recordConnections>;

  before(async () => {
    server = await startHttpServer();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "medusa-guard-"));
    server.route("/file.bin", (req, res) => serveBody(req, res, randomBody(1000)));
    server.route("/to-metadata", redirectTo("http://169.254.169.254/latest/meta-data/"));
    server.route("/to-ten", redirectTo("http://10.0.0.1/secret"));
    server.route("/to-name", redirectTo("http://internal.test/secret"));
    server.route("/to-file", redirectTo("file:///etc/passwd"));
    server.route("/to-compatible", redirectTo("http://[::127.0.0.1]/secret"));
    server.route("/to-nat64", redirectTo("http://[64:ff9b::a9fe:a9fe]/latest/meta-data/"));
    server.route("/to-6to4", redirectTo("http://[2002:a00:1::1]/secret"));
    server.route("/to-teredo", redirectTo("http://[2001:0:808:808::80ff:fffe]/secret"));
  });
  after(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    connections = recordConnections();
  });
  afterEach(() => connections.restore());

  function options(guard: GuardOptions): HttpDownloadOptions {
    return {
      dir,
      maxSize: 1e9,
      minFreeDisk: 0,
      connectTimeoutMs: 2000,
      idleTimeoutMs: 2000,
      guard,
      backoffMs: 10,
    };
  }

  it("refuses the local server itself while private networks are closed, before connecting", async () => {
    const before = server.connections;
    const error = await refusal(downloadHttp(`${server.origin}/file.bin`, options(CLOSED)));
    assert.equal(error.code, "URL_PRIVATE_ADDRESS");
    assert.deepEqual(connections.attempts, []);
    assert.equal(server.connections, before);
  });

  for (const [route, target] of [
    ["/to-metadata", "169.254.169.254"],
    ["/to-ten", "10.0.0.1"],
    ["/to-name", "internal.test"],
    ["/to-compatible", "[::7f00:1] (IPv4-compatible 127.0.0.1)"],
    ["/to-nat64", "[64:ff9b::a9fe:a9fe] (NAT64 169.254.169.254)"],
    ["/to-6to4", "[2002:a00:1::1] (6to4 10.0.0.1)"],
    ["/to-teredo", "[2001:0:808:808::80ff:fffe] (Teredo client 127.0.0.1)"],
  ]) {
    it(`refuses a redirect from a trusted first hop to ${target} without connecting to it`, async () => {
      const dns = resolver({ "internal.test": ["10.9.8.7"] });
      const guard = { ...CLOSED, trustedOrigins: [server.origin], resolve: dns.resolve };
      const error = await refusal(downloadHttp(`${server.origin}${route}`, options(guard)));
      assert.equal(error.code, "URL_PRIVATE_ADDRESS");
      assert.deepEqual(connections.attempts, [`127.0.0.1:${server.port}`]);
      assert.deepEqual(await fs.readdir(dir), []);
    });
  }

  it("refuses a redirect to a file: URL", async () => {
    const guard = { ...CLOSED, trustedOrigins: [server.origin] };
    const error = await refusal(downloadHttp(`${server.origin}/to-file`, options(guard)));
    assert.equal(error.code, "URL_SCHEME_NOT_ALLOWED");
    assert.match(error.userMessage, /not http or https/);
    assert.deepEqual(connections.attempts, [`127.0.0.1:${server.port}`]);
    assert.deepEqual(await fs.readdir(dir), []);
  });

  it("connects to the address its own lookup checked (a name that rebinds after the check is refused)", async () => {
    let answers = 0;
    // First answer public (passes the early check), every later one loopback: the socket's lookup must catch it.
    const dns = resolver({ "rebind.test": () => (answers++ === 0 ? [PUBLIC] : ["127.0.0.1"]) });
    const error = await refusal(
      downloadHttp(
        `http://rebind.test:${server.port}/file.bin`,
        options({ ...CLOSED, resolve: dns.resolve }),
      ),
    );
    assert.equal(error.code, "URL_PRIVATE_ADDRESS");
    assert.ok(answers >= 2, "the socket resolved again through the guard");
    assert.deepEqual(connections.attempts, [], "the guarded lookup refused before any packet left");
  });

  it("uses the guarded lookup for the connection itself (an invented name reaches the local server)", async () => {
    const dns = resolver({ "files.test": ["127.0.0.1"] });
    const before = server.connections;
    const file = await downloadHttp(
      `http://files.test:${server.port}/file.bin`,
      options({ allowPrivateNetworks: true, resolve: dns.resolve }),
    );
    assert.equal(file.size, 1000);
    assert.equal(server.connections, before + 1);
    assert.deepEqual(connections.attempts, [`files.test=127.0.0.1:${server.port}`]);
    assert.ok(dns.calls.length >= 2, "checked before the request and again by the socket's lookup");
    await fs.rm(file.path);
  });
});
