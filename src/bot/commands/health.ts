import { recentErrorCodes } from "../../db/job-errors.js";
import { queueOverview } from "../../db/queue-overview.js";
import { freeBytes } from "../../fetch/http/disk-space.js";
import { formatDuration } from "../../jobs/caption.js";
import { withDeadline } from "../../lib/abort.js";
import { runTool } from "../../lib/run-tool.js";
import { formatBytes } from "../../lib/size.js";
import { ADMINS, type Command } from "../command.js";
import type { BotContext } from "../context.js";

/** A tool that does not print its version in this time is reported as not answering. */
const VERSION_TIMEOUT_MS = 10_000;
/** statfs on a hung network mount must not hold the reply. */
const DISK_TIMEOUT_MS = 5_000;
/** Sites change under yt-dlp every few weeks; an older build fails on them. */
export const YTDLP_STALE_DAYS = 90;
const DAY_MS = 24 * 60 * 60 * 1000;
/** The error codes of jobs in this window. */
const ERRORS_WINDOW_MS = DAY_MS;

export const health: Command = {
  name: "health",
  description: "cmd.health",
  roles: ADMINS,
  async run(ctx) {
    await ctx.reply(await healthText(ctx));
  },
};

export async function healthText(ctx: BotContext): Promise<string> {
  const host = ctx.deps.host;
  const lines = [ctx.t("health.title")];
  const state = ctx.gateway.connectionState();
  lines.push(ctx.t("health.telegram", { state: ctx.t(`health.state.${state}`) }));
  const queue = await queueOverview(ctx.db, {});
  lines.push(ctx.t("health.queue", { running: queue.running, waiting: queue.waiting }));
  if (!host) {
    lines.push(ctx.t("health.noHost"));
    return lines.join("\n");
  }
  try {
    const free = await withDeadline(
      freeBytes(host.dataDir),
      DISK_TIMEOUT_MS,
      undefined,
      () => new Error("statfs timed out"),
    );
    lines.push(
      ctx.t(free >= host.minFreeDisk ? "health.disk" : "health.diskLow", {
        free: formatBytes(free),
        min: formatBytes(host.minFreeDisk),
      }),
    );
  } catch (error) {
    ctx.log.warn({ err: error }, "free disk space unknown");
    lines.push(ctx.t("health.diskUnknown"));
  }
  lines.push(
    ctx.t("health.uptime", { uptime: formatDuration(Math.max(0, (ctx.now() - host.startedAt) / 1000)) }),
  );
  const [ffmpeg, ytdlp] = await Promise.all([
    toolVersion(host.ffmpegPath, ["-version"]),
    toolVersion(host.ytdlpPath, ["--version"]),
  ]);
  const ffmpegVersion = ffmpeg ? (/version\s+(\S+)/.exec(ffmpeg)?.[1] ?? ffmpeg) : undefined;
  lines.push(
    ctx.t("health.versions", {
      node: process.versions.node,
      ffmpeg: ffmpegVersion ?? ctx.t("health.noAnswer"),
      ytdlp: ytdlp ?? ctx.t("health.noAnswer"),
    }),
  );
  const built = ytdlp ? ytdlpDate(ytdlp) : undefined;
  if (built !== undefined) {
    const days = Math.floor((ctx.now() - built) / DAY_MS);
    if (days > YTDLP_STALE_DAYS) lines.push(ctx.t("health.ytdlpOld", { days, max: YTDLP_STALE_DAYS }));
  }
  const errors = await recentErrorCodes(ctx.db, new Date(ctx.now() - ERRORS_WINDOW_MS).toISOString());
  if (errors.length === 0) lines.push(ctx.t("health.noErrors"));
  else {
    lines.push(ctx.t("health.errors"));
    for (const e of errors) {
      lines.push(
        ctx.t("health.errorLine", {
          code: e.code,
          count: e.count,
          time: e.lastAt.slice(0, 16).replace("T", " "),
        }),
      );
    }
  }
  return lines.join("\n");
}

/** The first line a tool prints for its version, or undefined when it is missing, fails or takes too long. */
async function toolVersion(binary: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await runTool(binary, args, {
      timeoutMs: VERSION_TIMEOUT_MS,
      maxStdoutChars: 64 * 1024,
    });
    return stdout.split("\n")[0]?.trim() || undefined;
  } catch {
    return undefined; // reported as "no answer"; doctor tells the operator more
  }
}

/** yt-dlp versions are release dates: "2023.03.04" (or "2024.08.06.232914" for nightlies) → epoch ms. */
export function ytdlpDate(version: string): number | undefined {
  const m = /^(\d{4})\.(\d{2})\.(\d{2})/.exec(version);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(ms) ? undefined : ms;
}
