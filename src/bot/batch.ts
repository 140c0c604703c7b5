/**
 * A .txt list into one batch: the file is fetched with the gateway's cap (never more than MAX_BATCH_BYTES), parsed
 * (src/fetch/batch.ts), the good lines queued as one batch under the limits, and the reply lists the lines left out
 * with their numbers and why. A range ("3-10") and a destination come from /batch.
 */
import { listChats } from "../db/chats.js";
import { UserError } from "../errors.js";
import { MAX_BATCH_BYTES, parseBatch } from "../fetch/batch.js";
import { visibleText } from "../jobs/telegram-html.js";
import { formatBytes } from "../lib/size.js";
import type { IncomingFile } from "../telegram/gateway.js";
import { TelegramError } from "../telegram/telegram-error.js";
import type { BotContext } from "./context.js";
import { defaultDestination } from "./destination.js";
import { queueLinks, refusalText } from "./enqueue.js";
import { errorText } from "./error-text.js";
import { isFeatureOn, isPlaylistLink } from "./features.js";
import { html } from "./i18n/translate.js";
import { fitLines, linkLabel } from "./render.js";
import { effectiveLimits } from "./user-limits.js";

/** A .txt list by name or type (Telegram reports what the sender's app said). */
export function isTextList(file: IncomingFile): boolean {
  return (
    file.kind === "document" &&
    ((file.name ?? "").toLowerCase().endsWith(".txt") || (file.mimeType ?? "").startsWith("text/plain"))
  );
}

export async function handleBatch(
  ctx: BotContext,
  file: IncomingFile,
  options: { range?: string; destination?: string } = {},
): Promise<void> {
  // admin helper: the owner's /features switch
  if (!(await isFeatureOn(ctx.db, "batches"))) {
    await ctx.reply(ctx.t("batch.off"));
    return;
  }
  if (file.size > MAX_BATCH_BYTES) {
    await ctx.reply(
      ctx.t("batch.tooBig", { size: formatBytes(file.size), max: formatBytes(MAX_BATCH_BYTES) }),
    );
    return;
  }
  const destinationChatId = options.destination
    ? await checkedDestination(ctx, options.destination)
    : await defaultDestination(ctx);

  let content: Buffer;
  try {
    content = await ctx.gateway.downloadFile(file, { maxBytes: MAX_BATCH_BYTES });
  } catch (error) {
    if (error instanceof TelegramError && error.code === "FILE_TOO_BIG") {
      await ctx.reply(
        ctx.t("batch.tooBig", { size: formatBytes(file.size), max: formatBytes(MAX_BATCH_BYTES) }),
      );
      return;
    }
    throw error;
  }
  const parsed = parseBatch(content, options.range === undefined ? {} : { range: options.range });
  // admin helper: the owner's playlists switch (/features) leaves playlist lines out, each listed with why
  if (parsed.entries.some((e) => isPlaylistLink(e.url)) && !(await isFeatureOn(ctx.db, "playlists"))) {
    const reason = ctx.t("links.playlistOff");
    for (const e of parsed.entries.filter((x) => isPlaylistLink(x.url)))
      parsed.invalid.push({ line: e.line, message: reason });
    parsed.entries = parsed.entries.filter((e) => !isPlaylistLink(e.url));
  }
  const rejected = [
    ...parsed.invalid.map((p) => ({
      line: p.line,
      text: ctx.t("batch.rejectedLine", {
        line: p.line,
        reason: p.key
          ? html(errorText(ctx.t, { code: "", key: p.key, params: p.params, fallback: p.message }))
          : p.message,
      }),
    })),
    ...parsed.duplicates.map((d) => ({
      line: d.line,
      text: ctx.t("batch.duplicate", { line: d.line, first: d.firstLine }),
    })),
  ]
    .sort((a, b) => a.line - b.line)
    .map((r) => r.text);

  // admin helper: links a user may take from one list (/limits batch_lines); admins and the owner have no limit
  if (ctx.role === "user" && parsed.entries.length > 0) {
    const maxLinks = (await effectiveLimits(ctx.db, ctx.deps.limits)).values.batch_lines;
    if (parsed.entries.length > maxLinks) {
      await ctx.reply(ctx.t("limit.batchLines", { count: parsed.entries.length, limit: maxLinks }));
      return;
    }
  }

  const lines: string[] = [];
  if (parsed.entries.length === 0) {
    lines.push(ctx.t("batch.empty"));
  } else {
    const outcome = await queueLinks(
      ctx,
      parsed.entries.map((e) => ({ url: e.url, name: e.name })),
      { destinationChatId, batch: { sourceName: file.name ?? null } },
    );
    if (outcome.jobs.length === 0 && outcome.refusal && outcome.quiet) return;
    const first = outcome.jobs[0];
    if (first) {
      lines.push(
        ctx.t("batch.queued", {
          batch: first.batch_id ?? first.id,
          count: outcome.jobs.length,
          name: linkLabel(file.name ?? "list.txt"),
        }),
      );
    }
    if (outcome.refusal) {
      if (first) {
        lines.push(ctx.t("limit.partial", { queued: outcome.jobs.length, wanted: parsed.entries.length }));
      }
      lines.push(refusalText(ctx, outcome.refusal));
    }
  }
  if (rejected.length > 0) lines.push("", ctx.t("batch.rejected"), ...rejected);
  const [head = "", ...rest] = lines;
  await ctx.reply(fitLines(head, rest, (count) => ctx.t("batch.more", { count })));
}

/**
 * The chat a /batch names, if the user may send there and the bot may post there: admins and the owner any chat
 * the bot can post in; users the chats an admin added as destinations for them (or for everyone).
 */
export async function checkedDestination(ctx: BotContext, ref: string): Promise<number> {
  let chat: Awaited<ReturnType<typeof ctx.gateway.resolveChat>>;
  try {
    chat = await ctx.gateway.resolveChat(ref);
  } catch (error) {
    if (error instanceof TelegramError) {
      throw new UserError("DESTINATION_NOT_FOUND", `cannot resolve ${ref}: ${error.code}`, {
        userMessage: stripTags(ctx.t("destination.notFound", { chat: ref })),
        key: "destination.notFound",
        params: { chat: ref },
      });
    }
    throw error;
  }
  if (ctx.role === "user") {
    const allowed = (await listChats(ctx.db, "destination")).some(
      (c) => c.id === chat.id && (c.owner_id === null || c.owner_id === ctx.incoming.from.id),
    );
    if (!allowed && chat.id !== ctx.incoming.from.id) {
      throw new UserError("DESTINATION_NOT_ALLOWED", `user may not send to ${chat.id}`, {
        userMessage: stripTags(ctx.t("destination.notAllowed")),
        key: "destination.notAllowed",
      });
    }
  }
  const check = await ctx.gateway.canPost(chat.id);
  if (!check.ok) {
    throw new UserError("DESTINATION_REFUSED", `cannot post in ${chat.id}: ${check.reason}`, {
      userMessage: stripTags(ctx.t("destination.cannotPost", { title: chat.title })),
      key: "destination.cannotPost",
      params: { title: chat.title },
    });
  }
  return chat.id;
}

/** A catalog text as the plain userMessage of an error (the error boundary escapes it again). */
function stripTags(htmlText: string): string {
  return visibleText(htmlText);
}
