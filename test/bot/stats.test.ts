/** /stats for admins: the numbers match the rows made, and the chart decodes as a PNG of the size it states. */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { crc32, inflateSync } from "node:zlib";
import type { Db } from "../../src/db/database.js";
import type { NewJob } from "../../src/db/schema.js";
import { startBotWorld } from "./support/bot-world.js";

const DAY = 86_400_000;
const MIB = 1024 * 1024;

async function job(db: Db, ageMs: number, row: Partial<NewJob> & Pick<NewJob, "user_id">) {
  await db
    .insertInto("jobs")
    .values({
      request_chat_id: row.user_id,
      destination_chat_id: row.user_id,
      source_url: "https://example.com/f",
      created_at: new Date(Date.now() - ageMs).toISOString(),
      ...row,
    })
    .execute();
}

/** Width, height and RGB rows of a PNG, checking its signature, chunk CRCs and header as a decoder does. */
function decodePng(png: Buffer): { width: number; height: number; rows: Buffer[] } {
  assert.deepEqual(
    [...png.subarray(0, 8)],
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    "PNG signature",
  );
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  let ended = false;
  while (at < png.length) {
    const length = png.readUInt32BE(at);
    const type = png.toString("ascii", at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    assert.equal(
      png.readUInt32BE(at + 8 + length),
      crc32(png.subarray(at + 4, at + 8 + length)),
      `${type} CRC`,
    );
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.deepEqual([...data.subarray(8)], [8, 2, 0, 0, 0], "8-bit RGB, not interlaced");
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") ended = true;
    at += 12 + length;
  }
  assert.ok(ended, "IEND");
  const raw = inflateSync(Buffer.concat(idat));
  assert.equal(raw.length, height * (1 + width * 3));
  const rows = Array.from({ length: height }, (_, y) => {
    assert.equal(raw[y * (1 + width * 3)], 0, "filter type 0");
    return raw.subarray(y * (1 + width * 3) + 1, (y + 1) * (1 + width * 3));
  });
  return { width, height, rows };
}

describe("/stats", () => {
  it("gives admins jobs, success rate, bytes, speeds, top users and errors per period, and a daily chart", async (t) => {
    const w = await startBotWorld(t);
    const db = w.database.db;
    for (const p of [w.user, w.russian, w.admin]) await w.say(p, "/start"); // their usernames are known
    const [u, r, a] = [w.user.id, w.russian.id, w.admin.id];
    const done = (bytes: number, down: number | null, up: number | null) => ({
      status: "done" as const,
      bytes_total: bytes,
      download_ms: down,
      upload_ms: up,
    });
    await job(db, 5, { user_id: u, ...done(4 * MIB, 2000, 1000) });
    await job(db, 5, { user_id: u, ...done(2 * MIB, 1000, 1000) });
    await job(db, 5, { user_id: r, status: "failed", error_code: "HTTP_404" });
    await job(db, 5, { user_id: r, status: "cancelled" });
    await job(db, 3 * DAY, { user_id: u, ...done(6 * MIB, 3000, 2000) });
    await job(db, 3 * DAY, { user_id: a, status: "failed", error_code: "HTTP_404" });
    await job(db, 3 * DAY, { user_id: a, status: "failed", error_code: "TOO_LARGE" });
    await job(db, 20 * DAY, { user_id: r, ...done(8 * MIB, null, null) });

    const sent = w.send(w.admin, "/stats");
    const reply = await w.replyAfter(w.chat(w.admin), sent.id);
    assert.equal(
      reply.text,
      [
        "Statistics",
        "",
        "Today (UTC)",
        "Jobs: 4 (done 2, failed 1, cancelled 1)",
        "Success: 66.7%",
        "Delivered: 6.0 MiB",
        "Download: 2.0 MiB/s · upload: 3.0 MiB/s",
        "Top users: @ursula 2 · @boris 2",
        "Top errors: HTTP_404 1",
        "",
        "Last 7 days",
        "Jobs: 7 (done 3, failed 3, cancelled 1)",
        "Success: 50.0%",
        "Delivered: 12.0 MiB",
        "Download: 2.0 MiB/s · upload: 3.0 MiB/s",
        "Top users: @ursula 3 · @adam 2 · @boris 2",
        "Top errors: HTTP_404 2 · TOO_LARGE 1",
        "",
        "In all",
        "Jobs: 8 (done 4, failed 3, cancelled 1)",
        "Success: 57.1%",
        "Delivered: 20.0 MiB",
        "Download: 2.0 MiB/s · upload: 3.0 MiB/s",
        "Top users: @ursula 3 · @boris 3 · @adam 2",
        "Top errors: HTTP_404 2 · TOO_LARGE 1",
      ].join("\n"),
    );

    const chart = await w.srv.server.waitForMessage(
      w.chat(w.admin),
      (m) => m.fromId === w.botUser.id && m.media !== null,
      30_000,
    );
    const stated = /\. (\d+)×(\d+) px\.$/.exec(chart.text);
    assert.ok(stated, chart.text);
    assert.match(
      chart.text,
      /^Delivered per day, \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d \(14 days; tallest bar 6\.0 MiB\)\./,
    );
    assert.equal(chart.media?.mimeType, "image/png");
    const doc = [...w.srv.server.world.documents.values()].find((d) => d.sha256 === chart.media?.sha256);
    assert.ok(doc);
    const png = decodePng(await readFile(doc.path));
    assert.deepEqual([png.width, png.height], [Number(stated[1]), Number(stated[2])]);
    // Two days with bytes, equally tall: two runs of bar-coloured pixels just above the axis, the same height.
    const isBar = (row: Buffer, x: number) =>
      row[x * 3] === 52 && row[x * 3 + 1] === 120 && row[x * 3 + 2] === 198;
    const base = png.rows[png.height - 11]!;
    const runs: number[] = [];
    for (let x = 0; x < png.width; x++) if (isBar(base, x) && !isBar(base, x - 1)) runs.push(x);
    assert.equal(runs.length, 2, "one bar per day with bytes");
    const heightAt = (x: number) => png.rows.filter((row) => isBar(row, x)).length;
    assert.equal(heightAt(runs[0]!), heightAt(runs[1]!));
    assert.ok(heightAt(runs[0]!) > 150, "the tallest day fills the plot");

    assert.match((await w.say(w.owner, "/stats")).text, /^Statistics\n\nToday \(UTC\)\nJobs: 4 /);
    assert.equal((await w.say(w.user, "/stats")).text, "/stats is not available to you. /help lists yours.");
    assert.match((await w.say(w.stranger, "/stats")).text, /^You do not have access to this bot yet\./);
  });

  it("says so when there is nothing yet, without a chart", async (t) => {
    const w = await startBotWorld(t);
    const sent = w.send(w.admin, "/stats");
    const reply = await w.replyAfter(w.chat(w.admin), sent.id);
    assert.match(
      reply.text,
      /^Statistics\n\nToday \(UTC\)\nJobs: 0 \(done 0, failed 0, cancelled 0\)\nSuccess: —\nDelivered: 0 B\nDownload: — · upload: —\nTop users: —\nTop errors: —\n/,
    );
    await w.barrier();
    assert.equal(w.botMessages(w.chat(w.admin), sent.id).filter((m) => m.media).length, 0);
  });
});
