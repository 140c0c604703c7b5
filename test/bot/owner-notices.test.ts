/**
 * A log channel that refuses every copy is skipped, and the owner hears of it once: not with each file, and not
 * again after a restart (the notice is remembered in the events table).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createOwnerNotices } from "../../src/bot/owner-notices.js";
import { getJob } from "../../src/db/jobs.js";
import { createLogger } from "../../src/logger.js";
import { pipelineWorld } from "../jobs/support/pipeline-world.js";
import { makeRandomFile } from "../support/media-fixtures.js";

describe("owner notices", () => {
  it("tells the owner once that a log channel refuses copies, while every file is still delivered", async (t) => {
    let closedId = 0;
    let refusals = 0;
    const p = await pipelineWorld(t, {
      steps: async (world) => {
        // A log channel the bot was never made admin of: every post there is refused.
        world.srv.server.createChat({
          kind: "channel",
          title: "Old log",
          username: "old_log",
          creatorId: world.alice.id,
          members: [world.bot.id],
        });
        const gateway = await world.open();
        closedId = (await gateway.resolveChat("@old_log")).id;
        const logChannel = await gateway.resolveChat("@medusa_log");
        // Alice owns the bot here: the notices go to her chat.
        const notices = createOwnerNotices({
          db: world.database.db,
          gateway,
          ownerId: world.alice.id,
          log: createLogger({ level: "silent" }),
        });
        return {
          logChats: async () => [logChannel.id, closedId],
          onLogRefused: (chatId: number, code: string) => {
            refusals++;
            void notices.once(`log-refused:${chatId}:${code}`, "notice.logRefused", { chat: chatId, code });
          },
        };
      },
    });
    await makeRandomFile(join(p.files, "a.bin"), 300_000);
    await makeRandomFile(join(p.files, "b.bin"), 400_000);
    const jobs = await p.enqueue([`${p.site.origin}/a.bin`, `${p.site.origin}/b.bin`]);
    await p.waitDone(2);
    for (const job of jobs) assert.equal((await getJob(p.db, job.id))?.status, "done");
    assert.equal(p.inChat().length, 2, "both files reached the user");
    assert.equal(p.inLog().length, 2, "and the working log channel");
    assert.equal(refusals, 2, "the closed channel refused both copies");

    const notice = await p.world.srv.server.waitForMessage(
      p.chat,
      (m) => m.text.includes("refused a copy"),
      30_000,
    );
    assert.match(
      notice.text,
      new RegExp(`log channel ${closedId} refused a copy \\(CHAT_WRITE_FORBIDDEN\\)`),
    );
    assert.match(notice.text, new RegExp(`/removelog ${closedId}`));
    const notices = p.world.srv.server.messages(p.chat).filter((m) => m.text.includes("refused a copy"));
    assert.equal(notices.length, 1, "one notice for two refusals");
    const rows = await p.db.selectFrom("events").selectAll().where("action", "=", "owner.notice").execute();
    assert.equal(rows.length, 1, "remembered, so a restart says nothing more");
  });
});
