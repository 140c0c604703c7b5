/**
 * PostgreSQL's LISTEN/NOTIFY on one channel, so that workers on other processes or hosts react at once instead of
 * on their next poll: new work (a job queued, resumed or handed back) and a Cancel or Pause asked of a running job.
 * A signal only says "look now": the job rows stay the truth, and polling and the heartbeat stay the fallback for
 * whatever is missed (the listening connection down, a worker starting). SQLite has no other process to tell:
 * notifyJobs does nothing there.
 */
import { sql } from "kysely";
import pg from "pg";
import { z } from "zod";
import { backoffDelay } from "../lib/backoff.js";
import type { Logger } from "../logger.js";
import { type Db, isPostgres } from "./database.js";

export const JOB_CHANNEL = "medusa_jobs";

export type JobSignal =
  /** Jobs became claimable: idle lanes claim now. */
  | { kind: "queued" }
  /** A paused job may run again. */
  | { kind: "resume" }
  /** Whoever runs `job` checks its row now (cancel_requested / paused). */
  | { kind: "cancel"; job: number }
  | { kind: "pause"; job: number };

const jobId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const signalSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("queued") }),
  z.object({ kind: z.literal("resume") }),
  z.object({ kind: z.literal("cancel"), job: jobId }),
  z.object({ kind: z.literal("pause"), job: jobId }),
]);

/** PostgreSQL refuses longer payloads; anything near it is not ours. */
const MAX_PAYLOAD = 8000;

/** A received payload as a signal, or undefined for anything else (another sender's, a newer version's). */
export function parseJobSignal(payload: string | undefined): JobSignal | undefined {
  if (payload === undefined || payload.length > MAX_PAYLOAD) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const parsed = signalSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Sends the signals on PostgreSQL in one statement; nothing on SQLite. Inside a transaction they are delivered at
 * its commit (and not at all on a rollback), so a listener never looks before the rows it is told about exist.
 */
export async function notifyJobs(db: Db, signals: JobSignal | readonly JobSignal[]): Promise<void> {
  if (!isPostgres(db)) return;
  const list: readonly JobSignal[] = Array.isArray(signals) ? signals : [signals as JobSignal];
  if (list.length === 0) return;
  const payloads = list.map((s) => JSON.stringify(s));
  await sql`SELECT pg_notify(${JOB_CHANNEL}, p) FROM unnest(${payloads}::text[]) AS p`.execute(db);
}

/** The listening connection's name in pg_stat_activity. */
export const LISTEN_APPLICATION_NAME = "medusa-listen";
/** Waits between reconnects: doubling from half a second, never more than half a minute. */
const RECONNECT = { baseMs: 500, maxMs: 30_000, jitter: 0.2 };
/** A connection that died without a word (a cut network) is noticed by a ping going unanswered. */
const PING_MS = 30_000;
/** Connecting, LISTEN and a ping each take milliseconds; past this the server is not there. */
const QUERY_TIMEOUT_MS = 10_000;
/** stop() does not wait longer than this for the server to acknowledge the goodbye. */
const END_TIMEOUT_MS = 5_000;

export interface ListenOptions {
  log: Logger;
  /**
   * LISTEN took effect, the first time and after each reconnect. Signals sent while it was down are lost: this is
   * the moment to look at the rows once.
   */
  onListening?: () => void;
}

export interface JobListener {
  /** True while LISTEN holds. */
  listening(): boolean;
  /** Closes the connection and stops reconnecting. */
  stop(): Promise<void>;
}

/**
 * Holds one connection of its own to `url` on LISTEN medusa_jobs and calls `onSignal` with each valid signal; junk
 * is ignored. When the connection drops it reconnects after a growing, capped wait, logging each drop and return.
 */
export function listenJobs(
  url: string,
  onSignal: (signal: JobSignal) => void,
  options: ListenOptions,
): JobListener {
  const { log } = options;
  let stopped = false;
  let client: pg.Client | undefined;
  let active = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let pingTimer: NodeJS.Timeout | undefined;

  function deliver(message: pg.Notification): void {
    if (message.channel !== JOB_CHANNEL) return;
    const signal = parseJobSignal(message.payload);
    if (!signal) {
      log.debug({ payload: message.payload?.slice(0, 200) }, "ignored a job signal that is not ours");
      return;
    }
    try {
      onSignal(signal);
    } catch (error) {
      log.warn({ err: error }, "a job signal listener failed");
    }
  }

  /** Drops this connection (once) and, unless stopping, schedules the next. */
  function lost(current: pg.Client, error: unknown): void {
    if (client !== current) return;
    client = undefined;
    active = false;
    clearInterval(pingTimer);
    current.removeAllListeners("notification");
    current.on("error", () => undefined); // a late error of a connection we are done with
    void current.end().catch(() => undefined);
    if (stopped) return;
    failures++;
    const delayMs = Math.round(backoffDelay(failures, RECONNECT));
    log.warn({ err: error, delayMs }, "the job signal connection dropped; polling until it is back");
    retryTimer = setTimeout(connect, delayMs);
    retryTimer.unref();
  }

  async function connect(): Promise<void> {
    if (stopped) return;
    const current = new pg.Client({
      connectionString: url,
      application_name: LISTEN_APPLICATION_NAME,
      connectionTimeoutMillis: QUERY_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      keepAlive: true,
    });
    client = current;
    current.on("error", (error) => lost(current, error));
    current.on("end", () => lost(current, new Error("the server closed the connection")));
    current.on("notification", deliver);
    try {
      await current.connect();
      await current.query(`LISTEN ${JOB_CHANNEL}`);
    } catch (error) {
      lost(current, error);
      return;
    }
    if (client !== current) return; // dropped or stopped meanwhile
    active = true;
    if (failures > 0) log.info({ after: failures }, "the job signal connection is back");
    failures = 0;
    pingTimer = setInterval(() => {
      current.query("SELECT 1").catch((error: unknown) => lost(current, error));
    }, PING_MS);
    pingTimer.unref();
    try {
      options.onListening?.();
    } catch (error) {
      log.warn({ err: error }, "a job signal listener failed");
    }
  }

  void connect();
  return {
    listening: () => active,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(retryTimer);
      clearInterval(pingTimer);
      const current = client;
      client = undefined;
      active = false;
      if (!current) return;
      current.removeAllListeners("notification");
      current.on("error", () => undefined);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        current.end().catch(() => undefined),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, END_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
