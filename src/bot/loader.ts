/**
 * Resolves who wrote before anything else runs: the owner from the configuration, else the role in the users table.
 * Someone with no row is not let in: they get their id and how to ask for access (at most once a minute, so a
 * stranger cannot make the bot spam), and nothing else happens — no job, no download, no button acted on.
 * Banned users get nothing at all. Other bots are ignored.
 */
import { hasEventSince, recordEvent } from "../db/events.js";
import { getUserSettings } from "../db/settings.js";
import { getUser, touchUser } from "../db/users.js";
import type { Middleware } from "./composer.js";
import { translator } from "./i18n/translate.js";

/** A stranger is told how to get in at most once per this window. */
const ACCESS_NOTICE_MS = 60_000;

export function loadUser(): Middleware {
  return async (ctx, next) => {
    const from = ctx.incoming.from;
    if (from.isBot) return;
    const owner = from.id === ctx.deps.ownerId;
    const row = await getUser(ctx.db, from.id);
    ctx.role = owner ? "owner" : (row?.role ?? "guest");
    if (ctx.role === "banned") return;
    if (ctx.role === "guest") {
      await refuseStranger(ctx);
      return;
    }
    ctx.user = await touchUser(ctx.db, {
      id: from.id,
      username: from.username ?? null,
      firstName: from.firstName ?? null,
      lastName: from.lastName ?? null,
    });
    // The language chosen in /settings wins over the Telegram app's.
    const chosen = (await getUserSettings(ctx.db, from.id)).language;
    if (chosen && chosen !== ctx.language) {
      ctx.language = chosen;
      ctx.t = translator(chosen);
    }
    await next();
  };
}

async function refuseStranger(ctx: Parameters<Middleware>[0]): Promise<void> {
  const id = ctx.incoming.from.id;
  if (ctx.incoming.kind === "callback") {
    await ctx.answer(ctx.t("access.denied.short", { id }), true);
    return;
  }
  // In a group, strangers' chatter is none of the bot's business unless they address it with a command.
  if (ctx.incoming.chatKind !== "user" && !ctx.incoming.text.startsWith("/")) return;
  const since = new Date(ctx.now() - ACCESS_NOTICE_MS).toISOString();
  if (await hasEventSince(ctx.db, { action: "access.denied", actorId: id, since })) return;
  await recordEvent(ctx.db, { category: "analytics", action: "access.denied", actorId: id });
  await ctx.reply(ctx.t("access.denied", { id }));
}
