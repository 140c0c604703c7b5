/**
 * A download interrupted by a stop (a crash, a shutdown, a retry) continues with Range from what is on disk when the
 * server still describes the same file, starts over cleanly when it does not, and stops at the disk floor with
 * nothing left behind.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { CancelledError, DownloadError } from "../../../src/errors.js";
import { freeBytes } from "../../../src/fetch/http/disk-space.js";
import { downloadHttp, type HttpDownloadOptions } from "../../../src/fetch/http/download.js";
import { PARTIAL_STATE } from "../../../src/fetch/http/partial.js";
import {
  type Body,
  patternBody,
  type ServeOptions,
  serveBody,
  startHttpServer,
  type TestHttpServer,
} from "../../support/http-server.js";

const MIB = 1024 * 1024;
const SIZE = 24 * MIB;

let server: TestHttpServer;
let root: string;
let dir: string;

before(async () => {
  server = await startHttpServer();
  root = await fs.mkdtemp(path.join(os.tmpdir(), "medusa-resume-"));
});
after(async () => {
  await server.close();
  await fs.rm(root, { recursive: true, force: true });
});
let count = 0;
beforeEach(async () => {
  dir = path.join(root, String(++count));
  await fs.mkdir(dir);
});

function options(extra: Partial<HttpDownloadOptions> = {}): HttpDownloadOptions {
  return {
    dir,
    maxSize: 512 * MIB,
    minFreeDisk: 0,
    connectTimeoutMs: 5000,
    idleTimeoutMs: 5000,
    guard: { allowPrivateNetworks: true },
    backoffMs: 10,
    keepPartial: true,
    hash: true,
    ...extra,
  };
}

function digest(body: Body): string {
  const hash = createHash("sha256");
  for (let pos = 0; pos < body.size; ) {
    const chunk = body.read(pos, body.size);
    hash.update(chunk);
    pos += chunk.length;
  }
  return hash.digest("hex");
}

async function fileDigest(file: string): Promise<string> {
  return createHash("sha256")
    .update(await fs.readFile(file))
    .digest("hex");
}

/** A route whose n-th request (1-based) is served with `faults(n)` from `bodies(n)`. */
function serve(
  bodies: (n: number) => Body,
  faults: (n: number) => ServeOptions,
): { url: string; path: string; ranges: () => Array<string | undefined> } {
  const route = `/${++count}/file.bin`;
  let n = 0;
  server.route(route, (req, res) => {
    n++;
    serveBody(req, res, bodies(n), faults(n));
  });
  return {
    url: server.origin + route,
    path: route,
    ranges: () => server.requests.filter((r) => r.path === route).map((r) => r.range),
  };
}

/** Stops the download once about half the file is on disk, as a kill or a shutdown would. */
async function interruptHalfway(url: string, extra: Partial<HttpDownloadOptions> = {}): Promise<void> {
  const stop = new AbortController();
  await assert.rejects(
    downloadHttp(url, {
      ...options(extra),
      signal: stop.signal,
      onProgress: (p) => {
        if (p.bytes >= SIZE / 2) stop.abort();
      },
    }),
    CancelledError,
  );
  const record = JSON.parse(await fs.readFile(path.join(dir, PARTIAL_STATE), "utf8")) as {
    done: Array<[number, number]>;
  };
  const kept = record.done.reduce((sum, [s, e]) => sum + (e - s), 0);
  assert.ok(kept >= SIZE / 4, `the record vouches for ${kept} bytes`);
}

describe("resuming an interrupted download", () => {
  it("continues with Range from what is on disk, and the bytes are the server's", async () => {
    const body = patternBody(SIZE, 7);
    // Slow enough that the stop lands mid-file; the resume runs at full speed.
    const site = serve(
      () => body,
      (n) => ({ etag: '"v1"', ...(n === 1 ? { rate: 8 * MIB } : {}) }),
    );
    await interruptHalfway(site.url);
    const file = await downloadHttp(site.url, options());
    assert.equal(file.size, SIZE);
    assert.equal(await fileDigest(file.path), digest(body));
    assert.equal(file.sha256, digest(body), "digest computed while downloading, prefix included");
    const ranges = site.ranges();
    assert.equal(ranges.length, 2);
    assert.match(ranges[1] ?? "", /^bytes=[1-9]\d*-$/, "the second request starts past byte 0");
    const served = server.bytesServed.get(site.path) ?? 0;
    assert.ok(served < 1.5 * SIZE, `served ${served} bytes for a ${SIZE}-byte file`);
    assert.deepEqual((await fs.readdir(dir)).sort(), ["file.bin"], "no partial or record left");
  });

  it("resumes a segmented download's gaps over several connections", async () => {
    const body = patternBody(SIZE, 8);
    const site = serve(
      () => body,
      (n) => ({ etag: '"v1"', ...(n <= 4 ? { rate: 3 * MIB } : {}) }),
    );
    const segmented = { connections: 4, segmentThreshold: 1 };
    await interruptHalfway(site.url, segmented);
    const file = await downloadHttp(site.url, options(segmented));
    assert.equal(await fileDigest(file.path), digest(body));
    assert.equal(file.sha256, digest(body), "digest read back as the written prefix grew");
    const served = server.bytesServed.get(site.path) ?? 0;
    assert.ok(served < 1.5 * SIZE, `served ${served} bytes for a ${SIZE}-byte file`);
  });

  it("starts over when the server no longer honours Range, and gets the right bytes", async () => {
    const body = patternBody(SIZE, 9);
    const site = serve(
      () => body,
      (n) => (n === 1 ? { etag: '"v1"', rate: 8 * MIB } : { etag: '"v1"', ranges: false }),
    );
    await interruptHalfway(site.url);
    const file = await downloadHttp(site.url, options());
    assert.equal(await fileDigest(file.path), digest(body));
    assert.equal(file.sha256, digest(body));
  });

  it("starts over when the file changed on the server (another ETag), and gets the new bytes", async () => {
    const before = patternBody(SIZE, 10);
    const changed = patternBody(SIZE, 11);
    const site = serve(
      (n) => (n === 1 ? before : changed),
      (n) => (n === 1 ? { etag: '"v1"', rate: 8 * MIB } : { etag: '"v2"' }),
    );
    await interruptHalfway(site.url);
    const file = await downloadHttp(site.url, options());
    assert.equal(await fileDigest(file.path), digest(changed));
    assert.equal(file.sha256, digest(changed));
    assert.equal(site.ranges().length, 2, "the If-Range answer (200) was the new file itself");
  });

  it("does not keep bytes it cannot resume (no validator) and does not resume another link's", async () => {
    const body = patternBody(SIZE, 12);
    const plain = serve(
      () => body,
      (n) => (n === 1 ? { rate: 8 * MIB } : {}),
    );
    const stop = new AbortController();
    await assert.rejects(
      downloadHttp(plain.url, {
        ...options(),
        signal: stop.signal,
        onProgress: (p) => {
          if (p.bytes >= SIZE / 2) stop.abort();
        },
      }),
      CancelledError,
    );
    assert.deepEqual(await fs.readdir(dir), [], "nothing kept without a validator");

    const other = serve(
      () => body,
      (n) => ({ etag: '"x"', ...(n === 1 ? { rate: 8 * MIB } : {}) }),
    );
    await interruptHalfway(other.url);
    const file = await downloadHttp(plain.url, options());
    assert.equal(await fileDigest(file.path), digest(body));
    assert.equal(plain.ranges().at(-1), "bytes=0-", "another link's partial is not resumed");
    assert.deepEqual((await fs.readdir(dir)).sort(), ["file.bin"]);
  });
});

describe("disk floor during a transfer", () => {
  it("stops with DISK_FLOOR_REACHED once the floor is near, and leaves no partial file", async () => {
    // No Content-Length, so the check before the download cannot know: the floor is met mid-way. The floor sits
    // 8 MiB below the free space now, far less than the body.
    const body = patternBody(256 * MIB, 13);
    const site = serve(
      () => body,
      () => ({ chunked: true, etag: '"v1"', ranges: false }),
    );
    const floor = (await freeBytes(dir)) - 8 * MIB;
    await assert.rejects(downloadHttp(site.url, options({ minFreeDisk: floor })), (error: unknown) => {
      assert.ok(error instanceof DownloadError);
      assert.equal(error.code, "DISK_FLOOR_REACHED");
      assert.match(error.userMessage, /disk space/);
      return true;
    });
    const served = server.bytesServed.get(site.path) ?? 0;
    assert.ok(served < 128 * MIB, `stopped after ${served} bytes`);
    assert.deepEqual(await fs.readdir(dir), [], "no partial file, no record");
  });

  it("stops a known-size download when the disk fills up meanwhile", async () => {
    const body = patternBody(SIZE, 14);
    let filled = false;
    const filler = path.join(root, `filler-${count}`);
    const site = serve(
      () => body,
      () => ({ etag: '"v1"', rate: 8 * MIB }),
    );
    // Room for the file and 24 MiB more at the start; then another writer takes 32 MiB of it.
    const floor = (await freeBytes(dir)) - SIZE - 24 * MIB;
    try {
      await assert.rejects(
        downloadHttp(site.url, {
          ...options({ minFreeDisk: floor }),
          onProgress: (p) => {
            if (!filled && p.bytes > 0) {
              filled = true;
              void fs.writeFile(filler, Buffer.alloc(32 * MIB, 1));
            }
          },
        }),
        (error: unknown) => error instanceof DownloadError && error.code === "DISK_FLOOR_REACHED",
      );
    } finally {
      await fs.rm(filler, { force: true });
    }
    assert.deepEqual(await fs.readdir(dir), [], "no partial file, no record");
  });
});
