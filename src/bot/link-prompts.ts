/**
 * Questions about site links, asked in the chat and kept in the database (link_prompts) so that a restart finds
 * them: a single video gets quality buttons (only the qualities its formats have) unless the user set a default
 * quality in /settings; a playlist gets its count (at most `maxPlaylistItems` taken) and a confirm button. Several
 * site links in one message get one question for all of them, asked at once with every quality: no probe per link
 * (the jobs read the pages anyway); a height a video lacks gets the nearest lower one, or its lowest (chooseFormat).
 *
 *   probing ──probe──> asking ──press or deadline──> queued      (the deadline queues the user's default, or best)
 *      │                 ^
 *      │                 └── several links start here
 *      ├──probe──> confirming ──confirm──> queued (a batch, one job per item) / cancel or deadline ──> expired
 *      └──probe: nothing to ask (a file, one quality, a default set) ──> queued
 *
 * The row's state and deadline are the truth; the clock below only wakes up at the nearest deadline (and at start)
 * and acts on what the rows say, and every move is a compare-and-set done in the transaction that queues the jobs,
 * so a press racing the deadline acts once. A probe cut by a restart is covered too: its row keeps a deadline.
 */
import { randomBytes } from "node:crypto";
import type { Db } from "../db/database.js";
import {
  duePrompts,
  getPrompt,
  insertPrompt,
  movePrompt,
  nextPromptDeadline,
  setPromptMessage,
} from "../db/link-prompts.js";
import type { Job, LinkPrompt, LinkPromptState } from "../db/schema.js";
import { getUserSettings } from "../db/settings.js";
import { getUser } from "../db/users.js";
import { looksLikeFile } from "../fetch/source.js";
import type { YtdlpInfo } from "../fetch/ytdlp/download.js";
import { availableQualities } from "../fetch/ytdlp/formats.js";
import { MESSAGE_LIMIT, truncateHtml, visibleLength } from "../jobs/telegram-html.js";
import { QUALITIES, type Quality } from "../lib/quality.js";
import type { Logger } from "../logger.js";
import type { Button, IncomingCallback, TelegramGateway } from "../telegram/gateway.js";
import { encodePrompt, type PromptData } from "./callback-data.js";
import type { BotContext, BotDeps, ContextRole } from "./context.js";
import { type LinkRequest, queueLinks, type Requester, refusalText } from "./enqueue.js";
import { isFeatureOn, isPlaylistLink } from "./features.js";
import { html, type Language, type Translate, translator } from "./i18n/translate.js";
import type { LinkOptions } from "./link-options.js";
import { queuedLines } from "./links.js";
import { fitLines, linkLabel } from "./render.js";

/** What the bot needs to ask about links; without it (tests of other parts) links are queued at once. */
export interface PromptSettings {
  /** Reads a page with yt-dlp (flat for playlists). */
  probe(url: string, signal: AbortSignal): Promise<YtdlpInfo>;
  /** How long the quality buttons wait before the default applies. QUALITY_PROMPT_SECONDS. */
  qualityTimeoutMs: number;
  /** Items taken from one playlist. MAX_PLAYLIST_ITEMS. */
  maxPlaylistItems: number;
  /** How long a playlist's confirm button stays valid. @default 15 minutes */
  playlistTimeoutMs?: number;
  /** Bound on one probe; a probe cut by a restart is given up this long after it began. @default 2 minutes */
  probeTimeoutMs?: number;
}

const PLAYLIST_TIMEOUT_MS = 15 * 60 * 1000;
const PROBE_TIMEOUT_MS = 2 * 60 * 1000;
/** The clock looks at the table at least this often, whatever the nearest deadline says. */
const MAX_SLEEP_MS = 30_000;
/** Titles in the question are cut to this many characters. */
const TITLE_CHARS = 200;

/** One link as the user wrote it: its name and "| options" go into its job unchanged. */
interface StoredLink {
  url: string;
  name?: string;
  options?: LinkOptions;
}

/** What a row's `request` holds (JSON): one link in its own fields, or several in `links`. */
interface StoredRequest extends StoredLink {
  /** Several links, one question (the fields above then repeat the first). */
  links?: StoredLink[];
  destinationChatId: number;
  language: Language;
  title?: string;
  /** Qualities offered (asking). */
  offered?: Quality[];
  /** The playlist's entries taken, and how many it had (confirming). */
  entries?: string[];
  total?: number;
}

/** True for a message whose one link should be looked at before it is queued. */
export async function shouldProbe(ctx: BotContext, links: readonly LinkRequest[]): Promise<boolean> {
  const link = links[0];
  if (!ctx.deps.prompts || links.length !== 1 || !link) return false;
  if (looksLikeFile(new URL(link.url))) return false;
  return isFeatureOn(ctx.db, "ytdlp");
}

/**
 * The site links of a message of several links that get one quality question: not files, not playlists, not
 * "| audio", and only while the user has no default quality. Empty: queue them all at once.
 */
export async function linksToAsk(ctx: BotContext, links: readonly LinkRequest[]): Promise<LinkRequest[]> {
  if (!ctx.deps.prompts || ctx.incoming.kind !== "message") return [];
  const site = links.filter(
    (l) => !looksLikeFile(new URL(l.url)) && !isPlaylistLink(l.url) && !l.options?.audio,
  );
  if (site.length === 0 || !(await isFeatureOn(ctx.db, "ytdlp"))) return [];
  return (await getUserSettings(ctx.db, ctx.incoming.from.id)).askQuality ? site : [];
}

/** Stores the question, says "looking at the link" and probes in the background; the clock covers a restart. */
export async function askAboutLink(
  ctx: BotContext,
  link: LinkRequest,
  destinationChatId: number,
): Promise<void> {
  const question = prepareQuestion(ctx, [link], destinationChatId);
  if (!question) return;
  await insertPrompt(ctx.db, question.row);
  await question.ask();
}

/** A question's row, to be stored (in the caller's transaction), and what asks it once stored. */
export interface PreparedQuestion {
  row: Parameters<typeof insertPrompt>[1];
  ask(): Promise<void>;
}

/**
 * One link is probed first (its qualities, or a playlist's confirm); several are asked about at once, with every
 * quality. Undefined without prompts (tests of other parts) or outside a message.
 */
export function prepareQuestion(
  ctx: BotContext,
  links: readonly LinkRequest[],
  destinationChatId: number,
): PreparedQuestion | undefined {
  const prompts = ctx.deps.prompts;
  const [first] = links;
  if (!prompts || ctx.incoming.kind !== "message" || !first) return undefined;
  const id = newPromptId();
  const now = ctx.now();
  const stored = links.map(
    (link): StoredLink => ({
      url: link.url,
      ...(link.name ? { name: link.name } : {}),
      ...(link.options ? { options: link.options } : {}),
    }),
  );
  const several = stored.length > 1;
  const request: StoredRequest = {
    ...(stored[0] as StoredLink),
    ...(several ? { links: stored, offered: [...QUALITIES] } : {}),
    destinationChatId,
    language: ctx.language,
  };
  const probeBudget = prompts.probeTimeoutMs ?? PROBE_TIMEOUT_MS;
  const row: PreparedQuestion["row"] = {
    id,
    user_id: ctx.incoming.from.id,
    chat_id: ctx.incoming.chatId,
    request_message_id: ctx.incoming.messageId,
    state: several ? "asking" : "probing",
    request: JSON.stringify(request),
    deadline: iso(now + (several ? 0 : probeBudget) + prompts.qualityTimeoutMs),
    created_at: iso(now),
  };
  return {
    row,
    async ask() {
      // The probe runs beside the update loop (it may take seconds); the answer comes when it is done.
      if (!several) return ctx.deps.promptClock?.run(() => probeAndAsk(ctx, id, probeBudget));
      ctx.deps.promptClock?.poke();
      const stored = await getPrompt(ctx.db, id);
      if (stored?.state !== "asking") return;
      await edit(
        ctx.db,
        ctx.gateway,
        stored,
        severalQuestion(ctx.t, request, prompts.qualityTimeoutMs),
        qualityButtons(ctx.t, [...QUALITIES], id, stored.user_id),
      );
    },
  };
}

/** "Quality for N videos", the links (as many as fit in one message) and the default's countdown. */
function severalQuestion(t: Translate, request: StoredRequest, timeoutMs: number): string {
  const links = request.links ?? [request];
  const params = {
    count: links.length,
    quality: qualityLabel(t, "best"),
    seconds: Math.max(1, Math.round(timeoutMs / 1000)),
  };
  const frame = visibleLength(t("prompt.qualityMany", { ...params, list: html("") }));
  const lines = links.map((l) =>
    l.name
      ? t("prompt.qualityItemNamed", { name: l.name, link: linkLabel(l.url) })
      : t("prompt.qualityItem", { link: linkLabel(l.url) }),
  );
  const [head = "", ...rest] = lines;
  const list = fitLines(head, rest, (count) => t("queue.more", { count }), MESSAGE_LIMIT - frame);
  return t("prompt.qualityMany", { ...params, list: html(list) });
}

/** Three buttons a row. */
function qualityButtons(t: Translate, offered: readonly Quality[], id: string, userId: number): Button[][] {
  const buttons: Button[][] = [];
  for (let i = 0; i < offered.length; i += 3) {
    buttons.push(
      offered.slice(i, i + 3).map((q) => ({ text: qualityLabel(t, q), data: encodePrompt(q, id, userId) })),
    );
  }
  return buttons;
}

async function probeAndAsk(ctx: BotContext, id: string, budgetMs: number): Promise<void> {
  const prompts = ctx.deps.prompts;
  const row = await getPrompt(ctx.db, id);
  if (!prompts || row?.state !== "probing") return;
  const request = JSON.parse(row.request) as StoredRequest;
  let info: YtdlpInfo | undefined;
  try {
    info = await prompts.probe(request.url, AbortSignal.timeout(budgetMs));
  } catch (error) {
    // Not a page yt-dlp reads (a direct file, an unsupported site): the job finds out and says why.
    ctx.log.info({ err: error, prompt: id }, "link probe failed; queued as it is");
  }
  const title = info?.title?.slice(0, TITLE_CHARS);
  if (title) request.title = title;
  const now = ctx.now();

  if (info?.entries) {
    if (!(await isFeatureOn(ctx.db, "playlists"))) {
      if (await movePrompt(ctx.db, id, ["probing"], "cancelled", { resolved_at: iso(now) })) {
        await edit(
          ctx.db,
          ctx.gateway,
          row,
          ctx.t("links.invalid", { link: linkLabel(request.url), reason: ctx.t("links.playlistOff") }),
        );
      }
      return;
    }
    request.total = info.entries.length;
    request.entries = info.entries.slice(0, prompts.maxPlaylistItems);
    if (request.entries.length === 0) {
      if (await movePrompt(ctx.db, id, ["probing"], "cancelled", { resolved_at: iso(now) })) {
        await edit(ctx.db, ctx.gateway, row, ctx.t("playlist.empty"));
      }
      return;
    }
    const deadline = iso(now + (prompts.playlistTimeoutMs ?? PLAYLIST_TIMEOUT_MS));
    if (
      !(await movePrompt(ctx.db, id, ["probing"], "confirming", {
        request: JSON.stringify(request),
        deadline,
      }))
    )
      return;
    ctx.deps.promptClock?.poke();
    await edit(ctx.db, ctx.gateway, row, playlistQuestion(ctx.t, request, prompts.maxPlaylistItems), [
      [
        {
          text: ctx.t("playlist.confirm", { count: request.entries.length }),
          data: encodePrompt("ok", id, row.user_id),
        },
        { text: ctx.t("playlist.cancel"), data: encodePrompt("no", id, row.user_id) },
      ],
    ]);
    return;
  }

  const settings = await getUserSettings(ctx.db, row.user_id);
  const offered = info && info.formats.length > 0 ? availableQualities(info.formats) : [];
  // Asked only when there is a choice of picture; "| audio" on the line says the rest.
  const ask = settings.askQuality && !request.options?.audio && offered.some((q) => /^\d+$/.test(q));
  if (!ask) {
    await queueNow(ctx, row, request, undefined, ["probing"]);
    return;
  }
  request.offered = offered;
  const deadline = iso(now + prompts.qualityTimeoutMs);
  if (!(await movePrompt(ctx.db, id, ["probing"], "asking", { request: JSON.stringify(request), deadline })))
    return;
  ctx.deps.promptClock?.poke();
  const buttons = qualityButtons(ctx.t, offered, id, row.user_id);
  await edit(
    ctx.db,
    ctx.gateway,
    row,
    ctx.t("prompt.quality", {
      title: title ?? linkLabel(request.url),
      quality: qualityLabel(ctx.t, "best"),
      seconds: Math.max(1, Math.round(prompts.qualityTimeoutMs / 1000)),
    }),
    buttons,
  );
}

/** A press on a question's button: the data was parsed and bound to the presser by the router. */
export async function handlePromptPress(
  ctx: BotContext,
  callback: IncomingCallback,
  data: PromptData,
): Promise<void> {
  const row = await getPrompt(ctx.db, data.promptId);
  if (!row || row.user_id !== callback.from.id || row.message_id !== callback.messageId) {
    await ctx.answer(ctx.t("callback.invalid"), true);
    return;
  }
  const request = JSON.parse(row.request) as StoredRequest;
  const playlist = data.choice === "ok" || data.choice === "no";
  const open: LinkPromptState = playlist ? "confirming" : "asking";
  if (row.state !== open) {
    await ctx.answer(closedAnswer(ctx.t, row), true);
    return;
  }
  if (!playlist && !request.offered?.includes(data.choice as Quality)) {
    await ctx.answer(ctx.t("callback.invalid"), true);
    return;
  }
  if (data.choice === "no") {
    if (await movePrompt(ctx.db, row.id, ["confirming"], "cancelled", { resolved_at: iso(ctx.now()) })) {
      await ctx.answer();
      await edit(ctx.db, ctx.gateway, row, ctx.t("playlist.cancelled"));
    } else {
      await ctx.answer(closedAnswer(ctx.t, (await getPrompt(ctx.db, row.id)) ?? row), true);
    }
    return;
  }
  const queued = playlist
    ? await queuePlaylist(ctx, row, request)
    : await queueNow(ctx, row, request, data.choice as Quality, ["asking"]);
  if (!queued) await ctx.answer(closedAnswer(ctx.t, (await getPrompt(ctx.db, row.id)) ?? row), true);
  else await ctx.answer();
}

/** Queues the question's links (the chosen quality, else the user's default) and turns the question into the reply. */
async function queueNow(
  who: Requester & { t: Translate; log: Logger; gateway: TelegramGateway },
  row: LinkPrompt,
  request: StoredRequest,
  quality: Quality | undefined,
  from: LinkPromptState[],
  timedOut = false,
): Promise<boolean> {
  const outcome = await queueLinks(
    who,
    (request.links ?? [request]).map((link) => ({
      url: link.url,
      name: link.name,
      ...(link.options ? { options: link.options } : {}),
      ...(quality ? { quality } : {}),
    })),
    { destinationChatId: request.destinationChatId, claim: claimer(row, from, who.now()) },
  );
  if (!outcome.claimed) return false;
  const jobs = outcome.jobs;
  await recordJobs(who.db, row.id, jobs);
  const lines: string[] = [];
  if (timedOut) {
    const settings = await getUserSettings(who.db, row.user_id);
    const applied = request.options?.audio ? "audio" : settings.askQuality ? "best" : settings.quality;
    lines.push(who.t("prompt.timedOut", { quality: qualityLabel(who.t, applied) }));
  } else if (quality) {
    lines.push(who.t("prompt.chosen", { quality: qualityLabel(who.t, quality) }));
  }
  if (jobs.length > 0) lines.push(...(await queuedLines(who, jobs)));
  if (outcome.refusal && !(jobs.length === 0 && outcome.quiet)) lines.push(refusalText(who, outcome.refusal));
  await edit(who.db, who.gateway, row, lines.join("\n") || who.t("prompt.nothing"));
  return true;
}

/** One job per playlist item, as a batch (the batch summary follows when it ends). */
async function queuePlaylist(ctx: BotContext, row: LinkPrompt, request: StoredRequest): Promise<boolean> {
  const entries = request.entries ?? [];
  const outcome = await queueLinks(
    ctx,
    entries.map((url) => ({
      url,
      name: undefined,
      ...(request.options ? { options: request.options } : {}),
    })),
    {
      destinationChatId: request.destinationChatId,
      batch: { sourceName: request.title ?? null },
      claim: claimer(row, ["confirming"], ctx.now()),
    },
  );
  if (!outcome.claimed) return false;
  await recordJobs(ctx.db, row.id, outcome.jobs);
  const first = outcome.jobs[0];
  const lines: string[] = [];
  if (first) {
    lines.push(
      ctx.t("batch.queued", {
        batch: first.batch_id ?? first.id,
        count: outcome.jobs.length,
        name: request.title ?? linkLabel(request.url),
      }),
    );
  }
  if (outcome.refusal) {
    if (first) lines.push(ctx.t("limit.partial", { queued: outcome.jobs.length, wanted: entries.length }));
    lines.push(refusalText(ctx, outcome.refusal));
  }
  await edit(ctx.db, ctx.gateway, row, lines.join("\n") || ctx.t("prompt.nothing"));
  return true;
}

function claimer(row: LinkPrompt, from: LinkPromptState[], nowMs: number) {
  return (trx: Parameters<NonNullable<Parameters<typeof queueLinks>[2]["claim"]>>[0]) =>
    movePrompt(trx, row.id, from, "queued", { resolved_at: iso(nowMs) });
}

async function recordJobs(db: Db, id: string, jobs: readonly Job[]): Promise<void> {
  await db
    .updateTable("link_prompts")
    .set({ job_ids: JSON.stringify(jobs.map((j) => j.id)) })
    .where("id", "=", id)
    .execute();
}

/** The short answer to a press on a question that is no longer open. */
function closedAnswer(t: Translate, row: LinkPrompt): string {
  if (row.state === "queued") return t("prompt.alreadyStarted");
  if (row.state === "probing") return t("prompt.notReady");
  return t("prompt.expired");
}

function playlistQuestion(t: Translate, request: StoredRequest, max: number): string {
  const count = request.entries?.length ?? 0;
  const total = request.total ?? count;
  return t(total > count ? "playlist.askBounded" : "playlist.ask", {
    title: request.title ?? linkLabel(request.url),
    count,
    total,
    max,
  });
}

export function qualityLabel(t: Translate, quality: Quality): string {
  if (quality === "best") return t("prompt.q.best");
  if (quality === "audio") return t("prompt.q.audio");
  return `${quality}p`;
}

/**
 * The question's message becomes `html`: its first answer is a new message (a reply to the link in groups), which
 * the row then names, so that a press is checked against it; later ones edit it.
 */
async function edit(
  db: Db,
  gateway: TelegramGateway,
  row: LinkPrompt,
  html: string,
  buttons: Button[][] = [],
): Promise<void> {
  const text = truncateHtml(html, MESSAGE_LIMIT);
  if (row.message_id !== null) {
    await gateway.editText(row.chat_id, row.message_id, text, { html: true, buttons });
    return;
  }
  const inGroup = row.chat_id !== row.user_id && row.request_message_id !== null;
  const sent = await gateway.sendText(row.chat_id, text, {
    html: true,
    ...(buttons.length > 0 ? { buttons } : {}),
    ...(inGroup && row.request_message_id !== null ? { replyTo: row.request_message_id } : {}),
  });
  row.message_id = sent.messageId;
  await setPromptMessage(db, row.id, sent.messageId);
}

// ---- the clock: deadlines, also after a restart ----

export interface PromptClock {
  /** Looks at the table now and then at each nearest deadline. */
  start(): void;
  /** A deadline was set: look again soon. */
  poke(): void;
  /** Background work tied to a question (a probe), awaited by stop(). */
  run(work: () => Promise<void>): void;
  stop(): Promise<void>;
}

export function createPromptClock(deps: BotDeps): PromptClock {
  const clock = deps.clock ?? Date.now;
  const log = deps.log.child({ module: "link-prompts" });
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let stopped = true;
  let again = false;

  const track = (work: () => Promise<void>) => {
    const p = work()
      .catch((error: unknown) => log.error({ err: error }, "link question failed"))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  const schedule = (ms: number) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => track(tick), Math.max(0, ms));
  };

  async function tick(): Promise<void> {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        for (const row of await duePrompts(deps.db, iso(clock()))) {
          await expire(deps, row, log).catch((error: unknown) =>
            log.error({ err: error, prompt: row.id }, "a question's deadline could not be applied"),
          );
        }
      } while (again && !stopped);
    } finally {
      running = false;
    }
    const next = await nextPromptDeadline(deps.db);
    const wait = next === undefined ? MAX_SLEEP_MS : Math.min(MAX_SLEEP_MS, Date.parse(next) - clock());
    schedule(wait);
  }

  return {
    start() {
      stopped = false;
      schedule(0);
    },
    poke() {
      if (running) again = true;
      else schedule(0);
    },
    run: track,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

/** A question whose deadline passed: the link goes with the default; a playlist not confirmed expires. */
async function expire(deps: BotDeps, row: LinkPrompt, log: Logger): Promise<void> {
  const request = JSON.parse(row.request) as StoredRequest;
  const t = translator(request.language);
  const now = deps.clock ?? Date.now;
  if (row.state === "confirming") {
    if (await movePrompt(deps.db, row.id, ["confirming"], "expired", { resolved_at: iso(now()) })) {
      await edit(deps.db, deps.gateway, row, t("playlist.expired"));
    }
    return;
  }
  const user = await getUser(deps.db, row.user_id);
  const role: ContextRole = user && !user.removed_at ? user.role : "guest";
  if (role === "banned" || role === "guest") {
    await movePrompt(deps.db, row.id, ["probing", "asking"], "expired", { resolved_at: iso(now()) });
    return;
  }
  const who = {
    db: deps.db,
    deps,
    role,
    now,
    t,
    log,
    gateway: deps.gateway,
    incoming: {
      from: { id: row.user_id },
      chatId: row.chat_id,
      kind: "message" as const,
      ...(row.request_message_id !== null ? { messageId: row.request_message_id } : {}),
    },
  };
  await queueNow(who, row, request, undefined, ["probing", "asking"], true);
}

function newPromptId(): string {
  return randomBytes(6).toString("base64url");
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
