/**
 * What the operator's web dashboard reads: the numbers of today and the last 7 days (stats.ts), the days and users
 * as v_daily and v_users count them (pruned history included), the jobs that failed lately, and the live queue
 * (queue-overview.ts) with what a person needs to recognise each job. Read-only.
 */
import type { Db } from "./database.js";
import { queueOverview, type RecentSpeed } from "./queue-overview.js";
import type { DailyView, JobStatus, Role, UsersView } from "./schema.js";
import { type PeriodStats, periodStats } from "./stats.js";

const DAY_MS = 86_400_000;

export interface DashboardSummary {
  today: PeriodStats;
  week: PeriodStats;
  /** v_daily's rows of the last `days` days, oldest first; days without jobs left out. */
  days: DailyView[];
  users: UsersView[];
  errors: RecentJobError[];
}

export interface RecentJobError {
  jobId: number;
  code: string | null;
  message: string | null;
  at: string;
  userId: number;
  username: string | null;
  firstName: string | null;
  name: string | null;
  sourceUrl: string;
}

export async function dashboardSummary(
  db: Db,
  options: { now: number; days: number; users: number; errors: number },
): Promise<DashboardSummary> {
  const today = `${new Date(options.now).toISOString().slice(0, 10)}T00:00:00.000Z`;
  const firstDay = new Date(options.now - (options.days - 1) * DAY_MS).toISOString().slice(0, 10);
  const [todayStats, week, days, users, errors] = await Promise.all([
    periodStats(db, today),
    periodStats(db, new Date(options.now - 7 * DAY_MS).toISOString()),
    db.selectFrom("v_daily").selectAll().where("day", ">=", firstDay).orderBy("day").execute(),
    db.selectFrom("v_users").selectAll().orderBy("jobs", "desc").orderBy("id").limit(options.users).execute(),
    recentJobErrors(db, options.errors),
  ]);
  return { today: todayStats, week, days, users, errors };
}

/** The latest failed jobs, newest first, with the code and message they ended with. */
export async function recentJobErrors(db: Db, limit: number): Promise<RecentJobError[]> {
  const rows = await db
    .selectFrom("jobs")
    .leftJoin("users", "users.id", "jobs.user_id")
    .select([
      "jobs.id as jobId",
      "jobs.error_code as code",
      "jobs.error_message as message",
      "jobs.updated_at as at",
      "jobs.user_id as userId",
      "users.username as username",
      "users.first_name as firstName",
      "jobs.name as name",
      "jobs.source_url as sourceUrl",
    ])
    .where("jobs.status", "=", "failed")
    .orderBy("jobs.updated_at", "desc")
    .orderBy("jobs.id", "desc")
    .limit(limit)
    .execute();
  return rows;
}

export interface LiveJob {
  id: number;
  userId: number;
  username: string | null;
  firstName: string | null;
  role: Role | null;
  name: string | null;
  sourceUrl: string;
  status: JobStatus;
  /** A worker holds it now. */
  running: boolean;
  /** Place among the waiting jobs in claim order; null while running, paused or leaving. */
  position: number | null;
  paused: boolean;
  cancelRequested: boolean;
  attempts: number;
  /** Not claimed before this (a scheduled retry) when later than now. */
  runAt: string;
  bytesDone: number;
  bytesTotal: number | null;
  createdAt: string;
}

export interface LiveQueue {
  running: number;
  waiting: number;
  jobs: LiveJob[];
  recent: RecentSpeed;
}

/** Every unfinished job, running ones first, then in the order they would be claimed. */
export async function liveQueue(db: Db, now: number): Promise<LiveQueue> {
  const overview = await queueOverview(db, { now: new Date(now).toISOString() });
  const ids = overview.jobs.map((j) => j.id);
  const rows =
    ids.length === 0
      ? []
      : await db
          .selectFrom("jobs")
          .leftJoin("users", "users.id", "jobs.user_id")
          .select([
            "jobs.id",
            "jobs.name",
            "jobs.source_url",
            "jobs.created_at",
            "users.username",
            "users.first_name",
            "users.role",
          ])
          .where("jobs.id", "in", ids)
          .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const jobs = overview.jobs.flatMap((entry): LiveJob[] => {
    const row = byId.get(entry.id);
    if (!row) return []; // finished and pruned between the two reads
    return [
      {
        id: entry.id,
        userId: entry.userId,
        username: row.username,
        firstName: row.first_name,
        role: row.role,
        name: row.name,
        sourceUrl: row.source_url,
        status: entry.status,
        running: entry.running,
        position: entry.position,
        paused: entry.paused,
        cancelRequested: entry.cancelRequested,
        attempts: entry.attempts,
        runAt: entry.runAt,
        bytesDone: entry.bytesDone,
        bytesTotal: entry.bytesTotal,
        createdAt: row.created_at,
      },
    ];
  });
  return { running: overview.running, waiting: overview.waiting, jobs, recent: overview.recent };
}
