/**
 * A file over the account's limit is split and its parts go out in order as albums (at most 10 of one kind), each
 * captioned "part i/n", to the user's chat and, by reference, to the log channel. A crash between an album's send
 * and its record sends it again with the same random_ids, which Telegram drops: nothing is posted twice.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { listDeliveries } from "../../src/db/deliveries.js";
import { getJob } from "../../src/db/jobs.js";
import { albumGroups } from "../../src/jobs/album.js";
import { makeClip, makeRandomFile } from "../support/media-fixtures.js";
import { pipelineWorld } from "./support/pipeline-world.js";

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

describe("split parts as albums", () => {
  it("groups parts in order: at most 10 an album, a change of kind starts a new one", () => {
    assert.deepEqual(albumGroups(Array(11).fill("document")), [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [11]]);
    assert.deepEqual(albumGroups(["video", "video", "document", "audio", "audio"]), [[1, 2], [3], [4, 5]]);
    assert.deepEqual(albumGroups(["video"]), [[1]]);
  });

  it("sends a video over the limit as one album of playable parts, part i/n each, and the log gets it too", async (t) => {
    const p = await pipelineWorld(t, { fileLimit: 300_000 });
    await makeClip(join(p.files, "clip.mp4"), {
      seconds: 8,
      width: 320,
      height: 240,
      videoBitrate: "1M",
      faststart: true,
    });
    const [job] = await p.enqueue([`${p.site.origin}/clip.mp4`]);
    await p.waitDone(1);
    const done = await getJob(p.db, job?.id ?? 0);
    assert.equal(done?.status, "done", done?.error_message ?? "");
    const sent = p.inChat();
    const n = sent.length;
    assert.ok(n >= 2 && n <= 10, `${n} parts`);
    const grouped = new Set(sent.map((m) => m.groupedId));
    assert.equal(grouped.size, 1, "one album");
    assert.notEqual(sent[0]?.groupedId, null);
    let seconds = 0;
    for (const [i, m] of sent.entries()) {
      assert.match(m.text, new RegExp(`part ${i + 1}/${n}`), "the caption says which part");
      assert.equal(m.media?.name, `clip.part${i + 1}.mp4`);
      const video = m.media?.attributes.find((a) => a.type === "video") as
        | { duration: number; w: number; h: number; supportsStreaming: boolean }
        | undefined;
      assert.ok(video, "a video, not a file");
      assert.equal(video.w, 320);
      assert.equal(video.h, 240);
      assert.equal(video.supportsStreaming, true);
      assert.equal(m.media?.hasThumb, true);
      seconds += video.duration;
    }
    assert.ok(Math.abs(seconds - 8) <= 1, `the parts last ${seconds} s in all`);
    const logged = p.inLog();
    assert.equal(logged.length, n);
    assert.equal(new Set(logged.map((m) => m.groupedId)).size, 1, "the log's copy is one album too");
    assert.notEqual(logged[0]?.groupedId, sent[0]?.groupedId);
    assert.deepEqual(
      logged.map((m) => m.media?.sha256),
      sent.map((m) => m.media?.sha256),
    );
    for (const [i, m] of logged.entries()) assert.match(m.text, new RegExp(`part ${i + 1}/${n}`));
    assert.equal(p.world.srv.server.documents().length, n, "each part uploaded once, the log's by reference");
  });

  it("sends 11 byte parts as an album of 10 documents and one more, byte for byte in order", async (t) => {
    const p = await pipelineWorld(t, { fileLimit: 100_000 });
    const file = await makeRandomFile(join(p.files, "data.bin"), 1_050_000);
    const bytes = await readFile(file);
    const [job] = await p.enqueue([`${p.site.origin}/data.bin`]);
    await p.waitDone(1);
    const done = await getJob(p.db, job?.id ?? 0);
    assert.equal(done?.status, "done", done?.error_message ?? "");
    for (const messages of [p.inChat(), p.inLog()]) {
      assert.equal(messages.length, 11);
      const first = messages[0]?.groupedId;
      assert.notEqual(first, null);
      assert.deepEqual(
        messages.map((m) => m.groupedId),
        [...Array(10).fill(first), null],
        "10 in an album, the 11th alone",
      );
      assert.deepEqual(
        messages.map((m) => m.media?.sha256),
        Array.from({ length: 11 }, (_, i) => sha256(bytes.subarray(i * 100_000, (i + 1) * 100_000))),
      );
      for (const [i, m] of messages.entries()) {
        assert.match(m.text, new RegExp(`part ${i + 1}/11`));
        assert.equal(
          m.media?.attributes.some((a) => a.type === "video"),
          false,
        );
      }
    }
    assert.equal(p.inChat()[0]?.media?.name, "data.part01.bin");
  });

  it("after a crash between an album's send and its record, sends it again and Telegram drops it", async (t) => {
    let crashed = false;
    const p = await pipelineWorld(t, {
      fileLimit: 100_000,
      retry: { maxAttempts: 3, baseMs: 10, maxMs: 20 },
      // What a kill leaves: the album posted, its delivery rows (random_ids) written, no message ids recorded.
      crashPoint: (name) => {
        if (name !== "deliver.sent" || crashed) return;
        crashed = true;
        throw new Error("crash between the album's send and its record");
      },
    });
    const file = await makeRandomFile(join(p.files, "data.bin"), 350_000);
    const bytes = await readFile(file);
    const [job] = await p.enqueue([`${p.site.origin}/data.bin`]);
    await p.waitDone(1);
    const done = await getJob(p.db, job?.id ?? 0);
    assert.equal(done?.status, "done", done?.error_message ?? "");
    assert.equal(crashed, true);
    assert.equal(done?.attempts, 2, "a second attempt sent again");
    const expected = Array.from({ length: 4 }, (_, i) =>
      sha256(bytes.subarray(i * 100_000, (i + 1) * 100_000)),
    );
    assert.deepEqual(
      p.inChat().map((m) => m.media?.sha256),
      expected,
      "one album in the chat, not two",
    );
    assert.deepEqual(
      p.inLog().map((m) => m.media?.sha256),
      expected,
    );
    assert.ok(
      (p.world.srv.server.counters().errors.RANDOM_ID_DUPLICATE ?? 0) >= 1,
      "the re-send was dropped",
    );
    const deliveries = await listDeliveries(p.db, job?.id ?? 0);
    assert.equal(deliveries.length, 8);
    assert.ok(
      deliveries.every((d) => d.message_id !== null),
      "every delivery recorded",
    );
  });
});
