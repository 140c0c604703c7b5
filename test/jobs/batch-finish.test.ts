/**
 * A batch's summary reaches the user's chat and every log channel once: when its last job ends, after a crash left
 * it half-sent (the stored random_id makes the re-send a duplicate), and when a crash came between the last job's
 * end and the batch's. A log channel that refuses is skipped and reported. Real gateway, local Telegram server.
 */
import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import { userLanguage } from "../../src/bot/language.js";
import { batchSummaryTexts } from "../../src/bot/summary-texts.js";
import { listSummaryDeliveries, planSummary } from "../../src/db/batch-summaries.js";
import { enqueueJobs } from "../../src/db/job-queue.js";
import { getBatch, transitionJob } from "../../src/db/jobs.js";
import { savePeers } from "../../src/db/peers.js";
import { updateUserSettings } from "../../src/db/settings.js";
import { touchUser } from "../../src/db/users.js";
import { createBatchFinisher } from "../../src/jobs/batch-finish.js";
import { createLogger } from "../../src/logger.js";
import { startGatewayWorld } from "../telegram/support/gateway-world.js";

const log = createLogger({ level: "silent" });

async function finishWorld(t: TestContext) {
  const world = await startGatewayWorld(t);
  const server = world.srv.server;
  const db = world.database.db;
  const gateway = await world.open();
  const channel = server.createChat({
    kind: "channel",
    title: "Log",
    creatorId: world.alice.id,
    admins: [world.bot.id],
  });
  // A channel the bot was removed from as admin: it refuses posts.
  const closed = server.createChat({ kind: "channel", title: "Closed", creatorId: world.alice.id });
  server.sendText(world.alice.id, { user: world.alice.id, peer: world.bot.id }, "/start"); // Alice's access hash
  await world.waitForReceived(1);
  await savePeers(db, [
    ...[channel, closed].map((c) => ({
      id: Number(c.peerId),
      kind: "channel" as const,
      access_hash: c.accessHash,
      username: null,
      title: c.title,
    })),
  ]);
  await touchUser(db, { id: world.alice.id, firstName: "Alice" });
  const refused: Array<[number, string]> = [];
  const logChats = [Number(channel.peerId), Number(closed.peerId)];
  const finisher = createBatchFinisher({
    db,
    gateway,
    logChats: async () => logChats,
    log,
    textsFor: async (userId) => batchSummaryTexts(await userLanguage(db, userId)),
    onLogRefused: (chatId, code) => refused.push([chatId, code]),
  });
  t.after(() => finisher.stop());
  const enqueueBatch = async (lines: number[]) =>
    db.transaction().execute((trx) =>
      enqueueJobs(
        trx,
        lines.map((line) => ({
          user_id: world.alice.id,
          request_chat_id: world.alice.id,
          destination_chat_id: world.alice.id,
          source_url: `https://example.com/${line}`,
          batch_line: line,
          name: `file ${line}`,
        })),
        { perUserQueued: 100, totalQueued: 100 },
        {
          batch: {
            chatId: world.alice.id,
            sourceName: "links.txt",
            skipped: [{ line: 2, reason: "no link found" }],
          },
        },
      ),
    );
  const summaries = (chat: { user: number; peer: number } | { chat: number }) =>
    server.messages(chat).filter((m) => m.text.startsWith("Batch finished") || /Batch finished/.test(m.text));
  const toAlice = () => summaries({ user: world.alice.id, peer: world.bot.id });
  const toLog = () => summaries({ chat: channel.id });
  const all = (chat: { user: number; peer: number } | { chat: number }) => server.messages(chat);
  return { world, db, gateway, finisher, enqueueBatch, toAlice, toLog, refused, channel, closed, all };
}

describe("batch summary delivery", () => {
  it("goes to the user's chat and the log channel once when the last job ends; a refusing channel is skipped", async (t) => {
    const w = await finishWorld(t);
    const jobs = await w.enqueueBatch([1, 3, 4]);
    const [first, second, third] = jobs;
    assert.ok(first && second && third);
    await transitionJob(w.db, first.id, "done", { bytes_total: 2048 });
    await w.finisher.jobEnded(first);
    assert.equal(w.toAlice().length, 0, "no summary while jobs are pending");
    await transitionJob(w.db, second.id, "failed", { error_message: "The site answered 404: not found." });
    await transitionJob(w.db, third.id, "cancelled");
    await Promise.all([w.finisher.jobEnded(second), w.finisher.jobEnded(third)]);
    const [summary] = w.toAlice();
    assert.equal(w.toAlice().length, 1);
    assert.match(summary?.text ?? "", /Done: 1 · Failed: 1 · Skipped: 1 · Cancelled: 1/);
    assert.match(summary?.text ?? "", /Line 2: skipped: no link found/);
    assert.match(summary?.text ?? "", /Line 3 · file 3: The site answered 404: not found\./);
    assert.equal(w.toLog().length, 1);
    assert.match(w.toLog()[0]?.text ?? "", new RegExp(`^Alice \\(${w.world.alice.id}\\) · links\\.txt #u`));
    assert.deepEqual(w.refused, [[Number(w.closed.peerId), "CHAT_WRITE_FORBIDDEN"]]);
    const batch = await getBatch(w.db, first.batch_id ?? 0);
    assert.notEqual(batch?.summary_sent_at, null);
    await w.finisher.sweep();
    await w.finisher.jobEnded(third);
    assert.equal(w.toAlice().length, 1, "once");
    assert.equal(w.toLog().length, 1, "once");
  });

  it("resumes a summary a crash left half-sent: the re-send with the stored random_id posts nothing new", async (t) => {
    const w = await finishWorld(t);
    const [job] = await w.enqueueBatch([1]);
    assert.ok(job);
    const batchId = job.batch_id ?? 0;
    await transitionJob(w.db, job.id, "done", { bytes_total: 10 });
    // What a crash after the send and before its record leaves: the row planned, the message posted.
    const row = await planSummary(w.db, { batchId, chatId: w.world.alice.id, target: "chat" });
    await w.gateway.sendTextOnce(w.world.alice.id, "Batch finished (sent before the crash)", {
      randomId: BigInt(row.random_id),
    });
    await w.finisher.start(); // the sweep at start: the batch is still marked running, its job is done
    await w.finisher.stop();
    assert.equal(w.toAlice().length, 1, "the duplicate was dropped");
    assert.equal(w.toLog().length, 1);
    const rows = await listSummaryDeliveries(w.db, batchId);
    assert.deepEqual(
      rows.map((r) => [r.target, r.message_id === 0, r.refused]),
      [
        ["chat", true, null],
        ["log", false, null],
        ["log", false, "CHAT_WRITE_FORBIDDEN"],
      ],
    );
    assert.equal((await getBatch(w.db, batchId))?.status, "done");
  });

  it("is worded in the language the user chose, failure reasons too; the log channel gets the same text", async (t) => {
    const w = await finishWorld(t);
    await updateUserSettings(w.db, w.world.alice.id, { language: "ru" });
    const [ok, bad] = await w.enqueueBatch([1, 3]);
    assert.ok(ok && bad);
    await transitionJob(w.db, ok.id, "done", { bytes_total: 2048 });
    await transitionJob(w.db, bad.id, "failed", {
      error_code: "HTTP_GONE",
      error_message: "The server answered 404. Check the link; the file may have been removed.",
      error_key: "err.HTTP_GONE",
      error_params: JSON.stringify({ status: 404 }),
    });
    await w.finisher.jobEnded(bad);
    const summary = w
      .all({ user: w.world.alice.id, peer: w.world.bot.id })
      .find((m) => m.text.startsWith("Пакет"));
    assert.ok(summary, "a Russian summary reached Alice");
    assert.equal(w.toAlice().length, 0, "no English one");
    assert.match(summary.text, /^Пакет завершён\nГотово: 1 · Ошибки: 1 · Пропущено: 1 · Отменено: 0/);
    assert.match(summary.text, /Строка 2: пропущена: no link found/);
    assert.match(
      summary.text,
      /Строка 3 · file 3: Сервер ответил 404\. Проверьте ссылку: возможно, файл удалён\./,
    );
    const copy = w.all({ chat: w.channel.id }).find((m) => m.text.includes("Пакет завершён"));
    assert.ok(copy?.text.endsWith(summary.text), "the log channel's copy is the same text under its header");
  });
});
