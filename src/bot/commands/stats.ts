/**
 * /stats (admins): today (UTC), the last 7 days and in all — jobs, success rate, bytes delivered, average download
 * and upload speeds, the users with most jobs and the most frequent error codes — and, when the last 14 days saw
 * jobs on more than one day, a bar chart of the bytes delivered per day as a PNG.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { dailyVolume, type PeriodStats, periodStats, topErrors, topUsers } from "../../db/stats.js";
import { randomLong } from "../../lib/ids.js";
import { formatBytes } from "../../lib/size.js";
import { ADMINS, type Command } from "../command.js";
import type { BotContext } from "../context.js";
import { DAY_MS, dayStart, weekAgo } from "../periods.js";
import { CHART_HEIGHT, CHART_WIDTH, volumeChart } from "../volume-chart.js";

const CHART_DAYS = 14;
const TOP = 5;

export const stats: Command = {
  name: "stats",
  description: "cmd.stats",
  roles: ADMINS,
  async run(ctx) {
    const now = ctx.now();
    const periods: [string, string | null][] = [
      [ctx.t("stats.today"), dayStart(now)],
      [ctx.t("stats.week"), weekAgo(now)],
      [ctx.t("stats.all"), null],
    ];
    const blocks = [ctx.t("stats.title")];
    for (const [name, since] of periods) blocks.push(await periodBlock(ctx, name, since));
    await ctx.reply(blocks.join("\n\n"));

    const firstDay = Date.parse(dayStart(now)) - (CHART_DAYS - 1) * DAY_MS;
    const volume = await dailyVolume(ctx.db, new Date(firstDay).toISOString());
    if (volume.length < 2) return; // one day or none: the numbers above say it all
    const byDay = new Map(volume.map((v) => [v.day, v.bytes]));
    const values = Array.from(
      { length: CHART_DAYS },
      (_, i) => byDay.get(new Date(firstDay + i * DAY_MS).toISOString().slice(0, 10)) ?? 0,
    );
    const caption = ctx.t("stats.chart", {
      days: CHART_DAYS,
      from: new Date(firstDay).toISOString().slice(0, 10),
      to: new Date(now).toISOString().slice(0, 10),
      max: formatBytes(Math.max(...values)),
      width: CHART_WIDTH,
      height: CHART_HEIGHT,
    });
    await sendPng(ctx, volumeChart(values), caption);
  },
};

async function periodBlock(ctx: BotContext, name: string, since: string | null): Promise<string> {
  const s = await periodStats(ctx.db, since);
  const users = await topUsers(ctx.db, since, TOP);
  const errors = await topErrors(ctx.db, since, TOP);
  const none = ctx.t("stats.none");
  const userList =
    users.map((u) => `${u.username ? `@${u.username}` : (u.firstName ?? u.userId)} ${u.jobs}`).join(" · ") ||
    none;
  const errorList = errors.map((e) => `${e.code} ${e.count}`).join(" · ") || none;
  return [
    ctx.t("stats.period", {
      period: name,
      jobs: s.jobs,
      done: s.done,
      failed: s.failed,
      cancelled: s.cancelled,
      rate: successRate(s) ?? none,
      bytes: formatBytes(s.bytes),
      down: speed(s.downloadBytes, s.downloadMs) ?? none,
      up: speed(s.uploadBytes, s.uploadMs) ?? none,
    }),
    ctx.t("stats.users", { list: userList }),
    ctx.t("stats.errors", { list: errorList }),
  ].join("\n");
}

/** Done among the jobs that ended done or failed (cancelled ones say nothing about the service). */
export function successRate(s: Pick<PeriodStats, "done" | "failed">): string | undefined {
  const ended = s.done + s.failed;
  if (ended === 0) return undefined;
  return `${((100 * s.done) / ended).toFixed(1)}%`;
}

export function speed(bytes: number, ms: number): string | undefined {
  if (ms <= 0 || bytes <= 0) return undefined;
  return `${formatBytes((bytes * 1000) / ms)}/s`;
}

async function sendPng(ctx: BotContext, png: Buffer, caption: string): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "medusa-stats-"));
  try {
    const file = path.join(dir, "stats.png");
    await writeFile(file, png);
    const uploaded = await ctx.gateway.uploadFile(file, { fileName: "stats.png" });
    await ctx.gateway.sendFile(ctx.incoming.chatId, {
      file: uploaded,
      randomId: randomLong(),
      caption,
      mimeType: "image/png",
      fileName: "stats.png",
      forceDocument: true,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
