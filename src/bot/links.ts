/**
 * A message with links becomes jobs: every http(s) link in it, one per line or several on a line; "link | new name"
 * renames (the name is sanitised later, with the download). At most `linksPerMessage` are taken; more belong in a
 * .txt list. The reply lists what was queued with each job's place in the queue.
 */
import { jobsOfRequest } from "../db/jobs.js";
import { insertPrompt } from "../db/link-prompts.js";
import { queueOverview } from "../db/queue-overview.js";
import type { Job } from "../db/schema.js";
import { MedusaError } from "../errors.js";
import { parseHttpUrl } from "../fetch/guard/url-guard.js";
import type { BotContext } from "./context.js";
import { defaultDestination } from "./destination.js";
import { type LinkRequest, queueLinks, refusalText } from "./enqueue.js";
import { thrownText } from "./error-text.js";
import { isFeatureOn, isPlaylistLink } from "./features.js";
import { type Html, html } from "./i18n/translate.js";
import { type OptionError, parseParts } from "./link-options.js";
import {
  askAboutLink,
  linksToAsk,
  type PreparedQuestion,
  prepareQuestion,
  shouldProbe,
} from "./link-prompts.js";
import { etaText, fitLines, jobLabel, linkLabel } from "./render.js";

const LINK = /\bhttps?:\/\/[^\s<>"]+/gi;
/** Bounds the work on one message whatever it holds (Telegram's own limit is 4096 characters). */
const MAX_SCANNED_LINKS = 1000;

export interface FoundLinks {
  links: LinkRequest[];
  /**
   * Links that are not valid http(s) links (the error, when there is one, words it for the reader), or whose options
   * were refused (`option`, worded by the caller), with why.
   */
  invalid: { link: string; reason: string; error?: unknown; option?: OptionError }[];
}

export function findLinks(text: string): FoundLinks {
  const links: LinkRequest[] = [];
  const invalid: FoundLinks["invalid"] = [];
  let scanned = 0;
  for (const line of text.split(/\r?\n/)) {
    // "link | name | options": what follows the first bar is for the line's (last) link (src/bot/link-options.ts),
    // and is never scanned for links.
    const bar = line.indexOf("|");
    const linkPart = bar < 0 ? line : line.slice(0, bar);
    const parts =
      bar < 0
        ? { ok: true as const, name: undefined, options: {} }
        : parseParts(line.slice(bar + 1).split("|"));
    const found = [...linkPart.matchAll(LINK)];
    for (const [index, match] of found.entries()) {
      if (++scanned > MAX_SCANNED_LINKS) return { links, invalid };
      const raw = match[0].replace(/[).,;!?]+$/, "");
      const last = index === found.length - 1;
      if (last && !parts.ok) {
        invalid.push({ link: raw, reason: parts.error.part, option: parts.error });
        continue;
      }
      try {
        const url = parseHttpUrl(raw);
        links.push({
          url: url.href,
          name: last && parts.ok ? parts.name : undefined,
          ...(last && parts.ok && Object.keys(parts.options).length > 0 ? { options: parts.options } : {}),
        });
      } catch (error) {
        invalid.push({
          link: raw,
          reason: error instanceof MedusaError ? error.userMessage : "not a link",
          error,
        });
      }
    }
  }
  return { links, invalid };
}

/** Queues the links of a message and replies once; site links asked about get their question after that reply. */
export async function handleLinks(ctx: BotContext, found: FoundLinks): Promise<void> {
  if (ctx.incoming.kind !== "message") return;
  // A redelivered update (the process died while handling it) may have queued its jobs already.
  if (ctx.incoming.redelivered) {
    const existing = await jobsOfRequest(ctx.db, ctx.incoming.chatId, ctx.incoming.messageId);
    if (existing.length > 0) {
      await ctx.reply(ctx.t("links.existing", { ids: existing.map((j) => `#${j.id}`).join(", ") }));
      return;
    }
  }
  const max = ctx.deps.limits.linksPerMessage;
  let wanted = found.links.slice(0, max);
  // admin helper: the owner's playlists switch (/features)
  if (wanted.some((l) => isPlaylistLink(l.url)) && !(await isFeatureOn(ctx.db, "playlists"))) {
    const reason = ctx.t("links.playlistOff");
    for (const l of wanted.filter((l) => isPlaylistLink(l.url))) found.invalid.push({ link: l.url, reason });
    wanted = wanted.filter((l) => !isPlaylistLink(l.url));
    if (wanted.length === 0) {
      await ctx.reply(found.invalid.map((bad) => invalidLine(ctx, bad)).join("\n"));
      return;
    }
  }
  const destinationChatId = await defaultDestination(ctx);
  // One site link: looked at first, for its quality buttons or a playlist's confirm (src/bot/link-prompts.ts).
  if (found.invalid.length === 0 && found.links.length === 1 && (await shouldProbe(ctx, wanted))) {
    await askAboutLink(ctx, wanted[0] as LinkRequest, destinationChatId);
    return;
  }
  // Several links: files, playlists and "| audio" lines go now; the site links get one quality question, stored in
  // the transaction that queues the rest, so a restart finds both or neither.
  const asked = await linksToAsk(ctx, wanted);
  const question: PreparedQuestion | undefined =
    asked.length > 0 ? prepareQuestion(ctx, asked, destinationChatId) : undefined;
  const atOnce = question ? wanted.filter((l) => !asked.includes(l)) : wanted;
  const outcome = await queueLinks(ctx, atOnce, {
    destinationChatId,
    ...(question ? { claim: (trx) => insertPrompt(trx, question.row).then(() => true) } : {}),
  });
  await replyQueued(ctx, found, atOnce, outcome, Boolean(question));
  await question?.ask();
}

/** The reply to what was queued at once: the jobs, a limit hit, the links not taken and why. */
async function replyQueued(
  ctx: BotContext,
  found: FoundLinks,
  wanted: readonly LinkRequest[],
  outcome: Awaited<ReturnType<typeof queueLinks>>,
  asking: boolean,
): Promise<void> {
  const max = ctx.deps.limits.linksPerMessage;
  if (outcome.jobs.length === 0 && outcome.refusal && outcome.quiet) return;
  const lines: string[] = [];
  if (outcome.jobs.length > 0) lines.push(...(await queuedLines(ctx, outcome.jobs)));
  if (outcome.refusal) {
    if (outcome.jobs.length > 0) {
      lines.push("", ctx.t("limit.partial", { queued: outcome.jobs.length, wanted: wanted.length }));
    }
    lines.push(refusalText(ctx, outcome.refusal));
  }
  if (found.links.length > max) {
    lines.push("", ctx.t("links.tooMany", { max, skipped: found.links.length - max }));
  }
  for (const bad of found.invalid) lines.push(invalidLine(ctx, bad));
  // Only site links, all asked about: the question is the answer.
  if (lines.length === 0 && asking) return;
  const [head = "", ...rest] = lines;
  await ctx.reply(fitLines(head, rest, (count) => ctx.t("queue.more", { count })));
}

/** Why a link was not queued, in the reader's language. */
function invalidReason(ctx: BotContext, bad: FoundLinks["invalid"][number]): string | Html {
  return bad.error instanceof MedusaError ? html(thrownText(ctx.t, bad.error)) : bad.reason;
}

/** "Queued N" and one line per job with its place (and a wait estimate once recent jobs give one). */
export async function queuedLines(
  ctx: Pick<BotContext, "db" | "t" | "deps"> & { incoming: { from: { id: number } } },
  jobs: readonly Job[],
): Promise<string[]> {
  const overview = await queueOverview(ctx.db, { userId: ctx.incoming.from.id });
  const byId = new Map(overview.jobs.map((e) => [e.id, e]));
  const lines = [ctx.t("links.queued", { count: jobs.length })];
  for (const job of jobs) {
    const entry = byId.get(job.id);
    const name = jobLabel(job);
    if (!entry || entry.position === null) {
      lines.push(ctx.t("links.lineRunning", { id: job.id, name }));
      continue;
    }
    const eta = etaText(entry.position, overview.recent.averageJobMs, ctx.deps.limits.workers);
    lines.push(
      eta
        ? ctx.t("links.lineEta", { id: job.id, name, position: entry.position, eta })
        : ctx.t("links.line", { id: job.id, name, position: entry.position }),
    );
  }
  return lines;
}

/** "Not queued: link — why"; refused options say what is accepted. */
export function invalidLine(ctx: BotContext, bad: FoundLinks["invalid"][number]): string {
  if (!bad.option)
    return ctx.t("links.invalid", { link: linkLabel(bad.link), reason: invalidReason(ctx, bad) });
  return [
    ctx.t("links.invalid", {
      link: linkLabel(bad.link),
      reason: ctx.t(`options.${bad.option.code}`, { part: bad.option.part }),
    }),
    ctx.t("options.accepted"),
  ].join("\n");
}
