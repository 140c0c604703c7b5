/**
 * A 30-link .txt batch through the real pipeline (site on 127.0.0.1, yt-dlp, ffmpeg, runner, steps, gateway, local
 * Telegram server): files of mixed sizes, videos, an HLS stream through real yt-dlp, one file over the (small, for
 * speed) upload limit that is split, and bad lines — a 404, a private address, a line that is not a link. Every good
 * file reaches the user byte-identical and in the order of the list, each is copied to two log channels by
 * reference (no second upload: the parts saved on the server are those of one upload of each file), and the
 * summary reports each bad line by its number, once, to the user and to both log channels.
 *
 * Not here: a file over 2000 MiB sent through a Premium user session instead of split (another branch adds that
 * route; its case goes beside the split one below).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { getBatch } from "../../src/db/jobs.js";
import { PART_SIZE } from "../../src/telegram/upload-plan.js";
import { makeClip, makeHls, makeRandomFile } from "../support/media-fixtures.js";
import type { MessageView } from "../support/telegram-server/server.js";
import { pipelineWorld } from "./pipeline-world.js";

const MIB = 1024 * 1024;
/** The upload limit for this test: the split file is 20 MiB, so it goes in three parts. */
const FILE_LIMIT = 8 * MIB;
const BIN_SIZES = [
  1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 300_000, 400_000, 500_000, 600_000, 700_000,
  800_000, 900_000, 1_000_000, 1_200_000, 1_500_000, 1_800_000, 2_000_000, 2_500_000, 3_000_000,
];
const CLIPS = [
  { name: "a.mp4", seconds: 2, width: 160, height: 120 },
  { name: "b.mp4", seconds: 3, width: 320, height: 240 },
  { name: "c.mp4", seconds: 1, width: 160, height: 120 },
  { name: "d.mp4", seconds: 4, width: 240, height: 180 },
];

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** What the user should get for one good line, in order. */
type Expected =
  | { line: number; kind: "bin"; data: Buffer }
  | { line: number; kind: "clip"; data: Buffer; seconds: number; width: number; height: number }
  | { line: number; kind: "hls" }
  | { line: number; kind: "split"; data: Buffer };

describe("batch: a 30-link list to delivered messages and one summary", () => {
  it("delivers every good link in order, byte-identical, copied to two log channels without a second upload, and reports each bad line", {
    timeout: 300_000,
  }, async (t) => {
    const p = await pipelineWorld(t, { logChannels: 2, fileLimit: FILE_LIMIT });
    const site = p.site.origin;
    const lines: string[] = ["# lectures and data for the week", ""];
    const expected: Expected[] = [];
    const bad = new Map<number, RegExp>();
    const add = (text: string) => {
      lines.push(text);
      return lines.length;
    };
    for (const [i, size] of BIN_SIZES.entries()) {
      const name = `data-${i}.bin`;
      const data = await readFile(await makeRandomFile(join(p.files, name), size));
      // Distinct content per file (the fixture's stream is the same for all): its own first bytes.
      data.write(`file ${i} `, 0, "latin1");
      await writeFile(join(p.files, name), data);
      expected.push({ line: add(`${site}/${name}`), kind: "bin", data });
      if (i === 5) {
        const clip = CLIPS[0]!;
        const file = await makeClip(join(p.files, clip.name), { ...clip, faststart: true });
        expected.push({
          line: add(`Clip A: ${site}/${clip.name}`),
          kind: "clip",
          data: await readFile(file),
          ...clip,
        });
        bad.set(add(`${site}/missing.bin`), /The .*404|not found/i);
      }
      if (i === 10) {
        for (const clip of CLIPS.slice(1)) {
          const file = await makeClip(join(p.files, clip.name), { ...clip, faststart: true });
          expected.push({
            line: add(`${site}/${clip.name}`),
            kind: "clip",
            data: await readFile(file),
            ...clip,
          });
        }
        bad.set(add("see the slides for the rest"), /no link found/);
      }
      if (i === 15) {
        const source = await makeClip(join(p.files, "stream-source.mp4"), { seconds: 3 });
        await mkdir(join(p.files, "hls"));
        await makeHls(source, join(p.files, "hls"));
        await writeFile(
          join(p.files, "stream.html"),
          '<html><head><title>Stream</title></head><body><video src="hls/index.m3u8" controls></video></body></html>',
        );
        expected.push({ line: add(`Stream: ${site}/stream.html`), kind: "hls" });
        bad.set(add("http://10.1.2.3/internal.bin"), /private|not allowed|refused/i);
      }
    }
    const big = await readFile(await makeRandomFile(join(p.files, "big.bin"), 20 * MIB));
    expected.push({ line: add(`${site}/big.bin`), kind: "split", data: big });
    // The Premium route slots in here: one more line over FILE_LIMIT, with a Premium user session in the steps,
    // expected whole (kind "bin", uploaded by the user session) instead of split, and 31 links in the list.
    const links = lines.filter((l) => /https?:\/\//.test(l)).length;
    assert.equal(links, 30, "thirty links in the list");

    const jobs = await p.enqueueBatch(`${lines.join("\n")}\n`, "week.txt");
    assert.equal(jobs.length, 30);
    const batchId = jobs[0]?.batch_id ?? 0;
    await p.waitFor(
      "the batch summary sent",
      async () => (await getBatch(p.db, batchId))?.summary_sent_at != null,
    );

    const server = p.world.srv.server;
    const media = (m: MessageView[]) => m.filter((x) => x.media);
    const toAlice = server.messages(p.chat);
    const files = media(toAlice);
    // In the order of the list: a split file's parts one after another.
    let at = 0;
    let uploadedParts = 0;
    for (const want of expected) {
      const got = files[at];
      assert.ok(got?.media, `line ${want.line}: delivered`);
      if (want.kind === "split") {
        let offset = 0;
        for (let part = 0; offset < want.data.length; part++) {
          const piece = files[at + part]?.media;
          assert.ok(piece, `part ${part + 1} of line ${want.line}`);
          assert.ok(piece.size <= FILE_LIMIT, "each part under the limit");
          assert.equal(
            piece.sha256,
            sha256(want.data.subarray(offset, offset + piece.size)),
            "byte-identical",
          );
          assert.match(files[at + part]?.text ?? "", /part \d+\/3/);
          offset += piece.size;
          uploadedParts += Math.ceil(piece.size / PART_SIZE);
        }
        assert.equal(offset, want.data.length, "the parts join back into the file");
        at += 3;
        continue;
      }
      uploadedParts += Math.ceil(got.media.size / PART_SIZE);
      if (want.kind === "hls") {
        const video = got.media.attributes.find((a) => a.type === "video");
        assert.equal(Math.round(Number(video?.duration)), 3, "the stream came through yt-dlp as a 3 s video");
        assert.equal(got.media.hasThumb, true);
        uploadedParts += 1; // its thumbnail
      } else {
        assert.equal(got.media.sha256, sha256(want.data), `line ${want.line}: byte-identical`);
      }
      if (want.kind === "clip") {
        const video = got.media.attributes.find((a) => a.type === "video");
        assert.deepEqual(video, {
          type: "video",
          duration: want.seconds,
          w: want.width,
          h: want.height,
          supportsStreaming: true,
        });
        assert.equal(got.media.hasThumb, true, `line ${want.line}: a thumbnail`);
        uploadedParts += 1; // its thumbnail
      }
      at++;
    }
    assert.equal(files.length, at, "nothing else was posted");

    const sent = files.map((m) => m.media?.sha256);
    for (const channel of p.channels) {
      const copies = media(server.messages({ chat: channel.id }));
      assert.deepEqual(
        copies.map((m) => m.media?.sha256),
        sent,
        `${channel.title}: one copy of each, in order`,
      );
    }
    const rpcs = server.counters().rpcs;
    const saved = (rpcs["upload.SaveFilePart"] ?? 0) + (rpcs["upload.SaveBigFilePart"] ?? 0);
    assert.equal(saved, uploadedParts, "each file uploaded once: the copies went by reference");

    const summaries = toAlice.filter((m) => m.text.startsWith("Batch finished"));
    assert.equal(summaries.length, 1, "one summary");
    const summary = summaries[0]?.text ?? "";
    assert.match(summary, /Done: 28 · Failed: 2 · Skipped: 1 · Cancelled: 0/);
    for (const [line, reason] of bad) {
      const row = summary.split("\n").find((l) => l.startsWith(`Line ${line}`));
      assert.ok(row, `line ${line} is reported:\n${summary}`);
      assert.match(row, reason);
    }
    assert.equal(toAlice.at(-1)?.text, summary, "the summary comes after the files");
    for (const channel of p.channels) {
      const copies = server.messages({ chat: channel.id }).filter((m) => m.text.includes("Batch finished"));
      assert.equal(copies.length, 1, `${channel.title}: the summary once`);
      assert.ok(copies[0]?.text.endsWith(summary), "the same summary under the user's line");
    }
    assert.deepEqual(await readdir(p.workRoot), [], "no work files left");
  });
});
