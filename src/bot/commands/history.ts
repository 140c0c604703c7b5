/**
 * /history [n]: the user's last n jobs (10 unless asked, at most 50), newest first: name, size, outcome, and a link
 * to the delivered message where Telegram has one (channels: t.me/c/<id>/<msg>, or t.me/<username>/<msg> when
 * public). Names and reasons are someone else's text and render literally. Long lists go over several messages.
 */
import { type HistoryEntry, listHistory } from "../../db/history.js";
import { MESSAGE_LIMIT, truncateText, visibleLength, visibleText } from "../../jobs/telegram-html.js";
import { formatBytes } from "../../lib/size.js";
import { type Command, EVERYONE } from "../command.js";
import type { BotContext } from "../context.js";
import { jobFailureText } from "../error-text.js";
import { jobLabel } from "../render.js";

const DEFAULT_COUNT = 10;
const MAX_COUNT = 50;
/** A failure's reason is shown this long at most: enough to act on. */
const REASON_CHARS = 300;
/** Bot API ids of channels and supergroups: -100 followed by the channel's own id. */
const CHANNEL_OFFSET = 1_000_000_000_000;

export const history: Command = {
  name: "history",
  description: "cmd.history",
  roles: EVERYONE,
  async run(ctx, args) {
    const arg = args.split(/\s+/)[0] ?? "";
    if (arg !== "" && !/^\d{1,4}$/.test(arg)) {
      await ctx.reply(ctx.t("history.usage", { max: MAX_COUNT }));
      return;
    }
    const count = Math.min(MAX_COUNT, Math.max(1, arg === "" ? DEFAULT_COUNT : Number(arg)));
    const entries = await listHistory(ctx.db, ctx.incoming.from.id, count);
    if (entries.length === 0) {
      await ctx.reply(ctx.t("history.empty"));
      return;
    }
    const lines = entries.map((e) => historyLine(ctx, e));
    for (const message of splitMessages(ctx.t("history.title", { count: entries.length }), lines)) {
      await ctx.reply(message);
    }
  },
};

function historyLine(ctx: BotContext, entry: HistoryEntry): string {
  const { job } = entry;
  const base = {
    id: job.id,
    name: jobLabel(job),
    size: job.bytes_total === null ? ctx.t("history.noSize") : formatBytes(job.bytes_total),
  };
  if (job.status === "failed") {
    const reason = truncateText(visibleText(jobFailureText(ctx.t, job)), REASON_CHARS);
    return ctx.t("history.failed", { ...base, reason });
  }
  if (job.status === "cancelled") return ctx.t("history.cancelled", base);
  if (job.status !== "done")
    return ctx.t("history.active", { ...base, status: ctx.t(`status.${job.status}`) });
  const chatId = job.destination_chat_id;
  const link = messageLink(chatId, entry.messageId, entry.chat?.username ?? null);
  if (link) return ctx.t("history.done", { ...base, link });
  if (chatId === job.user_id) return ctx.t("history.doneHere", base);
  const where = entry.chat?.title ?? (entry.chat?.username ? `@${entry.chat.username}` : String(chatId));
  return ctx.t("history.doneTo", { ...base, chat: where });
}

/** A link to a message in a channel or supergroup; undefined for private chats and basic groups (none exists). */
export function messageLink(
  chatId: number,
  messageId: number | null,
  username: string | null,
): string | undefined {
  if (!messageId || chatId > -CHANNEL_OFFSET) return undefined;
  if (username) return `https://t.me/${username}/${messageId}`;
  return `https://t.me/c/${-chatId - CHANNEL_OFFSET}/${messageId}`;
}

/** The head and lines over as few messages as fit Telegram's limit; a line never splits. */
function splitMessages(head: string, lines: readonly string[]): string[] {
  const messages: string[] = [];
  let current = head;
  for (const line of lines) {
    if (visibleLength(current) + 1 + visibleLength(line) > MESSAGE_LIMIT) {
      messages.push(current);
      current = line;
    } else current += `\n${line}`;
  }
  messages.push(current);
  return messages;
}
