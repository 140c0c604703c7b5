/** What /metrics reports: jobs and queue from the database, finished transfers, errors by code, FLOOD_WAITs by method. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createJob } from "../src/db/jobs.js";
import { setRole } from "../src/db/users.js";
import { UserError } from "../src/errors.js";
import { createLogger } from "../src/logger.js";
import { createMetrics } from "../src/metrics.js";
import { openBotGateway } from "../src/telegram/bot-client.js";
import { testDatabase } from "./db/support.js";
import { writePatternFile } from "./telegram/support/files.js";
import { startGatewayWorld } from "./telegram/support/gateway-world.js";

const MIB = 1024 * 1024;

describe("metrics", () => {
  it("counts jobs by status and the queue from the database, and finished transfers from the runner's events", async (t) => {
    const { db } = await testDatabase(t);
    await setRole(db, 1, "user", null);
    const make = (status: "queued" | "done" | "failed", extra = {}) =>
      createJob(db, {
        user_id: 1,
        request_chat_id: 1,
        destination_chat_id: 1,
        source_url: "https://x/y",
        status,
        ...extra,
      });
    await make("queued");
    await make("queued", { locked_by: "w-1", locked_until: "2999-01-01T00:00:00.000Z" });
    const done = await make("done", { bytes_total: 20 * MIB, download_ms: 2000, upload_ms: 4000 });
    const failed = await make("failed");
    const metrics = createMetrics({ db, ready: () => true, telegramConnected: () => false });

    metrics.onRunnerEvent({ type: "fetched", job: done });
    metrics.onRunnerEvent({ type: "done", job: done });
    metrics.onRunnerEvent({
      type: "retry",
      job: failed,
      error: Object.assign(new Error("x"), { code: "HTTP_503" }),
      delayMs: 1000,
    });
    metrics.onRunnerEvent({ type: "failed", job: failed, error: new UserError("NOT_FOUND", "gone") });
    metrics.onRunnerEvent({
      type: "failed",
      job: failed,
      error: new Error("no code, and a message that must not become a label"),
    });
    metrics.onUpdate(Date.now() / 1000 - 3);

    const text = await metrics.render();
    assert.match(text, /^medusa_ready 1$/m);
    assert.match(text, /^medusa_telegram_connected 0$/m);
    assert.match(text, /^medusa_jobs\{status="queued"\} 2$/m);
    assert.match(text, /^medusa_jobs\{status="done"\} 1$/m);
    assert.match(text, /^medusa_jobs\{status="uploading"\} 0$/m);
    assert.match(text, /^medusa_queue_depth\{state="running"\} 1$/m);
    assert.match(text, /^medusa_queue_depth\{state="waiting"\} 1$/m);
    assert.match(text, /^medusa_download_bytes_total 20971520$/m);
    assert.match(text, /^medusa_upload_bytes_total 20971520$/m);
    assert.match(
      text,
      /^medusa_download_speed_mib_per_second_bucket\{le="10"\} 1$/m,
      "20 MiB in 2 s is 10 MiB/s",
    );
    assert.match(text, /^medusa_upload_speed_mib_per_second_bucket\{le="2"\} 0$/m);
    assert.match(
      text,
      /^medusa_upload_speed_mib_per_second_bucket\{le="5"\} 1$/m,
      "20 MiB in 4 s is 5 MiB/s",
    );
    assert.match(text, /^medusa_jobs_finished_total\{outcome="failed"\} 2$/m);
    assert.match(text, /^medusa_job_retries_total\{code="HTTP_503"\} 1$/m);
    assert.match(text, /^medusa_errors_total\{code="NOT_FOUND"\} 1$/m);
    assert.match(text, /^medusa_errors_total\{code="INTERNAL"\} 1$/m);
    assert.doesNotMatch(text, /must not become a label/);
    assert.match(text, /^medusa_update_lag_seconds_bucket\{le="2"\} 0$/m);
    assert.match(text, /^medusa_update_lag_seconds_bucket\{le="5"\} 1$/m);
    assert.match(text, /^nodejs_eventloop_lag_seconds \d/m, "Node's own metrics: event-loop lag");
  });

  it("counts the FLOOD_WAITs Telegram answers, by method, on calls and on uploads", async (t) => {
    const world = await startGatewayWorld(t);
    const metrics = createMetrics({
      db: world.database.db,
      ready: () => true,
      telegramConnected: () => true,
    });
    const gateway = await openBotGateway(world.config, {
      db: world.database.db,
      log: createLogger({ level: "silent" }),
      onFloodWait: (method, seconds) => metrics.onFloodWait(method, seconds),
    });
    t.after(() => gateway.stop());
    let heard!: () => void;
    const aliceWrote = new Promise<void>((resolve) => {
      heard = resolve;
    });
    await gateway.start(async () => heard());
    // The bot may write to Alice once she wrote to it (it learns her access hash).
    world.srv.server.sendText(world.alice.id, { user: world.alice.id, peer: world.bot.id }, "/start");
    await aliceWrote;
    world.srv.server.faults.setFaults({
      methodFaults: [
        { method: "messages.SendMessage", code: 420, message: "FLOOD_WAIT_1", times: 1 },
        { method: "upload.SaveBigFilePart", code: 420, message: "FLOOD_WAIT_1", times: 2 },
      ],
    });
    await gateway.sendText(world.alice.id, "hello");
    const file = join(world.dir, "big.bin");
    await writePatternFile(file, 11 * MIB);
    await gateway.uploadFile(file);
    const text = await metrics.render();
    assert.match(text, /^medusa_telegram_flood_waits_total\{method="messages.SendMessage"\} 1$/m);
    assert.match(text, /^medusa_telegram_flood_waits_total\{method="upload.SaveBigFilePart"\} 2$/m);
    assert.match(text, /^medusa_telegram_flood_wait_seconds_total\{method="upload.SaveBigFilePart"\} 2$/m);
  });
});

describe("the Grafana dashboard", () => {
  it("reads only metrics that /metrics exports", async (t) => {
    const { readFile } = await import("node:fs/promises");
    const dashboard = JSON.parse(
      await readFile(join(import.meta.dirname, "../scripts/grafana/medusa-dashboard.json"), "utf8"),
    ) as { panels: { targets: { expr: string }[] }[] };
    const { db } = await testDatabase(t);
    const text = await createMetrics({ db, ready: () => true, telegramConnected: () => true }).render();
    const exported = new Set(
      [...text.matchAll(/^# TYPE (\S+) (\w+)$/gm)].flatMap(([, name, type]) =>
        type === "histogram" ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name],
      ),
    );
    const used = dashboard.panels.flatMap((p) =>
      p.targets.flatMap((target) =>
        [...target.expr.matchAll(/\b((?:medusa|nodejs|process)_[a-z0-9_]+)\b/g)].map((m) => m[1]),
      ),
    );
    assert.ok(used.length > 10);
    assert.deepEqual(
      used.filter((name) => !exported.has(name ?? "")),
      [],
    );
  });
});
