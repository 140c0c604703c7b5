/**
 * /usage: the user's own jobs and bytes delivered today (UTC), in the last 7 days and in all, and what is left of
 * each limit: unfinished jobs (MAX_QUEUED_JOBS_PER_USER), requests this minute (RATE_LIMIT_PER_MINUTE), and any
 * limits the admins stored in bot_settings "limits" (read defensively: a shape this build does not know is shown
 * as it is, never trusted).
 */
import { usageSince } from "../../db/history.js";
import { countUnfinishedForUser, requestsSince } from "../../db/jobs.js";
import { getBotSetting } from "../../db/settings.js";
import { formatBytes } from "../../lib/size.js";
import { type Command, EVERYONE } from "../command.js";
import type { BotContext } from "../context.js";
import { dayStart, weekAgo } from "../periods.js";

const MINUTE_MS = 60_000;
/** Stored limits shown at most (the setting is an admin's JSON). */
const MAX_EXTRA_LIMITS = 20;

/** Stored limit names this build understands, by what they count. */
const COUNTED: Record<string, { period: "today" | "week"; unit: "jobs" | "bytes" }> = {
  jobsPerDay: { period: "today", unit: "jobs" },
  dailyJobs: { period: "today", unit: "jobs" },
  bytesPerDay: { period: "today", unit: "bytes" },
  dailyBytes: { period: "today", unit: "bytes" },
  jobsPerWeek: { period: "week", unit: "jobs" },
  weeklyJobs: { period: "week", unit: "jobs" },
  bytesPerWeek: { period: "week", unit: "bytes" },
  weeklyBytes: { period: "week", unit: "bytes" },
};

export const usage: Command = {
  name: "usage",
  description: "cmd.usage",
  roles: EVERYONE,
  async run(ctx) {
    await ctx.reply(await usageText(ctx));
  },
};

export async function usageText(ctx: BotContext): Promise<string> {
  const userId = ctx.incoming.from.id;
  const now = ctx.now();
  const today = await usageSince(ctx.db, userId, dayStart(now));
  const week = await usageSince(ctx.db, userId, weekAgo(now));
  const all = await usageSince(ctx.db, userId, null);
  const line = (period: string, u: { jobs: number; bytes: number }) =>
    ctx.t("usage.line", { period, jobs: u.jobs, bytes: formatBytes(u.bytes) });
  const lines = [
    ctx.t("usage.title"),
    line(ctx.t("usage.today"), today),
    line(ctx.t("usage.week"), week),
    line(ctx.t("usage.all"), all),
    "",
    ctx.t("usage.limits"),
  ];
  const exempt = ctx.role === "owner" || ctx.role === "admin";
  if (exempt) lines.push(ctx.t("usage.exempt", { role: ctx.t(`role.${ctx.role as "admin"}`) }));
  else {
    const limits = ctx.deps.limits;
    const queued = await countUnfinishedForUser(ctx.db, userId);
    const recent = await requestsSince(ctx.db, userId, new Date(now - MINUTE_MS).toISOString());
    const left = (used: number, limit: number) => Math.max(0, limit - used);
    lines.push(
      ctx.t("usage.queue", {
        used: queued,
        limit: limits.queuedJobsPerUser,
        left: left(queued, limits.queuedJobsPerUser),
      }),
      ctx.t("usage.rate", {
        used: recent.count,
        limit: limits.ratePerMinute,
        left: left(recent.count, limits.ratePerMinute),
      }),
    );
  }
  const stored = await getBotSetting<unknown>(ctx.db, "limits", {});
  if (stored !== null && typeof stored === "object" && !Array.isArray(stored)) {
    const entries = Object.entries(stored as Record<string, unknown>)
      .filter((e): e is [string, number] => typeof e[1] === "number" && Number.isFinite(e[1]) && e[1] >= 0)
      .slice(0, MAX_EXTRA_LIMITS);
    for (const [name, limit] of entries) {
      const counted = COUNTED[name];
      const bytes = counted?.unit === "bytes" || /bytes|size/i.test(name);
      const show = (n: number) => (bytes ? formatBytes(n) : String(n));
      if (!counted || exempt) {
        lines.push(ctx.t("usage.extraSet", { name, value: show(limit) }));
        continue;
      }
      const period = counted.period === "today" ? today : week;
      const used = counted.unit === "jobs" ? period.jobs : period.bytes;
      lines.push(
        ctx.t("usage.extra", {
          name,
          used: show(used),
          limit: show(limit),
          left: show(Math.max(0, limit - used)),
        }),
      );
    }
  }
  return lines.join("\n");
}
