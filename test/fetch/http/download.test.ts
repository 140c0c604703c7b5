import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { CancelledError, DownloadError } from "../../../src/errors.js";
import { downloadHttp, type HttpDownloadOptions } from "../../../src/fetch/http/download.js";
import type { TransferProgress } from "../../../src/fetch/types.js";
import {
  type Body,
  patternBody,
  randomBody,
  redirectTo,
  type ServeOptions,
  serveBody,
  startHttpServer,
  type TestHttpServer,
} from "../../support/http-server.js";

const MIB = 1024 * 1024;

let server: TestHttpServer;
let root: string;
let dir: string;

before(async () => {
  server = await startHttpServer();
  root = await fs.mkdtemp(path.join(os.tmpdir(), "medusa-http-"));
});
after(async () => {
  await server.close();
  await fs.rm(root, { recursive: true, force: true });
});
let dirCount = 0;
beforeEach(async () => {
  dir = path.join(root, String(++dirCount));
  await fs.mkdir(dir);
});

function options(extra: Partial<HttpDownloadOptions> = {}): HttpDownloadOptions {
  return {
    dir,
    maxSize: 512 * MIB,
    minFreeDisk: 0,
    connectTimeoutMs: 2000,
    idleTimeoutMs: 2000,
    guard: { allowPrivateNetworks: true },
    backoffMs: 10,
    ...extra,
  };
}

function sha(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function bodyBytes(body: Body): Buffer {
  const parts: Buffer[] = [];
  for (let pos = 0; pos < body.size; ) {
    const chunk = body.read(pos, body.size);
    parts.push(chunk);
    pos += chunk.length;
  }
  return Buffer.concat(parts);
}

/** Serves `body` under a fresh path; `faults(n)` gives the options for the n-th request (1-based). */
function serve(body: Body, faults: (n: number) => ServeOptions = () => ({}), name = "file.bin"): string {
  const route = `/${++routeCount}/${name}`;
  let n = 0;
  server.route(route, (req, res) => serveBody(req, res, body, faults(++n)));
  return server.origin + route;
}
let routeCount = 0;

async function listDir(): Promise<string[]> {
  return (await fs.readdir(dir)).sort();
}

async function expectFailure(promise: Promise<unknown>, code: string): Promise<DownloadError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof DownloadError, `expected DownloadError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  assert.deepEqual(await listDir(), [], "nothing half-written is left behind");
  return error;
}

describe("downloadHttp", () => {
  it("streams a file from a Range-capable server, byte-identical, named from the URL, with progress", async () => {
    const body = randomBody(3 * MIB + 123);
    const reports: TransferProgress[] = [];
    const file = await downloadHttp(
      serve(body, () => ({}), "movie.mp4"),
      options({ onProgress: (p) => reports.push(p) }),
    );
    assert.equal(file.name, "movie.mp4");
    assert.equal(file.engine, "http");
    assert.equal(file.size, body.size);
    assert.equal(sha(await fs.readFile(file.path)), sha(bodyBytes(body)));
    assert.deepEqual(await listDir(), ["movie.mp4"]);
    const last = reports.at(-1);
    assert.equal(last?.bytes, body.size);
    assert.equal(last?.total, body.size);
  });

  it("reports progress at most four times a second, with a growing count and a speed", async () => {
    const body = randomBody(2 * MIB);
    const reports: TransferProgress[] = [];
    const started = performance.now();
    await downloadHttp(
      serve(body, () => ({ rate: 4 * MIB })),
      options({ onProgress: (p) => reports.push(p) }),
    );
    const elapsed = performance.now() - started;
    // The first chunk reports at once, then at most one per 250 ms, then the final one.
    assert.ok(reports.length <= Math.floor(elapsed / 250) + 2, `${reports.length} reports in ${elapsed} ms`);
    assert.ok(reports.length >= 2);
    for (let i = 1; i < reports.length; i++) {
      assert.ok((reports[i]?.bytes ?? 0) >= (reports[i - 1]?.bytes ?? 0));
    }
    assert.ok(reports.some((p) => p.speed > 0));
  });

  it("downloads from a server without Range support", async () => {
    const body = randomBody(2 * MIB);
    const file = await downloadHttp(
      serve(body, () => ({ ranges: false })),
      options({ connections: 4, segmentThreshold: 1 }),
    );
    assert.equal(sha(await fs.readFile(file.path)), sha(bodyBytes(body)));
  });

  it("downloads a chunked body of unknown length", async () => {
    const body = randomBody(MIB + 7);
    const file = await downloadHttp(
      serve(body, () => ({ chunked: true, ranges: false })),
      options(),
    );
    assert.equal(sha(await fs.readFile(file.path)), sha(bodyBytes(body)));
  });

  it("follows redirects and names the file after the final URL", async () => {
    const target = serve(randomBody(1000), () => ({}), "final.zip");
    server.route("/hop2", redirectTo(target, 301));
    server.route("/hop1", redirectTo("/hop2", 307));
    const file = await downloadHttp(`${server.origin}/hop1`, options());
    assert.equal(file.name, "final.zip");
    assert.equal(file.size, 1000);
  });

  it("follows exactly 5 redirects", async () => {
    const target = serve(randomBody(10), () => ({}), "five.bin");
    server.route("/five0", redirectTo("/five1"));
    for (let i = 1; i < 4; i++) server.route(`/five${i}`, redirectTo(`/five${i + 1}`));
    server.route("/five4", redirectTo(target));
    assert.equal((await downloadHttp(`${server.origin}/five0`, options())).name, "five.bin");
  });

  it("refuses more than 5 redirects", async () => {
    for (let i = 0; i < 6; i++) server.route(`/loop${i}`, redirectTo(`/loop${i + 1}`));
    server.route("/loop6", (req, res) => serveBody(req, res, randomBody(10)));
    await expectFailure(downloadHttp(`${server.origin}/loop0`, options()), "TOO_MANY_REDIRECTS");
    assert.ok(!server.requests.some((r) => r.path === "/loop6"), "the sixth redirect is not followed");
  });

  it("resumes with Range after a dropped connection, byte-identical", async () => {
    const body = randomBody(3 * MIB);
    const url = serve(body, (n) =>
      n === 1 ? { dropAfter: MIB + 5 } : n === 2 ? { dropAfter: 100_000 } : {},
    );
    const file = await downloadHttp(url, options());
    assert.equal(sha(await fs.readFile(file.path)), sha(bodyBytes(body)));
    const ranges = server.requests.filter((r) => url.endsWith(r.path)).map((r) => r.range);
    assert.equal(ranges[0], "bytes=0-");
    const resumedAt = ranges.slice(1).map((r) => Number(/bytes=(\d+)-/.exec(r ?? "")?.[1]));
    assert.equal(resumedAt.length, 2);
    assert.ok(
      resumedAt.every((at) => at > 0),
      `resumed at ${resumedAt}`,
    );
  });

  it("follows a server that answers each range with only part of it", async () => {
    const body = randomBody(3 * MIB + 5);
    const url = serve(body, () => ({ rangeCap: 512 * 1024 }));
    const file = await downloadHttp(url, options({ maxRetries: 0 }));
    assert.equal(sha(await fs.readFile(file.path)), sha(bodyBytes(body)));
    assert.equal(server.requests.filter((r) => url.endsWith(r.path)).length, 7);
  });

  it("restarts from zero when the server ignores Range after a drop", async () => {
    const body = randomBody(2 * MIB);
    const url = serve(body, (n) => (n === 1 ? { ranges: false, dropAfter: MIB } : { ranges: false }));
    const reports: TransferProgress[] = [];
    const file = await downloadHttp(url, options({ onProgress: (p) => reports.push(p) }));
    assert.equal(file.size, body.size);
    assert.equal(sha(await fs.readFile(file.path)), sha(bodyBytes(body)));
    assert.equal(reports.at(-1)?.bytes, body.size);
  });

  it("fails instead of mixing versions when the file changes size between connections", async () => {
    const first = randomBody(2 * MIB);
    const second = randomBody(3 * MIB);
    let n = 0;
    const route = `/${++routeCount}/changing.bin`;
    server.route(route, (req, res) => {
      if (++n === 1) serveBody(req, res, first, { ranges: false, dropAfter: MIB });
      else serveBody(req, res, second, { ranges: false });
    });
    await expectFailure(downloadHttp(server.origin + route, options()), "HTTP_FILE_CHANGED");
  });

  it("gives up on a server that stops sending (idle timeout), leaving nothing", async () => {
    // Some bytes, then silence; every reconnect gets headers and silence.
    const url = serve(randomBody(MIB), (n) => ({ stallAfter: n === 1 ? 64 * 1024 : 0 }));
    const error = await expectFailure(
      downloadHttp(url, options({ idleTimeoutMs: 300, maxRetries: 1 })),
      "HTTP_TIMEOUT",
    );
    assert.match(error.userMessage, /stopped sending/);
  });

  for (const status of [404, 403, 500]) {
    it(`fails with HTTP_${status} and a plain message`, async () => {
      server.route(`/status${status}`, (_req, res) => res.writeHead(status).end("no"));
      const error = await expectFailure(
        downloadHttp(`${server.origin}/status${status}`, options()),
        `HTTP_${status}`,
      );
      assert.match(error.userMessage, new RegExp(`${status}`));
    });
  }

  it("resumes a body shorter than its Content-Length instead of keeping it truncated", async () => {
    const body = randomBody(MIB);
    // The first answer promises the whole file but closes after 300 000 bytes.
    const url = serve(body, (n) => (n === 1 ? { stallAfter: undefined, dropAfter: 300_000 } : {}));
    const file = await downloadHttp(url, options());
    assert.equal(sha(await fs.readFile(file.path)), sha(bodyBytes(body)));
  });

  it("fails, never truncating silently, when Content-Length says more than there is", async () => {
    const url = serve(randomBody(100_000), () => ({ ranges: false, declaredLength: 200_000 }));
    await expectFailure(downloadHttp(url, options({ maxRetries: 2 })), "CONNECTION_LOST");
  });

  it("keeps URL credentials out of error messages", async () => {
    server.route("/private-404", (_req, res) => res.writeHead(404).end());
    const url = `http://alice:hunter2@127.0.0.1:${server.port}/private-404`;
    const error = await expectFailure(downloadHttp(url, options()), "HTTP_404");
    assert.doesNotMatch(`${error.message} ${error.userMessage} ${error.hint}`, /hunter2|alice/);
  });

  const dispositions: Array<[string, string]> = [
    ['attachment; filename="report.pdf"', "report.pdf"],
    ["attachment; filename*=UTF-8''%D0%9B%D0%B5%D0%BA%D1%86%D0%B8%D1%8F%201.mp4", "Лекция 1.mp4"],
    ["attachment; filename=\"fallback.mp4\"; filename*=UTF-8''%E2%82%AC%20rates.mp4", "€ rates.mp4"],
    ['attachment; filename="../../etc/passwd"', "passwd"],
    ["attachment; filename=unquoted name.zip", "unquoted name.zip"],
    ["inline", "from-path.bin"],
  ];
  for (const [header, expected] of dispositions) {
    it(`names the file "${expected}" from Content-Disposition: ${header}`, async () => {
      const url = serve(randomBody(100), () => ({ contentDisposition: header }), "from-path.bin");
      const file = await downloadHttp(url, options());
      assert.equal(file.name, expected);
      assert.equal(path.dirname(file.path), dir);
    });
  }

  it("adds an extension from the content type and lets a given name win", async () => {
    const noExt = serve(randomBody(100), () => ({ contentType: "video/mp4" }), "watch");
    assert.equal((await downloadHttp(noExt, options())).name, "watch.mp4");
    const named = serve(randomBody(100), () => ({ contentDisposition: 'attachment; filename="server.mp4"' }));
    assert.equal((await downloadHttp(named, options({ name: "Lecture 2.mp4" }))).name, "Lecture 2.mp4");
    // The same name again does not replace the first file.
    assert.equal((await downloadHttp(named, options({ name: "Lecture 2.mp4" }))).name, "Lecture 2 (2).mp4");
  });

  it("refuses a file over the size limit from its Content-Length, before writing", async () => {
    const url = serve(randomBody(2 * MIB));
    const error = await expectFailure(downloadHttp(url, options({ maxSize: MIB })), "TOO_LARGE");
    assert.match(error.userMessage, /1 MiB/);
  });

  it("stops a body of unknown length when it passes the size limit", async () => {
    const url = serve(randomBody(3 * MIB), () => ({ chunked: true, ranges: false }));
    await expectFailure(downloadHttp(url, options({ maxSize: MIB })), "TOO_LARGE");
  });

  it("refuses to start when the disk would be left with less than the minimum free", async () => {
    const url = serve(randomBody(1000));
    await expectFailure(downloadHttp(url, options({ minFreeDisk: Number.MAX_SAFE_INTEGER })), "DISK_FULL");
  });

  it("cancels promptly and removes the partial file", async () => {
    const url = serve(randomBody(8 * MIB), () => ({ rate: 2 * MIB }));
    const controller = new AbortController();
    const promise = downloadHttp(
      url,
      options({
        signal: controller.signal,
        onProgress: (p) => {
          if (p.bytes > 256 * 1024) controller.abort();
        },
      }),
    );
    const error = await promise.then(
      () => assert.fail("expected a cancel"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof CancelledError, String(error));
    assert.deepEqual(await listDir(), []);
  });

  it("splits a big file over several connections, byte-identical", async () => {
    const body = patternBody(40 * MIB + 333, 7);
    const url = serve(body);
    const before = server.connections;
    const file = await downloadHttp(url, options({ connections: 4, segmentThreshold: 8 * MIB }));
    assert.equal(sha(await fs.readFile(file.path)), sha(bodyBytes(body)));
    const ranges = server.requests.filter((r) => url.endsWith(r.path)).map((r) => r.range);
    // Four ranges at least; more when a connection that finished early took over part of another's.
    assert.ok(ranges.length >= 4, ranges.join(" "));
    assert.ok(server.connections - before >= 4);
  });

  it("resumes a dropped segment and still assembles the file byte-identical", async () => {
    const body = randomBody(12 * MIB);
    const url = serve(body, (n) => (n === 3 ? { dropAfter: 500_000 } : {}));
    const file = await downloadHttp(url, options({ connections: 3, segmentThreshold: MIB }));
    assert.equal(sha(await fs.readFile(file.path)), sha(bodyBytes(body)));
    assert.equal(server.requests.filter((r) => url.endsWith(r.path)).length, 4);
  });

  it("lets a connection that finished early take over half of a slow connection's range", async () => {
    const body = randomBody(48 * MIB);
    // The third request (one of the later ranges) crawls; the others are instant.
    const url = serve(body, (n) => (n === 3 ? { rate: 4 * MIB } : {}));
    const file = await downloadHttp(url, options({ connections: 3, segmentThreshold: MIB }));
    assert.equal(sha(await fs.readFile(file.path)), sha(bodyBytes(body)));
    const ranges = server.requests.filter((r) => url.endsWith(r.path)).map((r) => r.range);
    assert.ok(ranges.length >= 4, `a fourth request took over part of the slow range: ${ranges.join(" ")}`);
  });

  it("carries on with fewer connections when the server refuses extra ones", async () => {
    const body = randomBody(6 * MIB);
    let n = 0;
    const route = `/${++routeCount}/one-per-client.bin`;
    server.route(route, (req, res) => {
      // Requests 2 and 3 are the extra connections' first ranges: "too many connections".
      n++;
      if (n === 2 || n === 3) res.writeHead(429).end();
      else serveBody(req, res, body);
    });
    const file = await downloadHttp(
      server.origin + route,
      options({ connections: 3, segmentThreshold: MIB }),
    );
    assert.equal(sha(await fs.readFile(file.path)), sha(bodyBytes(body)));
    assert.equal(server.requests.filter((r) => r.path === route).length, 5);
  });

  it("falls back to one connection when a range request is answered with the whole file", async () => {
    const body = randomBody(6 * MIB);
    const url = serve(body, (n) => (n === 2 ? { ranges: false } : {}));
    const file = await downloadHttp(url, options({ connections: 3, segmentThreshold: MIB }));
    assert.equal(sha(await fs.readFile(file.path)), sha(bodyBytes(body)));
  });

  it("cancels a segmented download promptly on every connection and removes the file", async () => {
    const url = serve(patternBody(64 * MIB, 3), () => ({ rate: 2 * MIB }));
    const controller = new AbortController();
    const error = await downloadHttp(
      url,
      options({
        connections: 4,
        segmentThreshold: MIB,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.bytes > MIB) controller.abort();
        },
      }),
    ).then(
      () => assert.fail("expected a cancel"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof CancelledError, String(error));
    assert.deepEqual(await listDir(), []);
  });

  it("stops every connection when one range fails for good, leaving nothing", async () => {
    const body = randomBody(8 * MIB);
    let n = 0;
    const route = `/${++routeCount}/gone.bin`;
    server.route(route, (req, res) => {
      // The probe and two ranges are served slowly; the third range finds the file gone.
      if (++n === 3) res.writeHead(404).end();
      else serveBody(req, res, body, { rate: 4 * MIB });
    });
    await expectFailure(
      downloadHttp(server.origin + route, options({ connections: 3, segmentThreshold: MIB })),
      "HTTP_404",
    );
  });

  it("checks its options before any request", async () => {
    const before = server.requests.length;
    await assert.rejects(downloadHttp(serve(randomBody(10)), options({ maxSize: -1 })), /Expected maxSize/);
    await assert.rejects(
      downloadHttp(serve(randomBody(10)), options({ connections: 0 })),
      /Expected connections/,
    );
    assert.equal(server.requests.length, before);
  });

  it("refuses a web page when asked to, before writing anything", async () => {
    const url = serve(randomBody(100), () => ({ contentType: "text/html; charset=utf-8" }), "page");
    await expectFailure(downloadHttp(url, options({ rejectHtml: true })), "HTTP_IS_WEB_PAGE");
  });
});
