/**
 * fetchSource picks the engine per link: direct files through got, web pages through real yt-dlp, all on 127.0.0.1.
 * Proxy variables point yt-dlp's non-local requests at a closed local port, so nothing reaches the internet.
 */
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { DownloadError } from "../../src/errors.js";
import { fetchSource, type SourceOptions } from "../../src/fetch/source.js";
import {
  bufferBody,
  recordConnections,
  serveBody,
  startHttpServer,
  type TestHttpServer,
} from "../support/http-server.js";
import { makeClip, YTDLP } from "../support/media-fixtures.js";

/** Port 9 (discard) is closed: a proxy there refuses every non-local request at once. */
const DEAD_PROXY = "http://127.0.0.1:9";
for (const name of ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]) {
  process.env[name] = DEAD_PROXY;
}
process.env.no_proxy = "127.0.0.1";
process.env.NO_PROXY = "127.0.0.1";

let server: TestHttpServer;
let root: string;
let dir: string;
let clip: Buffer;

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "medusa-source-"));
  clip = await fs.readFile(await makeClip(path.join(root, "clip.mp4"), { seconds: 2 }));
  server = await startHttpServer();
  server.route("/clip.mp4", (req, res) =>
    serveBody(req, res, bufferBody(clip), { contentType: "video/mp4" }),
  );
  const page = Buffer.from(
    '<html><head><title>Talk</title></head><body><video src="/clip.mp4" controls></video></body></html>',
  );
  server.route("/watch", (req, res) => serveBody(req, res, bufferBody(page), { contentType: "text/html" }));
  server.route("/expired.mp4", (req, res) =>
    serveBody(req, res, bufferBody(page), { contentType: "text/html" }),
  );
});
after(async () => {
  await server.close();
  await fs.rm(root, { recursive: true, force: true });
});
let count = 0;
beforeEach(async () => {
  dir = path.join(root, `job${++count}`);
  await fs.mkdir(dir);
});

function options(extra: Partial<SourceOptions> = {}): SourceOptions {
  return {
    dir,
    maxSize: 100 * 1024 * 1024,
    minFreeDisk: 0,
    connectTimeoutMs: 2000,
    idleTimeoutMs: 5000,
    guard: { allowPrivateNetworks: true },
    ytdlpPath: YTDLP,
    timeoutMs: 60_000,
    ...extra,
  };
}

describe("fetchSource", () => {
  it("downloads a direct file with the HTTP engine", async () => {
    const file = await fetchSource(`${server.origin}/clip.mp4`, options());
    assert.equal(file.engine, "http");
    assert.deepEqual(await fs.readFile(file.path), clip);
  });

  it("hands a web page to yt-dlp, which finds the video in it", async () => {
    const file = await fetchSource(`${server.origin}/watch`, options());
    assert.equal(file.engine, "ytdlp");
    assert.equal(path.dirname(file.path), dir);
    assert.ok(file.size > 0);
    assert.deepEqual(await fs.readFile(file.path), clip);
  });

  it("refuses a file-looking link that answers with a web page, leaving nothing", async () => {
    const error = await fetchSource(`${server.origin}/expired.mp4`, options()).then(
      () => assert.fail("expected a refusal"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof DownloadError);
    assert.equal(error.code, "HTTP_IS_WEB_PAGE");
    assert.deepEqual(await fs.readdir(dir), []);
  });

  it("runs the URL guard before either engine", async () => {
    const connections = recordConnections();
    try {
      const before = server.connections;
      const error = await fetchSource(
        `${server.origin}/watch`,
        options({ guard: { allowPrivateNetworks: false } }),
      ).then(
        () => assert.fail("expected a refusal"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof DownloadError);
      assert.equal(error.code, "URL_PRIVATE_ADDRESS");
      assert.equal(server.connections, before);
      assert.deepEqual(connections.attempts, []);
    } finally {
      connections.restore();
    }
  });
});
