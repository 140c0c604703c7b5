/**
 * A link delivered before with the same options is sent again by reference: no request to the site, no part
 * uploaded. Other options or `fresh` fetch it again; a document Telegram no longer has is fetched and uploaded.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { getJob } from "../../src/db/jobs.js";
import { makeClip } from "../support/media-fixtures.js";
import { pipelineWorld } from "./pipeline-world.js";

const sha256 = async (file: string) =>
  createHash("sha256")
    .update(await readFile(file))
    .digest("hex");

describe("dedupe by link", () => {
  it("re-sends a link delivered with the same options by reference, with no download and no upload", async (t) => {
    const p = await pipelineWorld(t);
    const clip = await makeClip(join(p.files, "clip.mp4"), { seconds: 2, faststart: true });
    const url = `${p.site.origin}/clip.mp4`;
    const [first] = await p.enqueue([url], { quality: "720" });
    await p.waitSettled(1);
    assert.equal((await getJob(p.db, first?.id ?? 0))?.status, "done");
    const requests = p.site.requests.length;
    const parts = p.saved();
    const [again] = await p.enqueue([url], { quality: "720", fresh: false });
    await p.waitSettled(2);
    const repeat = await getJob(p.db, again?.id ?? 0);
    assert.equal(repeat?.status, "done", repeat?.error_message ?? "");
    assert.equal(p.site.requests.length, requests, "the site was not asked again");
    assert.equal(p.saved(), parts, "no part uploaded");
    assert.equal(repeat?.work_dir, null, "no work folder was made");
    const inChat = p.world.srv.server.messages(p.chat).filter((m) => m.media);
    assert.deepEqual(
      inChat.map((m) => m.media?.sha256),
      [await sha256(clip), await sha256(clip)],
    );
    const video = inChat[1]?.media?.attributes.find((a) => a.type === "video");
    assert.equal(video?.type, "video", "still a video, with its attributes");
    assert.equal(inChat[1]?.media?.hasThumb, true);
    const inLog = p.world.srv.server.messages({ chat: p.channels[0]?.id ?? 0 }).filter((m) => m.media);
    assert.equal(inLog.length, 2, "the log channel got its copy too");
  });

  it("fetches again for other options, for `fresh`, and when Telegram no longer has the stored document", async (t) => {
    const p = await pipelineWorld(t);
    await makeClip(join(p.files, "clip.mp4"), { seconds: 2, faststart: true });
    const url = `${p.site.origin}/clip.mp4`;
    const fetches = () => p.site.requests.filter((r) => r === "/clip.mp4").length;
    await p.enqueue([url]);
    await p.waitSettled(1);
    const afterFirst = fetches();
    await p.enqueue([url], { asDocument: true });
    await p.waitSettled(2);
    assert.ok(fetches() > afterFirst, "as a document is another delivery: fetched again");
    const afterOptions = fetches();
    const parts = p.saved();
    await p.enqueue([url], { fresh: true });
    await p.waitSettled(3);
    assert.ok(fetches() > afterOptions, "fresh fetches again");
    assert.ok(p.saved() > parts, "and uploads again");
    // Telegram forgets every stored document: the cached one is refused, so the link is fetched and uploaded.
    p.world.srv.server.world.documents.clear();
    const afterFresh = fetches();
    const partsBefore = p.saved();
    const [last] = await p.enqueue([url]);
    await p.waitSettled(4);
    const job = await getJob(p.db, last?.id ?? 0);
    assert.equal(job?.status, "done", job?.error_message ?? "");
    assert.ok(fetches() > afterFresh, "fetched again");
    assert.ok(p.saved() > partsBefore, "uploaded again");
    assert.equal(p.world.srv.server.messages(p.chat).filter((m) => m.media).length, 4);
  });
});
