/**
 * One scenario, every repository read along the way, on both engines: SQLite's answers are the reference, and
 * PostgreSQL must give the same ones (numbers as numbers, the same order, the same counts) — so the repositories
 * the other store tests do not cover (stats, history, boards, batch summaries, forgetting, pruning) run on both.
 */
import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import {
  listBatchOutcomes,
  listOwedSummaries,
  listSummaryDeliveries,
  markSummarySent,
  planSummary,
  saveSummaryText,
} from "../../src/db/batch-summaries.js";
import type { Db } from "../../src/db/database.js";
import { findDeliveredLinks } from "../../src/db/delivered-links.js";
import { listDeliveries, markDelivered, planDelivery } from "../../src/db/deliveries.js";
import { hasEventFor, hasEventSince, listEvents, recordEvent } from "../../src/db/events.js";
import { recordFile } from "../../src/db/files.js";
import { forgetUser } from "../../src/db/forget.js";
import { listHistory, usageSince } from "../../src/db/history.js";
import { recentErrorCodes } from "../../src/db/job-errors.js";
import {
  createBatch,
  createJob,
  getBatch,
  listJobsForUser,
  requestsSince,
  transitionJob,
} from "../../src/db/jobs.js";
import { findPeerByUsername, savePeers } from "../../src/db/peers.js";
import { queueOverview } from "../../src/db/queue-overview.js";
import { pruneHistory } from "../../src/db/retention.js";
import { dailyVolume, periodStats, topErrors, topUsers } from "../../src/db/stats.js";
import {
  attachToStatusMessage,
  boardRows,
  chatsWithUnfinishedJobs,
  currentStatusMessage,
  unfinishedJobsInChat,
} from "../../src/db/status-board.js";
import {
  claimUpdate,
  finishUpdate,
  getUpdateState,
  pruneHandledUpdates,
  saveUpdateState,
} from "../../src/db/update-state.js";
import { deliveredBytesSince, jobsCreatedSince } from "../../src/db/user-quota.js";
import { touchUser } from "../../src/db/users.js";
import { type EngineName, engineDatabase, engines } from "./support.js";

const EPOCH = "2000-01-01T00:00:00.000Z";

/** Drops what legitimately differs between two runs (random ids, wall-clock times). */
function stable(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (key, v) =>
      /(_at|At|^at|random_id|^oldest|^last)$/.test(key) && typeof v === "string" ? "<time or id>" : v,
    ),
  );
}

async function scenario(db: Db): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const id of [1, 2, 3]) await touchUser(db, { id, username: `u${id}` });
  const job = (user: number, url: string) =>
    createJob(db, {
      user_id: user,
      request_chat_id: -100 - user,
      destination_chat_id: user,
      source_url: url,
    });
  const a = await job(1, "https://a");
  const b = await job(1, "https://b");
  const c = await job(2, "https://a");
  await transitionJob(db, a.id, "done", { bytes_total: 5 * 1048576, upload_ms: 2000, source_kind: "http" });
  await transitionJob(db, b.id, "failed", { error_code: "HTTP_404", error_message: "gone" });
  const file = await recordFile(db, {
    sha256: "b".repeat(64),
    size: 5 * 1048576,
    name: "a.mp4",
    mime_type: "video/mp4",
    kind: "document",
    account: "bot",
    document_id: "9000000000000000001",
    access_hash: "-9000000000000000002",
    file_reference: Buffer.from([1, 2, 3]),
    dc_id: 2,
    duration: null,
    width: null,
    height: null,
    source_url: "https://a",
  });
  const delivery = await planDelivery(db, { jobId: a.id, part: 1, chatId: 1, target: "destination" });
  await markDelivered(db, delivery.id, 77, file.id);
  out.deliveries = await listDeliveries(db, a.id);
  out.deliveredLinks = await findDeliveredLinks(db, "https://a", "bot", c.id);

  const batch = await db.transaction().execute((trx) =>
    createBatch(trx, {
      userId: 3,
      chatId: -103,
      sourceName: "list.txt",
      jobs: [
        { user_id: 3, request_chat_id: -103, destination_chat_id: 3, source_url: "https://x" },
        { user_id: 3, request_chat_id: -103, destination_chat_id: 3, source_url: "https://y" },
      ],
    }),
  );
  out.batch = await getBatch(db, batch.batch.id);
  out.outcomes = await listBatchOutcomes(db, batch.batch.id);
  out.owed = await listOwedSummaries(db);
  await saveSummaryText(db, batch.batch.id, "<b>done</b>");
  const summary = await planSummary(db, { batchId: batch.batch.id, chatId: -103, target: "chat" });
  await markSummarySent(db, summary.id, 5);
  out.summaries = await listSummaryDeliveries(db, batch.batch.id);

  out.attached = await attachToStatusMessage(db, -101, 900, EPOCH);
  out.board = await boardRows(db, -101, 900);
  out.current = await currentStatusMessage(db, -101);
  out.chatsUnfinished = await chatsWithUnfinishedJobs(db, 0);
  out.unfinishedIn = (await unfinishedJobsInChat(db, -103)).map((j) => j.id);
  out.queue = await queueOverview(db, { now: "2030-01-01T00:00:00.000Z" });

  await recordEvent(db, { category: "admin", action: "user.added", actorId: 1, subject: 2, data: { n: 1 } });
  out.events = await listEvents(db, { category: "admin" });
  out.eventSince = await hasEventSince(db, { action: "user.added", actorId: 1, since: EPOCH });
  out.eventFor = await hasEventFor(db, { action: "user.added", subject: "2" });

  await saveUpdateState(db, "bot", { pts: 10, qts: 0, date: 1_700_000_000, seq: 1 });
  await saveUpdateState(db, "bot", { pts: 11, qts: 0, date: 1_700_000_001, seq: 2 });
  out.updateState = await getUpdateState(db, "bot");
  out.claims = [
    await claimUpdate(db, "bot", "msg:1:1"),
    await claimUpdate(db, "bot", "msg:1:1"),
    await finishUpdate(db, "bot", "msg:1:1"),
    await claimUpdate(db, "bot", "msg:1:1"),
  ];
  out.prunedUpdates = await pruneHandledUpdates(db, "2999-01-01T00:00:00.000Z");
  await savePeers(db, [
    {
      id: -1001234567890123,
      kind: "channel",
      access_hash: "-42",
      username: "Films",
      title: "Films",
      lang_code: null,
    },
  ]);
  out.peer = await findPeerByUsername(db, "@films");
  out.period = await periodStats(db, null);
  out.topUsers = await topUsers(db, null, 5);
  out.topErrors = await topErrors(db, null, 5);
  out.daily = await dailyVolume(db, EPOCH);
  out.errorCodes = await recentErrorCodes(db, EPOCH);
  out.history = await listHistory(db, 1, 10);
  out.usage = await usageSince(db, 1, null);
  out.created = await jobsCreatedSince(db, 1, EPOCH);
  out.deliveredBytes = await deliveredBytesSince(db, 1, EPOCH);
  out.requests = await requestsSince(db, 1, EPOCH);
  out.jobsOf1 = (await listJobsForUser(db, 1)).map((j) => [j.id, j.status]);

  // Everything ends, so that forgetting and pruning have finished jobs to work on.
  await transitionJob(db, c.id, "cancelled");
  for (const j of batch.jobs) await transitionJob(db, j.id, "cancelled");
  out.forgotten = await db.transaction().execute((trx) => forgetUser(trx, 2));
  // Everything is from today: keeping 0 days prunes nothing newer than tomorrow's start, so prune "from the future".
  const tomorrow = new Date(Date.now() + 2 * 24 * 60 * 60 * 1000);
  out.pruned = await db.transaction().execute((trx) => pruneHistory(trx, { keepDays: 1, now: tomorrow }));
  out.afterPrune = await periodStats(db, null);
  return out;
}

const answers = new Map<EngineName, Record<string, unknown>>();

for (const engine of engines()) {
  describe(`every repository on ${engine.name}`, { skip: engine.skip }, () => {
    it("answers the scenario (and on PostgreSQL exactly as SQLite does)", async (t: TestContext) => {
      const { db } = await engineDatabase(t, engine.name);
      const out = stable(await scenario(db)) as Record<string, unknown>;
      answers.set(engine.name, out);
      assert.equal((out.usage as { jobs: number }).jobs, 2);
      assert.equal((out.forgotten as { jobs: number }).jobs, 1, "user 2's job forgotten");
      assert.equal((out.pruned as { days: string[] }).days.length, 1, "today pruned into the totals");
      assert.ok((out.attached as number) >= 1, "user 1's jobs attached to the board");
      assert.equal((out.deliveredLinks as unknown[]).length, 1);
      if (engine.name === "postgres") {
        const reference = answers.get("sqlite");
        assert.ok(reference, "the SQLite run comes first");
        for (const key of Object.keys(reference)) assert.deepEqual(out[key], reference[key], key);
      }
    });
  });
}
