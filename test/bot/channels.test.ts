/**
 * Destination and log channels from the chat: the bot resolves each reference through the local Telegram server and
 * checks its right to post before storing anything; LOG_CHANNELS from the configuration are shown and never removed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { listChats } from "../../src/db/chats.js";
import { listEvents } from "../../src/db/events.js";
import { startBotWorld } from "./support/bot-world.js";

describe("channels", () => {
  it("/addchannel adds a channel where the bot may post and refuses the others with the reason", async (t) => {
    const w = await startBotWorld(t);
    const srv = w.srv.server;
    const good = srv.createChat({
      kind: "channel",
      title: "Uploads",
      username: "uploads_here",
      creatorId: w.owner.id,
      admins: [w.botUser.id],
    });
    srv.createChat({ kind: "channel", title: "Closed", username: "closed_one", creatorId: w.owner.id });
    const member = srv.createChat({
      kind: "channel",
      title: "Reader",
      username: "reader_only",
      creatorId: w.owner.id,
    });
    srv.addMember(member.id, w.botUser.id, false);

    assert.equal(
      (await w.say(w.admin, "/addchannel")).text,
      "Write /addchannel @channel, /addchannel -1001234567890 or a t.me link.",
    );
    assert.equal(
      (await w.say(w.admin, "/addchannel @closed_one")).text,
      "I am not a member of Closed. Add me as an admin there, then try again.",
    );
    assert.equal(
      (await w.say(w.admin, "/addchannel https://t.me/reader_only")).text,
      "I cannot post in Reader: make me an admin with the right to post messages, then try again.",
    );
    assert.equal(
      (await w.say(w.admin, "/addchannel @no_such_channel")).text,
      "I cannot find the chat @no_such_channel. Check the name, or add me to it first.",
    );
    assert.equal(
      (await w.say(w.admin, "/addchannel @ursula")).text,
      "@ursula is a person, not a channel or group.",
    );
    assert.deepEqual(await listChats(w.database.db), [], "nothing stored on a refusal");

    const id = Number(good.peerId);
    assert.equal(
      (await w.say(w.admin, "/addchannel t.me/uploads_here")).text,
      `Added Uploads (@uploads_here, ${id}): users may send files there now.`,
    );
    assert.equal(
      (await w.say(w.admin, `/addchannel ${id}`)).text,
      `Uploads (@uploads_here, ${id}) is a destination already.`,
    );
    assert.equal(
      (await w.say(w.admin, "/channels")).text,
      `Destination channels · 1\n• Uploads (@uploads_here, ${id})`,
    );

    // A user may now send a batch there.
    const doc = await w.sendDocument(w.user, "one.txt", "https://example.com/y.mp4\n");
    await w.replyAfter(w.chat(w.user), doc.id);
    assert.match((await w.say(w.user, "/batch @uploads_here", doc.id)).text, /^Batch #\d+: 1 links/);

    assert.equal(
      (await w.say(w.admin, "/removechannel @nope_chan")).text,
      "@nope_chan is not one of the destination channels. /channels lists them.",
    );
    assert.equal(
      (await w.say(w.admin, "/removechannel @uploads_here")).text,
      `Removed Uploads (@uploads_here, ${id}) from the destinations.`,
    );
    assert.equal(
      (await w.say(w.admin, "/channels")).text,
      "No destination channels yet. Add one with /addchannel @channel.",
    );
    const events = (await listEvents(w.database.db, { category: "admin" })).map((e) => [
      e.action,
      e.actor_id,
      e.subject,
    ]);
    assert.deepEqual(events, [
      ["channel.removed", w.admin.id, String(id)],
      ["channel.added", w.admin.id, String(id)],
    ]);
  });

  it("/logchannels shows where each log channel comes from; configured ones cannot be removed; the other names work", async (t) => {
    const w = await startBotWorld(t);
    const srv = w.srv.server;
    const ops = srv.createChat({
      kind: "channel",
      title: "Ops log",
      username: "ops_log",
      creatorId: w.owner.id,
      admins: [w.botUser.id],
    });
    const archive = srv.createChat({
      kind: "channel",
      title: "Archive",
      username: "archive_log",
      creatorId: w.owner.id,
      admins: [w.botUser.id],
    });
    srv.createChat({ kind: "channel", title: "Closed log", username: "closed_log", creatorId: w.owner.id });
    const opsId = Number(ops.peerId);
    const archiveId = Number(archive.peerId);
    w.host.logChannels = [String(opsId), "-1009999999999"];

    assert.equal(
      (await w.say(w.owner, "/addlog @closed_log")).text,
      "I am not a member of Closed log. Add me as an admin there, then try again.",
    );
    assert.equal((await w.say(w.owner, "/addlog @ops_log")).text, "Ops log is in LOG_CHANNELS already.");
    assert.equal(
      (await w.say(w.owner, "/add_log_channel @archive_log")).text,
      `Added Archive (@archive_log, ${archiveId}): it gets a copy of every file from now on (within a minute).`,
    );
    assert.equal(
      (await w.say(w.admin, "/log_channels")).text,
      [
        "Log channels · 3",
        `• Ops log (@ops_log, ${opsId}) · from the configuration (LOG_CHANNELS)`,
        "• -1009999999999 · from the configuration (LOG_CHANNELS), not reachable now",
        `• Archive (@archive_log, ${archiveId}) · added here`,
      ].join("\n"),
    );
    assert.equal(
      (await w.say(w.admin, "/add_log_channel @archive_log")).text,
      "/addlog is not available to you. /help lists yours.",
    );
    const removeText = (who: string) =>
      `${who} comes from the configuration (LOG_CHANNELS) and cannot be removed from the chat. Remove it from LOG_CHANNELS and restart.`;
    assert.equal((await w.say(w.owner, `/removelog ${opsId}`)).text, removeText(String(opsId)));
    assert.equal((await w.say(w.owner, "/remove_log_channel @ops_log")).text, removeText("@ops_log"));
    assert.equal(
      (await w.say(w.owner, "/addchannel @archive_log")).text,
      `Archive (@archive_log, ${archiveId}) is a log channel. Remove it with /removelog first.`,
    );
    assert.equal(
      (await w.say(w.owner, "/remove_log_channel @archive_log")).text,
      `Removed Archive (@archive_log, ${archiveId}): it gets no more copies (within a minute).`,
    );
    assert.deepEqual(await listChats(w.database.db, "log"), []);
    assert.equal(
      (await w.say(w.owner, "/removelog @archive_log")).text,
      "@archive_log is not a log channel added here. /logchannels lists them.",
    );

    // /help names each command once, by its main name.
    const help = (await w.say(w.owner, "/help")).text;
    assert.match(help, /^\/addlog — add a log channel/m);
    assert.doesNotMatch(help, /add_log_channel|log_channels|remove_log_channel/);
    const actions = (await listEvents(w.database.db, { category: "admin" })).map((e) => e.action).reverse();
    assert.deepEqual(actions, ["log.added", "log.removed"]);
  });
});
