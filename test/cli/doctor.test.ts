/** `medusa doctor`'s Telegram rows against the local Telegram server, and its verdict on an old yt-dlp. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Check, formatChecks, runChecks, ytdlpAge } from "../../src/cli/doctor.js";
import { parseConfig } from "../../src/config.js";
import { addChat } from "../../src/db/chats.js";
import { createLogger } from "../../src/logger.js";
import { startGatewayWorld } from "../telegram/support/gateway-world.js";

const log = createLogger({ level: "silent" });

const row = (checks: Check[], name: string) => checks.find((c) => c.name === name);

describe("medusa doctor", () => {
  it("logs the bot in and tells, per log channel, whether it may post there and what to do if not", async (t) => {
    const world = await startGatewayWorld(t);
    const postable = world.srv.server.createChat({
      kind: "channel",
      title: "Log",
      username: "log_channel",
      creatorId: world.alice.id,
      admins: [world.bot.id],
    });
    const closed = world.srv.server.createChat({
      kind: "channel",
      title: "Closed",
      username: "closed_channel",
      creatorId: world.alice.id,
    });
    // The running bot learnt both channels earlier (their access hashes are in the database).
    const gateway = await world.open();
    await gateway.resolveChat("@log_channel");
    await gateway.resolveChat("@closed_channel");
    await gateway.stop();
    await addChat(world.database.db, {
      id: Number(closed.peerId),
      kind: "channel",
      purpose: "log",
      title: "Closed",
      username: null,
    });

    const config = {
      ...parseConfig({ DATA_DIR: world.dir, LOG_CHANNELS: `${postable.peerId},-1009999999999` }),
      telegram: world.config,
    };
    const checks = await runChecks(config, log);
    assert.match(row(checks, "telegram")?.detail ?? "", /^127\.0\.0\.1:\d+ answers \(\d+ ms\)$/);
    assert.deepEqual(row(checks, "bot"), {
      name: "bot",
      ok: true,
      detail: `logged in as @medusa_bot (id ${world.bot.id})`,
    });
    assert.deepEqual(row(checks, `log ${postable.peerId}`), {
      name: `log ${postable.peerId}`,
      ok: true,
      detail: "@medusa_bot may post",
    });
    assert.deepEqual(row(checks, `log ${closed.peerId}`), {
      name: `log ${closed.peerId}`,
      ok: false,
      detail: "@medusa_bot is not a member: add it as an admin who may post",
    });
    assert.equal(row(checks, "log -1009999999999")?.ok, false);
    assert.match(row(checks, "log -1009999999999")?.detail ?? "", /has not seen this chat/);
    assert.match(formatChecks(checks), /^FAIL {2}log -1009999999999 +@medusa_bot has not seen/m);
  });

  it("says when Telegram rejects the bot token, and when the server cannot be reached", async (t) => {
    const world = await startGatewayWorld(t);
    const base = parseConfig({ DATA_DIR: world.dir });
    const wrong = await runChecks(
      { ...base, telegram: { ...world.config, botToken: "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" } },
      log,
    );
    assert.equal(row(wrong, "telegram")?.ok, true);
    assert.equal(row(wrong, "bot")?.ok, false);
    assert.match(
      row(wrong, "bot")?.detail ?? "",
      /Telegram rejected BOT_TOKEN\. Copy the token again from @BotFather/,
    );

    const server = world.config.server;
    assert.ok(server);
    await world.srv.server.stopListening();
    const down = await runChecks({ ...base, telegram: world.config }, log);
    assert.deepEqual(row(down, "telegram"), {
      name: "telegram",
      ok: false,
      detail: `127.0.0.1:${server.port} cannot be reached: ECONNREFUSED`,
    });
    assert.equal(row(down, "bot"), undefined, "no login is tried when the server does not answer");
  });

  it("warns, without failing, when yt-dlp is older than 90 days", () => {
    const now = new Date("2026-12-01T00:00:00Z");
    const old = ytdlpAge({ name: "yt-dlp", ok: true, detail: "2023.03.04 (yt-dlp)" }, now);
    assert.equal(old.ok, true);
    assert.equal(old.warn, true);
    assert.match(old.detail, /1368 days old.*yt-dlp -U/);
    assert.match(formatChecks([old]), /^warn {2}yt-dlp/);
    const fresh = ytdlpAge({ name: "yt-dlp", ok: true, detail: "2026.11.20 (yt-dlp)" }, now);
    assert.equal(fresh.warn, undefined);
    const missing = ytdlpAge({ name: "yt-dlp", ok: false, detail: "not found: yt-dlp" }, now);
    assert.equal(missing.ok, false);
  });
});
