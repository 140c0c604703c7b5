/**
 * What /metrics tells Prometheus: the jobs and the queue (read from the database at each scrape, so every worker's
 * jobs count), bytes and speeds of finished transfers, errors by code, Telegram's FLOOD_WAITs by method, how late
 * updates are handled, and Node's own process metrics (event-loop lag, memory, CPU). scripts/grafana/ has a
 * dashboard that reads these names.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Db } from "./db/database.js";
import { ALL_STATUSES } from "./db/jobs.js";
import type { JobStatus } from "./db/schema.js";
import type { RunnerEvent } from "./jobs/runner.js";

const MIB = 1024 * 1024;
/** MiB/s: from a crawling link to loopback. */
const SPEED_BUCKETS = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500];
/** Seconds between Telegram sending an update and Medusa handling it; catch-up after a restart is the long tail. */
const LAG_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 60, 300, 3600];

export interface MetricsSources {
  db: Db;
  /** 1 once the database and Telegram are ready. */
  ready: () => boolean;
  telegramConnected: () => boolean;
}

export interface Metrics {
  /** Prometheus text format. */
  render(): Promise<string>;
  readonly contentType: string;
  /** Feed the runner's events here (RunnerOptions.onEvent). */
  onRunnerEvent(event: RunnerEvent): void;
  /** An update was handled; `sentAt` is Telegram's date of it (unix seconds). */
  onUpdate(sentAt: number | undefined): void;
  /** Telegram asked to wait (`method` is the request's class name, e.g. "messages.EditMessage"). */
  onFloodWait(method: string, seconds: number): void;
}

export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  new Gauge({
    name: "medusa_ready",
    help: "1 once the database is migrated and Telegram is connected.",
    registers: [registry],
    collect() {
      this.set(sources.ready() ? 1 : 0);
    },
  });
  new Gauge({
    name: "medusa_telegram_connected",
    help: "1 while the bot's connection to Telegram is up.",
    registers: [registry],
    collect() {
      this.set(sources.telegramConnected() ? 1 : 0);
    },
  });
  new Gauge({
    name: "medusa_jobs",
    help: "Jobs in the database by status.",
    labelNames: ["status"],
    registers: [registry],
    async collect() {
      const rows = await sources.db
        .selectFrom("jobs")
        .select(["status", (eb) => eb.fn.countAll<number>().as("n")])
        .groupBy("status")
        .execute();
      const counts = new Map<JobStatus, number>(rows.map((r) => [r.status, Number(r.n)]));
      for (const status of ALL_STATUSES) this.set({ status }, counts.get(status) ?? 0);
    },
  });
  new Gauge({
    name: "medusa_queue_depth",
    help: "Unfinished jobs: running (leased) and waiting.",
    labelNames: ["state"],
    registers: [registry],
    async collect() {
      const rows = await sources.db
        .selectFrom("jobs")
        .select([
          (eb) => eb.fn.countAll<number>().as("all"),
          (eb) => eb.fn.count<number>("locked_by").as("running"),
        ])
        .where("status", "not in", ["done", "failed", "cancelled"])
        .execute();
      const all = Number(rows[0]?.all ?? 0);
      const running = Number(rows[0]?.running ?? 0);
      this.set({ state: "running" }, running);
      this.set({ state: "waiting" }, all - running);
    },
  });

  const finished = new Counter({
    name: "medusa_jobs_finished_total",
    help: "Jobs that ended, by outcome.",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const retries = new Counter({
    name: "medusa_job_retries_total",
    help: "Attempts that failed and were scheduled again, by error code.",
    labelNames: ["code"],
    registers: [registry],
  });
  const errors = new Counter({
    name: "medusa_errors_total",
    help: "Errors that failed an attempt (retried or final), by code.",
    labelNames: ["code"],
    registers: [registry],
  });
  const downloaded = new Counter({
    name: "medusa_download_bytes_total",
    help: "Bytes of finished downloads.",
    registers: [registry],
  });
  const uploaded = new Counter({
    name: "medusa_upload_bytes_total",
    help: "Bytes of delivered jobs.",
    registers: [registry],
  });
  const downloadSpeed = new Histogram({
    name: "medusa_download_speed_mib_per_second",
    help: "Speed of each finished download.",
    buckets: SPEED_BUCKETS,
    registers: [registry],
  });
  const uploadSpeed = new Histogram({
    name: "medusa_upload_speed_mib_per_second",
    help: "Speed of each delivered job's upload and sends.",
    buckets: SPEED_BUCKETS,
    registers: [registry],
  });
  const floodWaits = new Counter({
    name: "medusa_telegram_flood_waits_total",
    help: "FLOOD_WAITs Telegram answered, by method.",
    labelNames: ["method"],
    registers: [registry],
  });
  const floodSeconds = new Counter({
    name: "medusa_telegram_flood_wait_seconds_total",
    help: "Seconds Telegram asked to wait, by method.",
    labelNames: ["method"],
    registers: [registry],
  });
  const updateLag = new Histogram({
    name: "medusa_update_lag_seconds",
    help: "From Telegram's date of an update to its handling.",
    buckets: LAG_BUCKETS,
    registers: [registry],
  });

  const speed = (bytes: number | null, ms: number | null) =>
    bytes !== null && ms !== null && ms > 0 ? bytes / MIB / (ms / 1000) : undefined;

  return {
    contentType: registry.contentType,
    render: () => registry.metrics(),
    onRunnerEvent(event) {
      const job = event.job;
      switch (event.type) {
        case "fetched": {
          downloaded.inc(job.bytes_total ?? 0);
          const s = speed(job.bytes_total, job.download_ms);
          if (s !== undefined) downloadSpeed.observe(s);
          break;
        }
        case "done": {
          finished.inc({ outcome: "done" });
          uploaded.inc(job.bytes_total ?? 0);
          const s = speed(job.bytes_total, job.upload_ms);
          if (s !== undefined) uploadSpeed.observe(s);
          break;
        }
        case "failed":
          finished.inc({ outcome: "failed" });
          errors.inc({ code: codeOf(event.error) });
          break;
        case "cancelled":
          finished.inc({ outcome: "cancelled" });
          break;
        case "retry": {
          const code = codeOf(event.error);
          retries.inc({ code });
          errors.inc({ code });
          break;
        }
        default:
          break;
      }
    },
    onUpdate(sentAt) {
      if (sentAt === undefined || !Number.isFinite(sentAt)) return;
      updateLag.observe(Math.max(0, Date.now() / 1000 - sentAt));
    },
    onFloodWait(method, seconds) {
      floodWaits.inc({ method });
      floodSeconds.inc({ method }, seconds);
    },
  };
}

/** Error codes are ours (string constants); anything else is INTERNAL, so labels stay few. */
function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && /^[A-Z0-9_]{1,64}$/.test(code) ? code : "INTERNAL";
}
