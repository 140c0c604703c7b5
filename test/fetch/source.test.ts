/**
 * fetchSource picks the engine per link: direct files through got, web pages through real yt-dlp, all on 127.0.0.1.
 * yt-dlp reaches the network only through the guard proxy in this process, so the connect wrapper sees (and would
 * refuse) every connection made on its behalf.
 */
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { DownloadError, UserError } from "../../src/errors.js";
import { fetchSource, type SourceOptions } from "../../src/fetch/source.js";
import {
  bufferBody,
  recordConnections,
  serveBody,
  startHttpServer,
  type TestHttpServer,
} from "../support/http-server.js";
import { makeClip, makeHls, serveDirectory, YTDLP } from "../support/media-fixtures.js";

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
  const metadataPage = Buffer.from(
    '<html><head><title>Trap</title></head><body><video src="http://169.254.169.254/latest/meta-data/clip.mp4"></video></body></html>',
  );
  server.route("/watch-metadata", (req, res) =>
    serveBody(req, res, bufferBody(metadataPage), { contentType: "text/html" }),
  );
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

  it("hands a direct HLS playlist to yt-dlp, which assembles the video, instead of saving the playlist", async (t) => {
    const site = path.join(root, "hls-site");
    await fs.mkdir(path.join(site, "hls"), { recursive: true });
    await makeHls(path.join(root, "clip.mp4"), path.join(site, "hls"));
    const hls = await serveDirectory(site); // answers .m3u8 as application/vnd.apple.mpegurl
    t.after(() => hls.close());
    const file = await fetchSource(`${hls.origin}/hls/index.m3u8`, options());
    assert.equal(file.engine, "ytdlp");
    assert.ok(file.size > 10_000, `a video, not a playlist of ${file.size} bytes`);
    assert.doesNotMatch(file.name, /\.m3u8$/);
  });

  it("with site downloads turned off, refuses a web page for good and still takes a direct file", async () => {
    const error = await fetchSource(`${server.origin}/watch`, options({ ytdlp: false })).then(
      () => assert.fail("expected a refusal"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof UserError);
    assert.equal(error.code, "YTDLP_DISABLED");
    assert.match(error.userMessage, /downloads from sites are turned off/);
    assert.deepEqual(await fs.readdir(dir), []);
    const file = await fetchSource(`${server.origin}/clip.mp4`, options({ ytdlp: false }));
    assert.equal(file.engine, "http");
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

  it("guards the requests yt-dlp makes by itself: a page whose video is at the metadata address", async () => {
    const connections = recordConnections();
    try {
      const error = await fetchSource(
        `${server.origin}/watch-metadata`,
        options({ guard: { allowPrivateNetworks: false, trustedOrigins: [server.origin] } }),
      ).then(
        () => assert.fail("expected a refusal"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof DownloadError, String(error));
      assert.equal(error.code, "URL_PRIVATE_ADDRESS");
      assert.match(error.userMessage, /private or reserved network address/);
      assert.deepEqual(await fs.readdir(dir), []);
      const local = `127.0.0.1:${server.port}`;
      assert.ok(connections.attempts.length > 0);
      assert.ok(
        connections.attempts.every((a) => a === local),
        connections.attempts.join(", "),
      );
    } finally {
      connections.restore();
    }
  });
});
