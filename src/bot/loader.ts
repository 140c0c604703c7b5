/**
 * Resolves who wrote before anything else runs: the owner from the configuration, else the role in the users table.
 * Someone with no row is not let in: they get their id and how to ask for access (at most once a minute, so a
 * stranger cannot make the bot spam), and nothing else happens — no job, no download, no button acted on.
 * Banned users get nothing at all. Other bots are ignored.
 */
import { hasEventSince, recordEvent } from "../db/events.js";
import { getUserSettings } from "../db/settings.js";
import { getUser, setRole, touchUser } from "../db/users.js";
import { parseCommand } from "./command.js";
import type { Middleware } from "./composer.js";
import { isFeatureOn } from "./features.js";
import { translator } from "./i18n/translate.js";

/** A stranger is told how to get in at most once per this window. */
const ACCESS_NOTICE_MS = 60_000;

export function loadUser(): Middleware {
  return async (ctx, next) => {
    const from = ctx.incoming.from;
    if (from.isBot) return;
    const owner = from.id === ctx.deps.ownerId;
    const row = await getUser(ctx.db, from.id);
    // A removed person (/removeuser) is a stranger again.
    ctx.role = owner ? "owner" : row && row.removed_at === null ? row.role : "guest";
    if (ctx.role === "banned") return;
    // admin helper: with the owner's "open to everyone" switch on, a stranger who addresses the bot (a direct
    // message, a command, a button) is let in as a user; group chatter adds nobody.
    const addressed =
      ctx.incoming.kind === "callback" ||
      ctx.incoming.chatKind === "user" ||
      ctx.incoming.text.startsWith("/");
    if (ctx.role === "guest" && addressed && (await isFeatureOn(ctx.db, "open"))) {
      await setRole(ctx.db, from.id, "user", null);
      await recordEvent(ctx.db, {
        category: "admin",
        action: "user.joined",
        actorId: from.id,
        subject: from.id,
      });
      ctx.role = "user";
    }
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
  // In a group, strangers' chatter (and commands for other bots) is none of the bot's business: only a command
  // addressed to it by name ("/start@thisbot") gets the notice there.
  if (ctx.incoming.chatKind !== "user") {
    const mention = parseCommand(ctx.incoming.text)?.mention?.toLowerCase();
    if (mention === undefined || mention !== ctx.gateway.me.username?.toLowerCase()) return;
  }
  const since = new Date(ctx.now() - ACCESS_NOTICE_MS).toISOString();
  if (await hasEventSince(ctx.db, { action: "access.denied", actorId: id, since })) return;
  await recordEvent(ctx.db, { category: "analytics", action: "access.denied", actorId: id });
  await ctx.reply(ctx.t("access.denied", { id }));
}
