/**
 * Playlist links end to end: real yt-dlp reads a page with several videos on 127.0.0.1 (its generic extractor makes
 * a playlist of them); the bot replies with the count and the bound, and only a confirm queues them, as one batch.
 * Cancel, a confirm that comes too late, another user's press and the owner's playlists switch are refused.
 */
import assert from "node:assert/strict";
import { copyFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { setFeature } from "../../src/bot/features.js";
import { makeClip, makeTempDir, serveDirectory } from "../support/media-fixtures.js";
import type { MessageView } from "../support/telegram-server/server.js";
import { type BotWorld, type Person, startBotWorld, WAIT_MS } from "./support/bot-world.js";

let site: string;

function question(w: BotWorld, p: Person, afterId: number): Promise<MessageView> {
  return w.srv.server.waitForMessage(
    w.chat(p),
    (m) => m.fromId === w.botUser.id && m.id > afterId && (m.buttons?.length ?? 0) > 0,
    WAIT_MS,
  );
}

function editedTo(w: BotWorld, p: Person, id: number, pattern: RegExp): Promise<MessageView> {
  return w.srv.server.waitForMessage(w.chat(p), (m) => m.id === id && pattern.test(m.text), WAIT_MS);
}

async function serve(t: Parameters<typeof startBotWorld>[0]) {
  const server = await serveDirectory(site);
  t.after(() => server.close());
  return server;
}

describe("playlist links", () => {
  before(async () => {
    site = (await makeTempDir("medusa-playlist-")).path;
    const clip = await makeClip(join(site, "a.mp4"), { seconds: 1 });
    await copyFile(clip, join(site, "b.mp4"));
    await copyFile(clip, join(site, "c.mp4"));
    const page = (title: string, files: string[]) =>
      `<html><head><title>${title}</title></head><body>${files.map((f) => `<video src="${f}"></video>`).join("")}</body></html>`;
    await writeFile(join(site, "three.html"), page("Three talks", ["a.mp4", "b.mp4", "c.mp4"]));
    await writeFile(join(site, "two.html"), page("Two talks", ["a.mp4", "b.mp4"]));
  });

  it("says the count and the bound, and a confirm queues the first items as one batch", async (t) => {
    const w = await startBotWorld(t, { prompts: { maxPlaylistItems: 2 } });
    const server = await serve(t);
    const sent = w.send(w.user, `${server.origin}/three.html`);
    const q = await question(w, w.user, sent.id);
    assert.match(
      q.text,
      /^Three talks\nA playlist of 3 videos; at most 2 are taken from one playlist, so the first 2\. Queue them as a batch\?$/,
    );
    assert.deepEqual(
      q.buttons!.flat().map((b) => b.text),
      ["✅ Queue 2", "✖ Cancel"],
    );
    const foreign = await w.srv.server.pressButton(
      w.admin.id,
      w.chat(w.user),
      q.id,
      { text: "✅ Queue 2" },
      WAIT_MS,
    );
    assert.equal(foreign.message, "This button belongs to someone else.");
    const pressed = await w.srv.server.pressButton(
      w.user.id,
      w.chat(w.user),
      q.id,
      { text: "✅ Queue 2" },
      WAIT_MS,
    );
    assert.equal(pressed.message, null);
    await editedTo(w, w.user, q.id, /Three talks/);
    const jobs = await w.database.db.selectFrom("jobs").selectAll().orderBy("id").execute();
    assert.deepEqual(
      jobs.map((j) => j.source_url),
      [`${server.origin}/a.mp4`, `${server.origin}/b.mp4`],
    );
    assert.ok(jobs[0]!.batch_id !== null && jobs[0]!.batch_id === jobs[1]!.batch_id, "one batch");
    const batch = await w.database.db.selectFrom("batches").selectAll().executeTakeFirstOrThrow();
    assert.equal(batch.total, 2);
    assert.equal(batch.source_name, "Three talks");
    const again = await w.srv.server.pressButton(
      w.user.id,
      w.chat(w.user),
      q.id,
      { data: q.buttons![0]![0]!.data!, forged: true },
      WAIT_MS,
    );
    assert.match(again.message ?? "", /^Already started/);
    assert.equal((await w.database.db.selectFrom("jobs").select("id").execute()).length, 2);
  });

  it("queues nothing on Cancel, nor when the confirm comes too late", async (t) => {
    const w = await startBotWorld(t, { prompts: { playlistTimeoutMs: 1500 } });
    const server = await serve(t);
    const first = w.send(w.user, `${server.origin}/two.html`);
    const q1 = await question(w, w.user, first.id);
    assert.match(q1.text, /^Two talks\nA playlist of 2 videos\. Queue them all as a batch\?$/);
    await w.srv.server.pressButton(w.user.id, w.chat(w.user), q1.id, { text: "✖ Cancel" }, WAIT_MS);
    await editedTo(w, w.user, q1.id, /^Cancelled: nothing was queued\.$/);

    const second = w.send(w.user, `${server.origin}/two.html`);
    const q2 = await question(w, w.user, second.id);
    await editedTo(w, w.user, q2.id, /^Not confirmed in time: nothing was queued\./);
    const late = await w.srv.server.pressButton(
      w.user.id,
      w.chat(w.user),
      q2.id,
      { data: q2.buttons![0]![0]!.data!, forged: true },
      WAIT_MS,
    );
    assert.equal(late.message, "This question has expired; send the link again.");
    assert.equal((await w.database.db.selectFrom("jobs").select("id").execute()).length, 0);
  });

  it("refuses a playlist while the owner's playlists switch is off", async (t) => {
    const w = await startBotWorld(t, { prompts: {} });
    const server = await serve(t);
    await setFeature(w.database.db, "playlists", false, w.owner.id);
    const reply = await w.say(w.user, `${server.origin}/two.html`);
    assert.match(reply.text, /playlists are turned off on this bot/);
    assert.equal((await w.database.db.selectFrom("jobs").select("id").execute()).length, 0);
  });
});
