/**
 * What /addchannel, /removechannel, /addlog and /removelog share: a chat reference resolved through the gateway
 * (bounded in time), the bot's right to post checked before anything is stored, and an admin event for each change.
 */
import { recordEvent } from "../db/events.js";
import type { Chat } from "../db/schema.js";
import { withDeadline } from "../lib/abort.js";
import type { ChatInfo } from "../telegram/gateway.js";
import { TelegramError } from "../telegram/telegram-error.js";
import type { BotContext } from "./context.js";

/** A resolve or a rights check that takes longer is reported as a failure, not waited on. */
export const CHAT_CHECK_TIMEOUT_MS = 20_000;

const timeout = (what: string) => () =>
  new TelegramError("TIMEOUT", `${what} took over ${CHAT_CHECK_TIMEOUT_MS} ms`);

/** The chat `ref` names, or undefined after telling the admin why not. */
export async function resolveChatRef(ctx: BotContext, ref: string): Promise<ChatInfo | undefined> {
  try {
    return await withDeadline(
      ctx.gateway.resolveChat(ref),
      CHAT_CHECK_TIMEOUT_MS,
      undefined,
      timeout("resolveChat"),
    );
  } catch (error) {
    if (!(error instanceof TelegramError)) throw error;
    ctx.log.info({ ref, code: error.code }, "chat reference not resolved");
    await ctx.reply(ctx.t("channel.notFound", { chat: ref }));
    return undefined;
  }
}

/** Resolves `ref` and checks the bot may post there; replies with the reason and returns undefined when not. */
export async function postableChat(ctx: BotContext, ref: string): Promise<ChatInfo | undefined> {
  const chat = await resolveChatRef(ctx, ref);
  if (!chat) return undefined;
  if (chat.kind === "user") {
    await ctx.reply(ctx.t("channel.notChannel", { chat: ref }));
    return undefined;
  }
  const check = await withDeadline(
    ctx.gateway.canPost(chat.id),
    CHAT_CHECK_TIMEOUT_MS,
    undefined,
    timeout("canPost"),
  ).catch((error: unknown) => {
    if (!(error instanceof TelegramError)) throw error;
    return { ok: false as const, reason: "unknown_chat" as const };
  });
  if (!check.ok) {
    const key =
      check.reason === "not_member"
        ? "channel.notMember"
        : check.reason === "no_rights"
          ? "channel.noRights"
          : "channel.notFound";
    await ctx.reply(ctx.t(key, { chat: chat.title, title: chat.title }));
    return undefined;
  }
  return chat;
}

/** "Title (@name, -100…)" for lists. Plain text (t() escapes). */
export function chatLabel(chat: Pick<Chat, "id" | "title" | "username">): string {
  const name = chat.title ?? String(chat.id);
  return chat.username ? `${name} (@${chat.username}, ${chat.id})` : `${name} (${chat.id})`;
}

export async function recordChatEvent(
  ctx: BotContext,
  action: string,
  chatId: number,
  data: Record<string, unknown> = {},
): Promise<void> {
  await recordEvent(ctx.db, {
    category: "admin",
    action,
    actorId: ctx.incoming.from.id,
    subject: chatId,
    data,
  });
}
