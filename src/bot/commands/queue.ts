import { listUnfinished } from "../../db/jobs.js";
import { queueOverview } from "../../db/queue-overview.js";
import { type Command, EVERYONE } from "../command.js";
import type { BotContext } from "../context.js";
import { clockUtc, etaText, fitLines, jobLabel } from "../render.js";

export const queue: Command = {
  name: "queue",
  description: "cmd.queue",
  roles: EVERYONE,
  async run(ctx, args) {
    const all = args.toLowerCase() === "all" && (ctx.role === "owner" || ctx.role === "admin");
    await ctx.reply(await queueText(ctx, all));
  },
};

/** The user's running and waiting jobs (or everyone's, for an admin's "/queue all"), with places and waits. */
export async function queueText(ctx: BotContext, all = false): Promise<string> {
  const overview = await queueOverview(ctx.db, all ? {} : { userId: ctx.incoming.from.id });
  if (overview.jobs.length === 0) return ctx.t(all ? "queue.emptyAll" : "queue.empty");
  const head = ctx.t(all ? "queue.titleAll" : "queue.title", {
    running: overview.running,
    waiting: overview.waiting,
  });
  const jobs = new Map((await listUnfinished(ctx.db)).map((j) => [j.id, j]));
  const lines: string[] = [];
  // Every entry gets its line; fitLines keeps what fits in one message and counts the rest.
  for (const entry of overview.jobs) {
    const job = jobs.get(entry.id);
    if (!job) continue; // finished meanwhile
    const name = jobLabel(job);
    const id = entry.id;
    let line: string;
    if (entry.cancelRequested) line = ctx.t("queue.cancelling", { id, name });
    else if (entry.running) {
      const percent =
        entry.bytesTotal && entry.bytesTotal > 0
          ? ` ${Math.min(100, Math.floor((entry.bytesDone / entry.bytesTotal) * 100))}%`
          : "";
      const status = entry.status === "queued" ? "downloading" : entry.status;
      line = ctx.t("queue.running", {
        id,
        name,
        status: ctx.t(`status.${status as "downloading"}`),
        percent,
      });
    } else if (entry.position !== null && Date.parse(entry.runAt) > ctx.now()) {
      line = ctx.t("queue.later", { id, name, time: clockUtc(Date.parse(entry.runAt)) });
    } else if (entry.position !== null) {
      const eta = etaText(entry.position, overview.recent.averageJobMs, ctx.deps.limits.workers);
      line = eta
        ? ctx.t("queue.waitingEta", { id, name, position: entry.position, eta })
        : ctx.t("queue.waiting", { id, name, position: entry.position });
    } else line = ctx.t("queue.cancelling", { id, name });
    if (all) line += ` · ${ctx.t("queue.owner", { user: entry.userId })}`;
    lines.push(line);
  }
  return fitLines(head, lines, (count) => ctx.t("queue.more", { count }));
}
