/**
 * History retention: finished job rows of whole UTC days older than the kept window are deleted, after their
 * numbers were added to daily_totals and user_totals, so the operator views and /stats read the same afterwards.
 * Portable SQL (no SQLite-only functions): PostgreSQL runs it too.
 */
import { sql } from "kysely";
import type { Trx } from "./database.js";
import { UNFINISHED_STATUSES } from "./jobs.js";

export interface PruneOptions {
  /** Days of job history kept, today included. */
  keepDays: number;
  /** @default now */
  now?: Date;
  /** Days pruned per call at most, so one transaction stays short; call again while `days` > 0. @default 31 */
  maxDays?: number;
}

export interface PruneOutcome {
  /** The days moved into the totals, oldest first. */
  days: string[];
  jobs: number;
  batches: number;
  events: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The first UTC day that is kept: everything created before it may go. */
export function firstKeptDay(keepDays: number, now: Date): string {
  if (!Number.isInteger(keepDays) || keepDays < 1) {
    throw new TypeError(`Expected \`keepDays\` to be a whole number of 1 or more, got ${String(keepDays)}`);
  }
  return new Date(now.getTime() - (keepDays - 1) * DAY_MS).toISOString().slice(0, 10);
}

const isDone = sql<number>`sum(case when status = 'done' then 1 else 0 end)`;
const isFailed = sql<number>`sum(case when status = 'failed' then 1 else 0 end)`;
const isCancelled = sql<number>`sum(case when status = 'cancelled' then 1 else 0 end)`;
const doneBytes = sql<number | null>`sum(case when status = 'done' then bytes_total end)`;
const doneUploadMs = sql<number | null>`sum(case when status = 'done' then upload_ms end)`;
const day = sql<string>`substr(created_at, 1, 10)`;

export async function pruneHistory(trx: Trx, options: PruneOptions): Promise<PruneOutcome> {
  const cutoff = firstKeptDay(options.keepDays, options.now ?? new Date());
  const maxDays = options.maxDays ?? 31;
  // A day with a job still running stays whole until it ends.
  const days = (
    await trx
      .selectFrom("jobs")
      .select(day.as("day"))
      .where("created_at", "<", cutoff)
      .groupBy(day)
      .having(
        sql<number>`sum(case when status in (${sql.join(UNFINISHED_STATUSES)}) then 1 else 0 end)`,
        "=",
        0,
      )
      .orderBy(day)
      .limit(maxDays)
      .execute()
  ).map((row) => row.day);
  if (days.length === 0) return { days, jobs: 0, batches: 0, events: 0 };

  const perDay = await trx
    .selectFrom("jobs")
    .select([
      day.as("day"),
      sql<number>`count(*)`.as("jobs"),
      isDone.as("done"),
      isFailed.as("failed"),
      isCancelled.as("cancelled"),
      sql<number>`count(distinct user_id)`.as("users"),
      doneBytes.as("bytes_sent"),
      doneUploadMs.as("upload_ms"),
    ])
    .where(day, "in", days)
    .groupBy(day)
    .execute();
  for (const row of perDay) {
    const values = {
      ...row,
      done: Number(row.done),
      failed: Number(row.failed),
      cancelled: Number(row.cancelled),
    };
    await trx
      .insertInto("daily_totals")
      .values(values)
      .onConflict((oc) =>
        oc.column("day").doUpdateSet({
          jobs: sql`daily_totals.jobs + excluded.jobs`,
          done: sql`daily_totals.done + excluded.done`,
          failed: sql`daily_totals.failed + excluded.failed`,
          cancelled: sql`daily_totals.cancelled + excluded.cancelled`,
          users: sql`daily_totals.users + excluded.users`,
          bytes_sent: sql`coalesce(daily_totals.bytes_sent, 0) + coalesce(excluded.bytes_sent, 0)`,
          upload_ms: sql`coalesce(daily_totals.upload_ms, 0) + coalesce(excluded.upload_ms, 0)`,
        }),
      )
      .execute();
  }

  const perUser = await trx
    .selectFrom("jobs")
    .select([
      "user_id",
      sql<number>`count(*)`.as("jobs"),
      isDone.as("done"),
      isFailed.as("failed"),
      sql<number>`coalesce(${doneBytes}, 0)`.as("bytes_sent"),
      sql<string>`max(created_at)`.as("last_job_at"),
    ])
    .where(day, "in", days)
    .groupBy("user_id")
    .execute();
  for (const row of perUser) {
    await trx
      .insertInto("user_totals")
      .values({
        ...row,
        done: Number(row.done),
        failed: Number(row.failed),
        bytes_sent: Number(row.bytes_sent),
      })
      .onConflict((oc) =>
        oc.column("user_id").doUpdateSet({
          jobs: sql`user_totals.jobs + excluded.jobs`,
          done: sql`user_totals.done + excluded.done`,
          failed: sql`user_totals.failed + excluded.failed`,
          bytes_sent: sql`user_totals.bytes_sent + excluded.bytes_sent`,
          last_job_at: sql`case when user_totals.last_job_at > excluded.last_job_at
                           then user_totals.last_job_at else excluded.last_job_at end`,
        }),
      )
      .execute();
  }

  // Deliveries go with their jobs (ON DELETE CASCADE); files stay: they are the cache that spares re-uploads.
  const jobs = await trx.deleteFrom("jobs").where(day, "in", days).executeTakeFirst();
  const batches = await trx
    .deleteFrom("batches")
    .where("status", "!=", "running")
    .where("created_at", "<", cutoff)
    .where((eb) =>
      eb.not(eb.exists(eb.selectFrom("jobs").select("id").whereRef("jobs.batch_id", "=", "batches.id"))),
    )
    .executeTakeFirst();
  // The audit log of admin actions is kept whatever its age; analytics and system events go with the jobs.
  const events = await trx
    .deleteFrom("events")
    .where("category", "!=", "admin")
    .where("at", "<", cutoff)
    .executeTakeFirst();
  return {
    days,
    jobs: Number(jobs.numDeletedRows),
    batches: Number(batches.numDeletedRows),
    events: Number(events.numDeletedRows),
  };
}
