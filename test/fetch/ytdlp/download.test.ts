/**
 * The yt-dlp engine against real yt-dlp and ffmpeg, on media made at test time and served from 127.0.0.1.
 * yt-dlp reaches the network only through the guard proxy, which runs in this process: the connect wrapper makes any
 * connection it would open to a non-loopback address throw, so nothing reaches the internet or a private network.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { promisify } from "node:util";
import { CancelledError, DownloadError } from "../../../src/errors.js";
import type { GuardOptions } from "../../../src/fetch/guard/url-guard.js";
import type { TransferProgress } from "../../../src/fetch/types.js";
import { YTDLP_PARTIAL_DIR, ytdlpDownload, ytdlpProbe } from "../../../src/fetch/ytdlp/download.js";
import { recordConnections } from "../../support/http-server.js";
import {
  FFPROBE,
  type FileServer,
  HANG_PREFIX,
  makeClip,
  makeDrmPlaylist,
  makeHls,
  makeSeparateHls,
  makeTempDir,
  serveDirectory,
  type TempDir,
  YTDLP,
} from "../../support/media-fixtures.js";

const execFileAsync = promisify(execFile);
/** Where the SSRF fixtures point yt-dlp: a private address and the cloud metadata service. */
const PRIVATE_SEGMENT = "http://10.0.0.1/seg001.ts";
const METADATA_KEY = "http://169.254.169.254/latest/meta-data/iam/key";

/** Far above what these tiny downloads take; only a wedged run hits it. */
const TIMEOUT_MS = 60_000;
const LIMIT = 100 * 1024 * 1024;

let media: TempDir;
let server: FileServer;
let slowServer: FileServer;
let work: TempDir;
let clipBytes: Buffer;
let connections: ReturnType<typeof recordConnections>;
/** Private networks closed, as in production; the local servers are trusted origins, their links are not. */
let guard: GuardOptions;

async function probeStreams(file: string): Promise<{ duration: number; types: string[] }> {
  const { stdout } = await execFileAsync(
    FFPROBE,
    ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", file],
    { timeout: TIMEOUT_MS },
  );
  const json = JSON.parse(stdout) as { format: { duration: string }; streams: { codec_type: string }[] };
  return { duration: Number(json.format.duration), types: json.streams.map((s) => s.codec_type).sort() };
}

function download(url: string, extra: Partial<Parameters<typeof ytdlpDownload>[1]> = {}) {
  return ytdlpDownload(url, {
    dir: work.path,
    ytdlpPath: YTDLP,
    ffmpegPath: "/usr/bin/ffmpeg", // a path, so --ffmpeg-location is exercised
    maxSize: LIMIT,
    timeoutMs: TIMEOUT_MS,
    guard,
    ...extra,
  });
}

async function expectDownloadError(promise: Promise<unknown>, code: string): Promise<DownloadError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof DownloadError, `expected a DownloadError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  return error;
}

describe("ytdlp engine (real yt-dlp on 127.0.0.1)", () => {
  before(async () => {
    media = await makeTempDir("medusa-ytdlp-media-");
    const clip = await makeClip(path.join(media.path, "clip.mp4"), { seconds: 3 });
    clipBytes = await readFile(clip);
    await mkdir(path.join(media.path, "hls"));
    await makeHls(clip, path.join(media.path, "hls"));
    await mkdir(path.join(media.path, "hls-aes"));
    await makeHls(clip, path.join(media.path, "hls-aes"), { aes: true });
    await mkdir(path.join(media.path, "drm"));
    await makeDrmPlaylist(path.join(media.path, "drm", "index.m3u8"), "../hls/seg000.ts");
    await writeFile(
      path.join(media.path, "page.html"),
      "<html><head><title>No video</title></head><body>Hi</body></html>",
    );
    // A master playlist whose only variant is FairPlay: the probe sees no DRM, the download's manifest check does.
    await writeFile(
      path.join(media.path, "drm", "master.m3u8"),
      "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=200000,RESOLUTION=160x120\nindex.m3u8\n",
    );
    await makeSeparateHls(clip, path.join(media.path, "separate"));
    await copyFile(clip, path.join(media.path, "clip2.mp4"));
    const twoVideos = '<video src="clip.mp4"></video><video src="clip2.mp4"></video>';
    await writeFile(
      path.join(media.path, "two.html"),
      `<html><head><title>Two</title></head><body>${twoVideos}</body></html>`,
    );
    await writeSsrfFixtures(path.join(media.path, "hls"), path.join(media.path, "hls-aes"));
    server = await serveDirectory(media.path, {
      redirects: { "/to-metadata.mp4": "http://169.254.169.254/latest/meta-data/video.mp4" },
    });
    // About 4 s for the clip: long enough to cancel mid-download, short enough to end by itself if a test fails.
    slowServer = await serveDirectory(media.path, { bytesPerSecond: 16 * 1024 });
    guard = { allowPrivateNetworks: false, trustedOrigins: [server.origin, slowServer.origin] };
    connections = recordConnections();
  });

  after(async () => {
    connections?.restore();
    await server?.close();
    await slowServer?.close();
    await media?.remove();
  });

  beforeEach(async () => {
    await work?.remove();
    work = await makeTempDir("medusa-ytdlp-job-");
    server.requests.length = 0;
    connections.attempts.length = 0;
  });

  after(async () => work?.remove());

  it("probes a direct mp4 through the generic extractor", async () => {
    const info = await ytdlpProbe(`${server.origin}/clip.mp4`, {
      ytdlpPath: YTDLP,
      guard,
      timeoutMs: TIMEOUT_MS,
    });
    assert.equal(info.title, "clip");
    assert.equal(info.isLive, false);
    assert.equal(info.hasDrm, false);
    assert.equal(info.entries, undefined);
    assert.deepEqual(
      info.formats.map((f) => f.ext),
      ["mp4"],
    );
  });

  it("downloads an mp4 byte for byte, names it after the title and reports progress", async () => {
    const reports: TransferProgress[] = [];
    const file = await download(`${server.origin}/clip.mp4`, { onProgress: (p) => reports.push(p) });
    assert.equal(file.engine, "ytdlp");
    assert.equal(file.name, "clip.mp4");
    assert.equal(file.path, path.join(work.path, "clip.mp4"));
    assert.equal(file.mimeType, "video/mp4");
    assert.equal(file.title, "clip");
    assert.equal(file.size, clipBytes.length);
    const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
    assert.equal(sha(await readFile(file.path)), sha(clipBytes));
    assert.ok(reports.length > 0, "progress reported");
    const last = reports.at(-1)!;
    assert.equal(last.bytes, clipBytes.length);
    assert.equal(last.total, clipBytes.length);
    for (let i = 1; i < reports.length; i++) assert.ok(reports[i]!.bytes >= reports[i - 1]!.bytes);
    assert.deepEqual(await readdir(work.path), ["clip.mp4"], "the staging folder is gone");
    assert.ok(connections.attempts.includes(new URL(server.origin).host), "the guard proxy carried it");
  });

  it("sends the operator's cookies and leaves their file as it was", async () => {
    const cookiesFile = path.join(media.path, "cookies.txt");
    const jar = "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t4102444800\tsession\tmedusa-test\n";
    await writeFile(cookiesFile, jar, { mode: 0o600 });
    server.cookies.length = 0;
    await download(`${server.origin}/clip.mp4`, { cookiesFile });
    assert.ok(server.cookies.length > 0, "cookies were sent");
    assert.ok(
      server.cookies.every((c) => c.includes("session=medusa-test")),
      server.cookies.join(" | "),
    );
    assert.equal(await readFile(cookiesFile, "utf8"), jar, "yt-dlp wrote to a private copy");
  });

  it("uses the caller's name, sanitised", async () => {
    const file = await download(`${server.origin}/clip.mp4`, { name: "../Lecture 1/intro" });
    assert.equal(file.name, "-Lecture 1-intro.mp4");
    assert.equal(path.dirname(file.path), work.path);
  });

  it("downloads an HLS playlist into a playable mp4", async () => {
    const file = await download(`${server.origin}/hls/index.m3u8`);
    assert.equal(file.name, "index.mp4");
    const probed = await probeStreams(file.path);
    assert.deepEqual(probed.types, ["audio", "video"]);
    assert.ok(Math.abs(probed.duration - 3) < 0.5, `duration ${probed.duration}`);
  });

  it("downloads separate video and audio renditions and merges them into one mp4", async () => {
    const reports: TransferProgress[] = [];
    const file = await download(`${server.origin}/separate/master.m3u8`, {
      onProgress: (p) => reports.push(p),
    });
    assert.equal(file.name, "master.mp4");
    assert.equal(file.mimeType, "video/mp4");
    const probed = await probeStreams(file.path);
    assert.deepEqual(probed.types, ["audio", "video"]);
    assert.ok(Math.abs(probed.duration - 3) < 0.5, `duration ${probed.duration}`);
    assert.ok(
      server.requests.some((r) => r.startsWith("/separate/a/")),
      "the audio rendition was fetched",
    );
    // Progress adds the two downloads up rather than starting again at 0 for the audio.
    for (let i = 1; i < reports.length; i++) assert.ok(reports[i]!.bytes >= reports[i - 1]!.bytes);
  });

  it("downloads an AES-128 encrypted HLS playlist (ordinary encryption, key served with it)", async () => {
    const file = await download(`${server.origin}/hls-aes/index.m3u8`);
    assert.ok(server.requests.includes("/hls-aes/enc.key"), "the key was fetched");
    const probed = await probeStreams(file.path);
    assert.deepEqual(probed.types, ["audio", "video"]);
    assert.ok(Math.abs(probed.duration - 3) < 0.5, `duration ${probed.duration}`);
  });

  it("refuses a DRM playlist before downloading anything, and says so plainly", async () => {
    const error = await expectDownloadError(download(`${server.origin}/drm/index.m3u8`), "DRM_PROTECTED");
    assert.match(error.userMessage, /DRM/);
    assert.match(error.userMessage, /never tries to get around DRM/);
    assert.deepEqual(
      server.requests.filter((r) => r.endsWith(".ts")),
      [],
      "no segment was requested",
    );
    assert.deepEqual(await readdir(work.path), []);
  });

  it("refuses a master playlist whose variant is DRM protected, fetching no segment", async () => {
    const error = await expectDownloadError(download(`${server.origin}/drm/master.m3u8`), "DRM_PROTECTED");
    assert.match(error.userMessage, /DRM/);
    assert.deepEqual(
      server.requests.filter((r) => r.endsWith(".ts")),
      [],
      "no segment was requested",
    );
    assert.deepEqual(await readdir(work.path), []);
  });

  it("maps HTTP 404 to NOT_FOUND with yt-dlp's words kept internally", async () => {
    const error = await expectDownloadError(download(`${server.origin}/missing.mp4`), "NOT_FOUND");
    assert.match(error.message, /HTTP Error 404/);
    assert.doesNotMatch(error.userMessage, /yt-dlp|127\.0\.0\.1/);
    assert.deepEqual(await readdir(work.path), []);
  });

  it("maps a page without media to UNSUPPORTED_URL", async () => {
    const error = await expectDownloadError(download(`${server.origin}/page.html`), "UNSUPPORTED_URL");
    assert.match(error.message, /Unsupported URL/);
  });

  it("lists a playlist's entries when asked, and refuses to download it as one video", async () => {
    const info = await ytdlpProbe(`${server.origin}/two.html`, {
      ytdlpPath: YTDLP,
      guard,
      timeoutMs: TIMEOUT_MS,
      playlist: true,
    });
    assert.deepEqual(info.entries, [`${server.origin}/clip.mp4`, `${server.origin}/clip2.mp4`]);
    await expectDownloadError(download(`${server.origin}/two.html`), "PLAYLIST_NOT_SUPPORTED");
    assert.deepEqual(await readdir(work.path), []);
  });

  describe("SSRF: every request yt-dlp makes passes the URL guard", () => {
    const cases: Array<[string, string, string]> = [
      ["an HLS segment on a private address", "/ssrf/private-segment.m3u8", "10.0.0.1"],
      [
        "an HLS segment over https on a private address (CONNECT)",
        "/ssrf/private-https-segment.m3u8",
        "10.0.0.1",
      ],
      ["an AES-128 key at the cloud metadata address", "/ssrf/metadata-key.m3u8", "169.254.169.254"],
      ["a redirect to the cloud metadata address", "/to-metadata.mp4", "169.254.169.254"],
      [
        "a reserved address given to yt-dlp directly (TEST-NET-3)",
        "http://203.0.113.7/video.mp4",
        "203.0.113.7",
      ],
    ];
    for (const [what, target, address] of cases) {
      it(`refuses ${what} with the guard's message, leaving nothing`, async () => {
        const url = target.startsWith("/") ? `${server.origin}${target}` : target;
        const error = await expectDownloadError(download(url), "URL_PRIVATE_ADDRESS");
        assert.match(error.userMessage, /private or reserved network address/);
        assert.match(error.message, /Medusa guard: URL_PRIVATE_ADDRESS/);
        assert.deepEqual(await readdir(work.path), [], "nothing left in the job folder");
        assert.ok(
          connections.attempts.every((a) => a === new URL(server.origin).host),
          `only the local server was dialled: ${connections.attempts.join(", ")} (never ${address})`,
        );
      });
    }

    it("keeps link-local (metadata) closed when private networks are open", async () => {
      const error = await expectDownloadError(
        download(`${server.origin}/ssrf/metadata-key.m3u8`, { guard: { allowPrivateNetworks: true } }),
        "URL_PRIVATE_ADDRESS",
      );
      assert.match(error.userMessage, /private or reserved/);
      assert.deepEqual(await readdir(work.path), []);
    });

    it("downloads from the local server with private networks open and no trusted origin", async () => {
      const file = await download(`${server.origin}/hls/index.m3u8`, {
        guard: { allowPrivateNetworks: true },
      });
      assert.equal(file.name, "index.mp4");
    });
  });

  it("refuses a non-http URL without running yt-dlp", async () => {
    await expectDownloadError(download("file:///etc/passwd"), "UNSUPPORTED_URL");
    await expectDownloadError(download("-o/tmp/x"), "UNSUPPORTED_URL");
  });

  it("stops a download that passes the size limit and leaves nothing", async () => {
    await expectDownloadError(download(`${server.origin}/clip.mp4`, { maxSize: 10_000 }), "TOO_LARGE");
    assert.deepEqual(await readdir(work.path), []);
    // HLS has no size up front: our own byte count stops it.
    await expectDownloadError(download(`${server.origin}/hls/index.m3u8`, { maxSize: 30_000 }), "TOO_LARGE");
    assert.deepEqual(await readdir(work.path), []);
  });

  it("extracts the audio when asked for audio only", async () => {
    const file = await download(`${server.origin}/clip.mp4`, { quality: "audio" });
    assert.equal(file.name, "clip.m4a");
    assert.equal(file.mimeType, "audio/mp4");
    assert.deepEqual((await probeStreams(file.path)).types, ["audio"]);
  });

  it("cancel kills yt-dlp and its children and removes partial files", async () => {
    const controller = new AbortController();
    let reports = 0;
    const error = await download(`${slowServer.origin}/clip.mp4`, {
      signal: controller.signal,
      onProgress: () => {
        reports++;
        controller.abort();
      },
    }).catch((e: unknown) => e);
    assert.ok(error instanceof CancelledError, String(error));
    assert.ok(reports > 0, "it was downloading when cancelled");
    assert.deepEqual(await readdir(work.path), []);
    assert.deepEqual(await processesMentioning(work.path), [], "no process of the download is left");
  });

  it("keeps yt-dlp's partial download when asked, and the next run continues it with Range", async () => {
    const controller = new AbortController();
    const url = `${slowServer.origin}/clip.mp4`;
    const stopped = await download(url, {
      keepPartial: true,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.bytes >= clipBytes.length / 4) controller.abort();
      },
    }).catch((e: unknown) => e);
    assert.ok(stopped instanceof CancelledError, String(stopped));
    const staged = await readdir(path.join(work.path, YTDLP_PARTIAL_DIR));
    assert.ok(
      staged.some((name) => name.endsWith(".part")),
      `a .part file is kept: ${staged.join(", ")}`,
    );
    slowServer.requests.length = 0;
    slowServer.ranges.length = 0;
    const file = await download(url, { keepPartial: true });
    const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
    assert.equal(sha(await readFile(file.path)), sha(clipBytes));
    const last = slowServer.ranges.at(-1) ?? "";
    assert.match(
      last,
      /^bytes=[1-9]\d*-/,
      `the download continued (requests: ${slowServer.ranges.join(", ")})`,
    );
    assert.deepEqual(await readdir(work.path), ["clip.mp4"], "the staging folder is gone once done");
  });

  it("times out a probe and says so", async () => {
    const error = await expectDownloadError(
      // The server never answers, and yt-dlp's own socket timeout (30 s) is far longer than ours.
      ytdlpProbe(`${server.origin}${HANG_PREFIX}clip.mp4`, { ytdlpPath: YTDLP, guard, timeoutMs: 1500 }),
      "TIMEOUT",
    );
    assert.match(error.userMessage, /too long/);
  });
});

/**
 * Playlists that point yt-dlp somewhere it must not go, beside working ones: the first segment is real, so the
 * download is under way when the bad request comes.
 */
async function writeSsrfFixtures(hlsDir: string, aesDir: string): Promise<void> {
  const dir = path.join(path.dirname(hlsDir), "ssrf");
  await mkdir(dir);
  const plain = await readFile(path.join(hlsDir, "index.m3u8"), "utf8");
  const local = plain.replace(/^seg/gm, "../hls/seg");
  await writeFile(path.join(dir, "private-segment.m3u8"), local.replace("../hls/seg001.ts", PRIVATE_SEGMENT));
  await writeFile(
    path.join(dir, "private-https-segment.m3u8"),
    local.replace("../hls/seg001.ts", PRIVATE_SEGMENT.replace("http:", "https:")),
  );
  const aes = await readFile(path.join(aesDir, "index.m3u8"), "utf8");
  await writeFile(
    path.join(dir, "metadata-key.m3u8"),
    aes.replace(/^seg/gm, "../hls-aes/seg").replace('URI="enc.key"', `URI="${METADATA_KEY}"`),
  );
}

/** Pids whose command line mentions `text`: what a leaked yt-dlp or ffmpeg would show. */
async function processesMentioning(text: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(text)) found.push(Number(entry));
  }
  return found;
}
