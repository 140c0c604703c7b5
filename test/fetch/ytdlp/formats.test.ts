/**
 * The pure parts of the yt-dlp engine on JSON fixtures shaped like `yt-dlp -J` output: format choice, refusals,
 * error mapping, progress lines and file names.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DownloadError } from "../../../src/errors.js";
import { parseInfo, parseProgressLine, planDownload } from "../../../src/fetch/ytdlp/download.js";
import { classifyYtdlpError, guardRefusalIn } from "../../../src/fetch/ytdlp/errors.js";
import {
  chooseFormat,
  formatSize,
  mergeFormatFor,
  type YtdlpFormat,
} from "../../../src/fetch/ytdlp/formats.js";
import { MAX_NAME_BYTES, safeFileName } from "../../../src/fetch/ytdlp/name.js";

const MIB = 1024 * 1024;

/** A video site's usual list: separate video and audio streams plus one small combined mp4 (10 minutes long). */
const SITE_VIDEO = {
  id: "abc123",
  title: "A talk",
  duration: 600,
  is_live: false,
  live_status: "not_live",
  extractor: "youtube",
  formats: [
    { format_id: "sb0", ext: "mhtml", protocol: "mhtml", vcodec: "none", acodec: "none" },
    { format_id: "139", ext: "m4a", vcodec: "none", acodec: "mp4a.40.5", abr: 48, filesize: 3.6 * MIB },
    { format_id: "140", ext: "m4a", vcodec: "none", acodec: "mp4a.40.2", abr: 129, filesize: 9.7 * MIB },
    { format_id: "251", ext: "webm", vcodec: "none", acodec: "opus", abr: 135, filesize: 9.9 * MIB },
    {
      format_id: "18",
      ext: "mp4",
      vcodec: "avc1.42001E",
      acodec: "mp4a.40.2",
      height: 360,
      tbr: 500,
      filesize_approx: 37 * MIB,
    },
    {
      format_id: "134",
      ext: "mp4",
      vcodec: "avc1.4d401e",
      acodec: "none",
      height: 360,
      tbr: 300,
      filesize: 21 * MIB,
    },
    {
      format_id: "135",
      ext: "mp4",
      vcodec: "avc1.4d401f",
      acodec: "none",
      height: 480,
      tbr: 600,
      filesize: 43 * MIB,
    },
    {
      format_id: "244",
      ext: "webm",
      vcodec: "vp9",
      acodec: "none",
      height: 480,
      tbr: 620,
      filesize: 44 * MIB,
    },
    { format_id: "136", ext: "mp4", vcodec: "avc1.4d401f", acodec: "none", height: 720, tbr: 1200 },
    {
      format_id: "137",
      ext: "mp4",
      vcodec: "avc1.640028",
      acodec: "none",
      height: 1080,
      tbr: 2500,
      filesize: 180 * MIB,
    },
    {
      format_id: "313",
      ext: "webm",
      vcodec: "vp9",
      acodec: "none",
      height: 2160,
      tbr: 12000,
      filesize: 900 * MIB,
    },
  ] satisfies YtdlpFormat[],
};

function choose(maxSize: number, quality?: Parameters<typeof chooseFormat>[1]["quality"]) {
  return chooseFormat(SITE_VIDEO.formats, { maxSize, quality, duration: SITE_VIDEO.duration });
}

describe("chooseFormat", () => {
  it("takes the best version when everything fits", () => {
    const choice = choose(2000 * MIB);
    assert.ok(!("reason" in choice));
    assert.equal(choice.formatId, "313+251", "4K webm video with the opus audio of the same family");
    assert.equal(choice.height, 2160);
    assert.equal(choice.estimatedSize, 900 * MIB + 9.9 * MIB);
  });

  it("merges into mp4 unless a codec cannot go into mp4", () => {
    const best = choose(2000 * MIB);
    assert.ok(!("reason" in best));
    assert.equal(best.mergeFormat, "mp4", "VP9 + Opus fit mp4 in ffmpeg 5.1");
    assert.equal(mergeFormatFor("avc1.640028", "mp4a.40.2"), "mp4");
    assert.equal(mergeFormatFor(null, undefined), "mp4");
    assert.equal(mergeFormatFor("vp8", "vorbis"), "mkv");
    assert.equal(mergeFormatFor("avc1.4d401f", "vorbis"), "mkv");
  });

  it("steps down to the best version under the size limit", () => {
    const choice = choose(200 * MIB);
    assert.ok(!("reason" in choice));
    assert.equal(choice.formatId, "137+140", "1080p mp4 + m4a: 189.7 MiB");
  });

  it("estimates a size from bitrate × duration when the site gives none", () => {
    // 136 has only tbr: 1200 kbit/s × 600 s = 90 MB, plus the margin for estimates.
    assert.equal(formatSize({ format_id: "136", tbr: 1200 }, 600), Math.round(90_000_000 * 1.1));
    const choice = choose(120 * MIB);
    assert.ok(!("reason" in choice));
    assert.equal(choice.formatId, "136+140");
  });

  it("respects the user's height cap", () => {
    const for480 = choose(2000 * MIB, "480");
    assert.ok(!("reason" in for480));
    assert.equal(for480.formatId, "135+140", "mp4 preferred over webm at the same height");
    const for360 = choose(2000 * MIB, "360");
    assert.ok(!("reason" in for360));
    assert.equal(for360.height, 360);
  });

  it("picks the best audio alone for audio only", () => {
    const choice = choose(2000 * MIB, "audio");
    assert.ok(!("reason" in choice));
    assert.equal(choice.formatId, "251");
    assert.equal(choice.audioOnly, true);
    const small = choose(5 * MIB, "audio");
    assert.ok(!("reason" in small));
    assert.equal(small.formatId, "139");
  });

  it("takes the smallest combined version for audio when there is no separate audio", () => {
    const formats: YtdlpFormat[] = [
      { format_id: "hd", ext: "mp4", height: 720, filesize: 80 * MIB },
      { format_id: "sd", ext: "mp4", height: 360, filesize: 20 * MIB },
    ];
    const choice = chooseFormat(formats, { maxSize: 100 * MIB, quality: "audio" });
    assert.ok(!("reason" in choice));
    assert.equal(choice.formatId, "sd");
  });

  it("takes the lowest picture there is when every version is above the height cap", () => {
    const formats: YtdlpFormat[] = [
      { format_id: "fhd", ext: "mp4", height: 1080, filesize: 80 * MIB },
      { format_id: "hd", ext: "mp4", height: 720, filesize: 40 * MIB },
    ];
    const choice = chooseFormat(formats, { maxSize: 100 * MIB, quality: "360" });
    assert.ok(!("reason" in choice), "a file, not 'no formats'");
    assert.equal(choice.formatId, "hd");
    assert.equal(choice.height, 720);
  });

  it("reports the smallest size when nothing fits", () => {
    assert.deepEqual(choose(4 * MIB, "480"), { reason: "too-large", smallest: 21 * MIB + 3.6 * MIB });
  });

  it("accepts a single format of unknown size (the download enforces the limit)", () => {
    const choice = chooseFormat([{ format_id: "mp4", ext: "mp4", vcodec: null }], { maxSize: MIB });
    assert.ok(!("reason" in choice));
    assert.equal(choice.formatId, "mp4");
    assert.equal(choice.estimatedSize, undefined);
  });

  it("never chooses a DRM format", () => {
    const formats: YtdlpFormat[] = [
      { format_id: "drm-hd", height: 1080, filesize: MIB, has_drm: true },
      { format_id: "clear-sd", height: 480, filesize: MIB },
    ];
    const choice = chooseFormat(formats, { maxSize: 100 * MIB });
    assert.ok(!("reason" in choice));
    assert.equal(choice.formatId, "clear-sd");
    assert.deepEqual(chooseFormat([formats[0]!], { maxSize: 100 * MIB }), { reason: "no-formats" });
  });
});

describe("chooseFormat: only what goes through the guard proxy", () => {
  it("never chooses rtmp, rtsp or websocket formats, which open their own sockets", () => {
    const formats: YtdlpFormat[] = [
      { format_id: "rtmp-hd", protocol: "rtmp", height: 1080, filesize: MIB },
      { format_id: "ws-hd", protocol: "websocket_frag", height: 1080, filesize: MIB },
      { format_id: "hls-sd", protocol: "m3u8_native", height: 480, filesize: MIB },
    ];
    const choice = chooseFormat(formats, { maxSize: 100 * MIB });
    assert.ok(!("reason" in choice));
    assert.equal(choice.formatId, "hls-sd");
    assert.deepEqual(chooseFormat(formats.slice(0, 2), { maxSize: 100 * MIB }), { reason: "no-formats" });
  });
});

describe("planDownload", () => {
  const plan = (json: unknown, maxSize = 2000 * MIB) => planDownload(parseInfo(json), { maxSize });
  const refusal = (json: unknown, maxSize?: number) => {
    try {
      plan(json, maxSize);
    } catch (error) {
      assert.ok(error instanceof DownloadError);
      return error;
    }
    assert.fail("expected a refusal");
  };

  it("plans the choice for a normal video", () => {
    assert.equal(plan(SITE_VIDEO).formatId, "313+251");
  });

  it("refuses DRM when no clear format is left, with the plain DRM reply", () => {
    const error = refusal({ id: "x", _has_drm: true, formats: [] });
    assert.equal(error.code, "DRM_PROTECTED");
    assert.match(error.userMessage, /never tries to get around DRM/);
    assert.equal(
      refusal({ id: "x", formats: [{ format_id: "hls-1", has_drm: "<re.Match object>" }] }).code,
      "DRM_PROTECTED",
    );
  });

  it("refuses live and upcoming streams", () => {
    assert.equal(
      refusal({ ...SITE_VIDEO, is_live: true, live_status: "is_live" }).code,
      "LIVE_NOT_SUPPORTED",
    );
    assert.equal(
      refusal({ ...SITE_VIDEO, is_live: false, live_status: "is_upcoming" }).code,
      "LIVE_NOT_SUPPORTED",
    );
  });

  it("refuses playlists", () => {
    const error = refusal({
      _type: "playlist",
      id: "PL1",
      entries: [{ url: "https://example.invalid/v/1" }],
    });
    assert.equal(error.code, "PLAYLIST_NOT_SUPPORTED");
  });

  it("refuses a video whose every version is over the limit", () => {
    const error = refusal(SITE_VIDEO, MIB);
    assert.equal(error.code, "TOO_LARGE");
    assert.match(error.hint ?? "", /lower quality/);
  });
});

describe("classifyYtdlpError", () => {
  const cases: [string, string | undefined][] = [
    ["ERROR: [generic] index: This video is DRM protected", "DRM_PROTECTED"],
    ["ERROR: Unsupported URL: https://example.invalid/page", "UNSUPPORTED_URL"],
    [
      "ERROR: [youtube] abc: Private video. Sign in if you've been granted access to this video",
      "VIDEO_UNAVAILABLE",
    ],
    [
      "ERROR: [youtube] abc: Video unavailable. This video has been removed by the uploader",
      "VIDEO_UNAVAILABLE",
    ],
    [
      "ERROR: [youtube] abc: Sign in to confirm your age. This video may be inappropriate for some users. Use --cookies-from-browser or --cookies for the authentication.",
      "LOGIN_REQUIRED",
    ],
    ["ERROR: [vimeo] 1: This video is only available for registered users", "LOGIN_REQUIRED"],
    ["ERROR: [bbc] p1: This video is not available from your location due to geo restriction", "GEO_BLOCKED"],
    [
      "ERROR: [generic] None: Unable to download webpage: HTTP Error 404: Not Found (caused by <HTTPError 404>)",
      "NOT_FOUND",
    ],
    ["ERROR: [youtube] abc: This live event will begin in 3 hours.", "LIVE_NOT_SUPPORTED"],
    ["ERROR: [generic] x: Unable to download webpage: The read operation timed out", "TIMEOUT"],
    [
      "ERROR: [generic] None: Unable to download webpage: <urlopen error [Errno 111] Connection refused> (caused by URLError(ConnectionRefusedError(111, 'Connection refused')))",
      "UNREACHABLE",
    ],
    ["ERROR: Postprocessing: Conversion failed!", undefined],
    ["WARNING: only a warning\n[download] 100%", undefined],
  ];
  for (const [stderr, code] of cases) {
    it(`${code ?? "nothing"} for ${stderr.slice(0, 60)}`, () => {
      assert.equal(classifyYtdlpError(`[generic] Extracting URL\n${stderr}\n`), code);
    });
  }
});

describe("guardRefusalIn (the guard proxy's refusal, as yt-dlp quotes it)", () => {
  const cases: [string, string | undefined][] = [
    [
      "ERROR: [generic] None: Unable to download webpage: HTTP Error 403: Medusa guard: URL_PRIVATE_ADDRESS (caused by <HTTPError 403: 'Medusa guard: URL_PRIVATE_ADDRESS'>)",
      "URL_PRIVATE_ADDRESS",
    ],
    [
      "[download] Got error: <urlopen error Tunnel connection failed: 403 Medusa guard: URL_PRIVATE_ADDRESS>. Retrying fragment 2 (1/3)...\nERROR: fragment 2 not found, unable to continue",
      "URL_PRIVATE_ADDRESS",
    ],
    ["ERROR: unable to download video data: HTTP Error 502: Medusa guard: DNS_NOT_FOUND", "DNS_NOT_FOUND"],
    ["ERROR: HTTP Error 403: Medusa guard: SOMETHING_ELSE", undefined],
    ["ERROR: [generic] None: Unable to download webpage: HTTP Error 403: Forbidden", undefined],
  ];
  for (const [stderr, code] of cases) {
    it(`${code ?? "nothing"} for ${stderr.slice(0, 70)}`, () => {
      assert.equal(guardRefusalIn(stderr), code);
    });
  }

  it("a plain 403 from the site stays FORBIDDEN, and the proxy's Connection refused stays UNREACHABLE", () => {
    assert.equal(
      classifyYtdlpError("ERROR: Unable to download webpage: HTTP Error 403: Forbidden"),
      "FORBIDDEN",
    );
    assert.equal(
      classifyYtdlpError("ERROR: Unable to download webpage: HTTP Error 502: Connection refused"),
      "UNREACHABLE",
    );
  });
});

describe("parseProgressLine", () => {
  it("reads our template's JSON, with NA as unknown", () => {
    const line =
      'medusa-progress {"status":"downloading","downloaded":22184,"total":"NA","estimate":66552.0,"speed":5952305.5}';
    assert.deepEqual(parseProgressLine(line), {
      status: "downloading",
      downloaded: 22184,
      total: 66552,
      speed: 5952305.5,
    });
    const done = parseProgressLine(
      'medusa-progress {"status":"finished","downloaded":67304,"total":67304,"estimate":"NA","speed":"NA"}',
    );
    assert.deepEqual(done, { status: "finished", downloaded: 67304, total: 67304, speed: 0 });
  });

  it("ignores other lines and torn ones", () => {
    assert.equal(parseProgressLine("[download] Destination: x.mp4"), undefined);
    assert.equal(parseProgressLine('medusa-progress {"status":"downl'), undefined);
  });
});

describe("safeFileName", () => {
  it("removes path separators, control characters and leading dots", () => {
    assert.equal(safeFileName("../../etc/passwd", "mp4"), "-.-etc-passwd.mp4");
    assert.equal(safeFileName("AC/DC: live", "mp4"), "AC-DC_ live.mp4");
    assert.equal(safeFileName("a\u0000b\nc\u202ed", "mkv"), "ab cd.mkv");
    assert.equal(safeFileName("...", "mp4"), "video.mp4");
    assert.equal(safeFileName(undefined, "m4a"), "video.m4a");
  });

  it("does not double the extension", () => {
    assert.equal(safeFileName("clip.MP4", "mp4"), "clip.mp4");
  });

  it("fits 200 bytes of UTF-8 without cutting a character", () => {
    const name = safeFileName("Ünïcödé 🎬 ".repeat(40), "mp4", " (2)");
    assert.ok(Buffer.byteLength(name) <= MAX_NAME_BYTES, `${Buffer.byteLength(name)} bytes`);
    assert.ok(name.endsWith(" (2).mp4"));
    assert.ok(!name.includes("\ufffd"));
    assert.equal(Buffer.from(name).toString("utf8"), name);
  });
});
