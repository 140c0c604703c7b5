/**
 * Per-user limits beyond the per-minute rate and the queue cap: jobs an hour, bytes delivered a UTC day, lines of
 * one .txt list. The configuration gives the defaults; the owner's /limits stores overrides in bot_settings
 * ("limit.<name>"). Admins and the owner have none. The counting SQL is in src/db/user-quota.ts.
 */
import type { Db } from "../db/database.js";
import { getBotSetting, setBotSetting } from "../db/settings.js";
import { deliveredBytesSince, jobsCreatedSince } from "../db/user-quota.js";
import { MAX_BATCH_LINES } from "../fetch/batch.js";
import type { BotLimits } from "./context.js";

export const LIMIT_NAMES = ["jobs_per_hour", "bytes_per_day", "batch_lines"] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

const HOUR_MS = 60 * 60 * 1000;
const DEFAULTS: Readonly<Record<LimitName, number>> = {
  jobs_per_hour: 200,
  bytes_per_day: 100 * 1024 ** 3,
  batch_lines: MAX_BATCH_LINES,
};
/** The largest value /limits takes for each (a list is parsed up to MAX_BATCH_LINES whatever is set). */
export const LIMIT_MAX: Readonly<Record<LimitName, number>> = {
  jobs_per_hour: 1_000_000,
  bytes_per_day: 1024 ** 5,
  batch_lines: MAX_BATCH_LINES,
};

export function configuredLimits(limits: BotLimits): Record<LimitName, number> {
  return {
    jobs_per_hour: limits.jobsPerHour ?? DEFAULTS.jobs_per_hour,
    bytes_per_day: limits.bytesPerDay ?? DEFAULTS.bytes_per_day,
    batch_lines: Math.min(limits.batchLines ?? DEFAULTS.batch_lines, MAX_BATCH_LINES),
  };
}

/** The limits in force: the owner's overrides over the configuration. */
export async function effectiveLimits(
  db: Db,
  limits: BotLimits,
): Promise<{ values: Record<LimitName, number>; overridden: Set<LimitName> }> {
  const values = configuredLimits(limits);
  const overridden = new Set<LimitName>();
  for (const name of LIMIT_NAMES) {
    const stored = await getBotSetting<unknown>(db, `limit.${name}`, null);
    if (typeof stored === "number" && Number.isSafeInteger(stored) && stored >= 1) {
      values[name] = Math.min(stored, LIMIT_MAX[name]);
      overridden.add(name);
    }
  }
  return { values, overridden };
}

/** Stores an override; `null` goes back to the configured value. */
export async function setLimit(db: Db, name: LimitName, value: number | null, by: number): Promise<void> {
  if (value === null) await db.deleteFrom("bot_settings").where("key", "=", `limit.${name}`).execute();
  else await setBotSetting(db, `limit.${name}`, value, by);
}

export type QuotaRefusal =
  | { kind: "jobsPerHour"; limit: number; resetsAt: number }
  | { kind: "bytesPerDay"; limit: number; used: number; resetsAt: number };

/**
 * How many of `wanted` new jobs the user may still queue under the hourly and daily limits, and the limit that
 * stopped the rest. A day is a UTC day: it resets at midnight UTC.
 */
export async function quotaLeft(
  db: Db,
  limits: BotLimits,
  userId: number,
  wanted: number,
  nowMs: number,
): Promise<{ take: number; refusal: QuotaRefusal | undefined }> {
  const { values } = await effectiveLimits(db, limits);
  const dayStart = new Date(nowMs);
  dayStart.setUTCHours(0, 0, 0, 0);
  const delivered = await deliveredBytesSince(db, userId, dayStart.toISOString());
  if (delivered >= values.bytes_per_day) {
    return {
      take: 0,
      refusal: {
        kind: "bytesPerDay",
        limit: values.bytes_per_day,
        used: delivered,
        resetsAt: dayStart.getTime() + 24 * HOUR_MS,
      },
    };
  }
  const hour = await jobsCreatedSince(db, userId, new Date(nowMs - HOUR_MS).toISOString());
  const left = Math.max(0, values.jobs_per_hour - hour.count);
  if (left >= wanted) return { take: wanted, refusal: undefined };
  const oldest = hour.oldest ? Date.parse(hour.oldest) : nowMs;
  return {
    take: left,
    refusal: { kind: "jobsPerHour", limit: values.jobs_per_hour, resetsAt: oldest + HOUR_MS },
  };
}
