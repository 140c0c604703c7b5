/**
 * Where a user's files go by default: the destination chosen in /settings while it is still theirs to use (a
 * channel an admin added for them or for everyone; admins and the owner: any destination channel), else the chat
 * the links came from.
 */
import { listChats } from "../db/chats.js";
import type { Chat } from "../db/schema.js";
import { getUserSettings } from "../db/settings.js";
import type { BotContext } from "./context.js";

/** Destination buttons shown at most. */
const MAX_DESTINATIONS = 20;

/** The destination channels this user may pick. */
export async function allowedDestinations(ctx: BotContext): Promise<Chat[]> {
  const userId = ctx.incoming.from.id;
  const admin = ctx.role === "owner" || ctx.role === "admin";
  const chats = await listChats(ctx.db, "destination");
  return chats
    .filter((c) => admin || c.owner_id === null || c.owner_id === userId)
    .slice(0, MAX_DESTINATIONS);
}

export async function defaultDestination(ctx: BotContext): Promise<number> {
  const chosen = (await getUserSettings(ctx.db, ctx.incoming.from.id)).destinationChatId;
  if (chosen === null) return ctx.incoming.chatId;
  if ((await allowedDestinations(ctx)).some((c) => c.id === chosen)) return chosen;
  ctx.log.info({ chosen }, "the chosen destination is no longer the user's; their chat is used");
  return ctx.incoming.chatId;
}
