/**
 * Role changes from the chat (/allow, /ban, /promote, /demote): who may change whom, and an admin event for each.
 * The owner's role comes from the configuration and is never changed here; only the owner changes an admin's.
 */
import { recordEvent } from "../db/events.js";
import { requestCancel } from "../db/job-queue.js";
import { findPeerByUsername, getPeer } from "../db/peers.js";
import type { Role } from "../db/schema.js";
import { getUser, setRole } from "../db/users.js";
import type { BotContext } from "./context.js";
import { setMenuFor } from "./menus.js";

export async function changeRole(ctx: BotContext, command: string, args: string, role: Role): Promise<void> {
  const ref = args.split(/\s+/)[0] ?? "";
  if (!ref) {
    await ctx.reply(ctx.t("admin.usage", { name: command }));
    return;
  }
  const target = await resolveUser(ctx, ref);
  if (target === undefined) {
    await ctx.reply(ctx.t("admin.unknownUser", { who: ref }));
    return;
  }
  const targetId = target.id;
  const actorId = ctx.incoming.from.id;
  if (targetId === actorId) {
    await ctx.reply(ctx.t("admin.self"));
    return;
  }
  if (targetId === ctx.deps.ownerId) {
    await ctx.reply(ctx.t("admin.owner"));
    return;
  }
  const current = await getUser(ctx.db, targetId);
  if (current?.role === "owner") {
    await ctx.reply(ctx.t("admin.owner"));
    return;
  }
  if (current?.role === "admin" && ctx.role !== "owner") {
    await ctx.reply(ctx.t("admin.notOnAdmin"));
    return;
  }
  const username = current?.username ?? target.username;
  const who = username ? `@${username} (${targetId})` : String(targetId);
  // /demote takes an admin back to user; it is not a way round /ban or /allow. A removed person (/removeuser)
  // still has a row with their old role: giving it again gives access back.
  if (
    (current?.role === role && current.removed_at === null) ||
    (command === "demote" && current?.role !== "admin")
  ) {
    await ctx.reply(
      ctx.t("admin.already", { who, role: ctx.t(`role.${(current?.role ?? role) as "user"}`) }),
    );
    return;
  }
  const demoted = current?.role === "admin" && role === "user";
  const action = demoted
    ? "user.demoted"
    : current?.role === "banned" && role === "user"
      ? "user.unbanned"
      : role === "admin"
        ? "user.promoted"
        : role === "banned"
          ? "user.banned"
          : "user.allowed";
  // The role, a banned user's cancelled jobs and the audit event land together or not at all.
  const cancelled = await ctx.db.transaction().execute(async (trx) => {
    await setRole(trx, targetId, role, actorId);
    let count = 0;
    if (role === "banned") {
      const outcome = await requestCancel(trx, { userId: targetId });
      count = outcome.cancelled.length + outcome.flagged.length;
    }
    await recordEvent(trx, {
      category: "admin",
      action,
      actorId,
      subject: targetId,
      data: { from: current?.role ?? null, to: role, ...(role === "banned" ? { cancelled: count } : {}) },
    });
    return count;
  });
  ctx.log.info({ actor: actorId, target: targetId, from: current?.role ?? null, to: role }, "role changed");
  await setMenuFor(ctx.deps, ctx.commands, targetId, role);
  const key = demoted
    ? "admin.demoted"
    : role === "admin"
      ? "admin.promoted"
      : role === "banned"
        ? "admin.banned"
        : "admin.allowed";
  await ctx.reply(ctx.t(key, { who, cancelled }));
}

/** A numeric id, or an @username the bot has seen; with the username when the bot knows it. */
export async function resolveUser(
  ctx: BotContext,
  ref: string,
): Promise<{ id: number; username: string | null } | undefined> {
  if (/^\d{1,15}$/.test(ref)) {
    const id = Number(ref);
    return { id, username: (await getPeer(ctx.db, id))?.username ?? null };
  }
  const username = /^@?([A-Za-z][A-Za-z0-9_]{3,31})$/.exec(ref)?.[1];
  if (!username) return undefined;
  const peer = await findPeerByUsername(ctx.db, username);
  return peer?.kind === "user" ? { id: peer.id, username: peer.username } : undefined;
}
