import { recordEvent } from "../../db/events.js";
import { requestCancel } from "../../db/job-queue.js";
import { finishBatchIfDone } from "../../db/jobs.js";
import { getUser, removeUserAccess } from "../../db/users.js";
import { ADMINS, type Command } from "../command.js";
import { setMenuFor } from "../menus.js";
import { resolveUser } from "../roles.js";

/** Takes access away (the person is a stranger again) and cancels their unfinished jobs; same rules as /ban. */
export const removeuser: Command = {
  name: "removeuser",
  description: "cmd.removeuser",
  roles: ADMINS,
  async run(ctx, args) {
    const ref = args.split(/\s+/)[0] ?? "";
    if (!ref) {
      await ctx.reply(ctx.t("admin.usage", { name: "removeuser" }));
      return;
    }
    const target = await resolveUser(ctx, ref);
    if (!target) {
      await ctx.reply(ctx.t("admin.unknownUser", { who: ref }));
      return;
    }
    const actorId = ctx.incoming.from.id;
    if (target.id === actorId) {
      await ctx.reply(ctx.t("admin.self"));
      return;
    }
    const current = await getUser(ctx.db, target.id);
    if (target.id === ctx.deps.ownerId || current?.role === "owner") {
      await ctx.reply(ctx.t("admin.owner"));
      return;
    }
    if (current?.role === "admin" && ctx.role !== "owner") {
      await ctx.reply(ctx.t("admin.notOnAdmin"));
      return;
    }
    const username = current?.username ?? target.username;
    const who = username ? `@${username} (${target.id})` : String(target.id);
    // The banned stay banned (silent); /unban is the way back for them.
    if (!current || current.removed_at !== null || current.role === "banned") {
      await ctx.reply(ctx.t("removeuser.none", { who }));
      return;
    }
    await removeUserAccess(ctx.db, target.id);
    const outcome = await requestCancel(ctx.db, { userId: target.id });
    const batches = new Set(outcome.cancelled.flatMap((j) => (j.batch_id === null ? [] : [j.batch_id])));
    for (const batchId of batches) await finishBatchIfDone(ctx.db, batchId);
    const cancelled = outcome.cancelled.length + outcome.flagged.length;
    await recordEvent(ctx.db, {
      category: "admin",
      action: "user.removed",
      actorId,
      subject: target.id,
      data: { from: current.role, cancelled },
    });
    ctx.log.info({ actor: actorId, target: target.id, cancelled }, "user removed");
    // An admin's own menu in their chat goes; strangers get no menu of their own.
    await setMenuFor(ctx.deps, ctx.commands, target.id, "banned");
    await ctx.reply(ctx.t("removeuser.done", { who, cancelled }));
  },
};
