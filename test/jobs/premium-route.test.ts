/**
 * Hybrid accounts with small limits standing in for Telegram's (bot 8 MiB for 2000 MiB, Premium 16 MiB for
 * 4000 MiB): a file over the bot's limit goes whole through the Premium user session where it may post, copies to
 * the log channel through the same session by reference; where it may not post, the bot splits the file; a file
 * over the Premium limit is split to fit it.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { getJob } from "../../src/db/jobs.js";
import { createLogger } from "../../src/logger.js";
import type { TelegramGateway } from "../../src/telegram/gateway.js";
import { openPremiumGateway } from "../../src/telegram/user-session.js";
import { makeRandomFile } from "../support/media-fixtures.js";
import { pipelineWorld } from "./support/pipeline-world.js";

const MIB = 1024 * 1024;
const BOT_LIMIT = 8 * MIB;
const PREMIUM_LIMIT = 16 * MIB;
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** A Premium operator account next to the bot, admin of a destination channel and of the log channel. */
async function hybridWorld(t: TestContext) {
  let operator: { id: number } | undefined;
  let destination: { id: number; peerId: string } | undefined;
  let userGateway: TelegramGateway | undefined;
  const p = await pipelineWorld(t, {
    fileLimit: BOT_LIMIT,
    steps: async (world, logChannel) => {
      const user = world.srv.server.createUser({ username: "operator", premium: true, session: true });
      operator = user;
      destination = world.srv.server.createChat({
        kind: "channel",
        title: "Uploads",
        username: "uploads",
        creatorId: world.alice.id,
        admins: [world.bot.id, user.id],
      });
      world.srv.server.addMember(logChannel.id, user.id, true);
      const opened = await openPremiumGateway(world.config, user.session ?? "", {
        db: world.database.db,
        log: createLogger({ level: "silent" }),
      });
      assert.ok(opened.ok, opened.ok ? "" : opened.reason);
      userGateway = opened.gateway;
      world.adopt(opened.gateway);
      // Nothing resolved ahead: the operator's fresh session learns its chats' access hashes from its dialogs.
      return { premium: { gateway: opened.gateway, fileLimit: PREMIUM_LIMIT } };
    },
  });
  assert.ok(operator && destination && userGateway);
  await p.gateway.resolveChat("@uploads"); // the bot was added there: it knows the channel
  const inDestination = () =>
    p.world.srv.server.messages({ chat: destination?.id ?? 0 }).filter((m) => m.media);
  return { ...p, operator, destination, inDestination, userGateway };
}

describe("hybrid accounts: bot and Premium user session", () => {
  it("sends a file over the bot's limit whole through the Premium session, the log copy too; smaller ones by the bot", async (t) => {
    const h = await hybridWorld(t);
    const dialogs = () => h.world.srv.server.counters().rpcs["messages.GetDialogs"] ?? 0;
    assert.deepEqual(await h.userGateway.canPost(Number(h.destination.peerId)), { ok: true });
    assert.equal(dialogs(), 1, "the fresh session learnt the channel from its dialogs");
    const big = await readFile(await makeRandomFile(join(h.files, "big.bin"), 12 * MIB));
    const small = await readFile(await makeRandomFile(join(h.files, "small.bin"), 5 * MIB + 3));
    const jobs = await h.enqueue(
      [`${h.site.origin}/big.bin`, `${h.site.origin}/small.bin`],
      Number(h.destination.peerId),
    );
    await h.waitDone(2);
    for (const job of jobs) {
      const row = await getJob(h.db, job.id);
      assert.equal(row?.status, "done", row?.error_message ?? "");
    }
    // The two jobs run side by side: compare by name, not by order.
    const byName = (a: { media: { name: string } | null }, b: { media: { name: string } | null }) =>
      (a.media?.name ?? "").localeCompare(b.media?.name ?? "");
    const sent = h.inDestination().sort(byName);
    assert.deepEqual(
      sent.map((m) => [m.fromId, m.media?.sha256, m.media?.name, m.groupedId]),
      [
        [h.operator.id, sha256(big), "big.bin", null],
        [h.world.bot.id, sha256(small), "small.bin", null],
      ],
      "the big file whole from the Premium account, the small one from the bot",
    );
    assert.deepEqual(
      h
        .inLog()
        .sort(byName)
        .map((m) => [m.fromId, m.media?.sha256]),
      [
        [h.operator.id, sha256(big)],
        [h.world.bot.id, sha256(small)],
      ],
      "each log copy from the account that uploaded it",
    );
    assert.equal(
      h.world.srv.server.documents().length,
      2,
      "each file uploaded once; the log copies by reference",
    );
  });

  it("splits with the bot where the Premium session may not post, and to the Premium limit above it", async (t) => {
    const h = await hybridWorld(t);
    const big = await readFile(await makeRandomFile(join(h.files, "big.bin"), 12 * MIB));
    const huge = await readFile(await makeRandomFile(join(h.files, "huge.bin"), 20 * MIB));
    // Alice's private chat with the bot: the operator's account knows no way to her.
    const [toAlice] = await h.enqueue([`${h.site.origin}/big.bin`]);
    const [toChannel] = await h.enqueue([`${h.site.origin}/huge.bin`], Number(h.destination.peerId));
    await h.waitDone(2);
    for (const job of [toAlice, toChannel]) {
      const row = await getJob(h.db, job?.id ?? 0);
      assert.equal(row?.status, "done", row?.error_message ?? "");
    }
    const slices = (data: Buffer, size: number) =>
      Array.from({ length: Math.ceil(data.length / size) }, (_, i) =>
        sha256(data.subarray(i * size, (i + 1) * size)),
      );
    const alice = h.inChat();
    assert.deepEqual(
      alice.map((m) => [m.fromId, m.media?.sha256]),
      slices(big, BOT_LIMIT).map((hash) => [h.world.bot.id, hash]),
      "split to the bot's limit and sent by the bot",
    );
    assert.equal(new Set(alice.map((m) => m.groupedId)).size, 1);
    assert.match(alice[1]?.text ?? "", /part 2\/2/);
    const channel = h.inDestination();
    assert.deepEqual(
      channel.map((m) => [m.fromId, m.media?.sha256]),
      slices(huge, PREMIUM_LIMIT).map((hash) => [h.operator.id, hash]),
      "split to the Premium limit and sent by the Premium account",
    );
    assert.notEqual(channel[0]?.groupedId, null);
    assert.equal(new Set(channel.map((m) => m.groupedId)).size, 1, "as one album");
  });
});
