/**
 * Presses on the admin screens (/users pages, /features switches): the data must parse, name the presser, and the
 * presser must still hold the role the screen needs; anything else is answered and acts on nothing.
 */
import type { IncomingCallback } from "../telegram/gateway.js";
import { parseAdminCallback } from "./admin-callback-data.js";
import { featuresView, toggleFeature } from "./commands/features.js";
import { usersPage } from "./commands/users.js";
import type { BotContext } from "./context.js";

export async function handleAdminCallback(ctx: BotContext, callback: IncomingCallback): Promise<void> {
  const data = parseAdminCallback(callback.data);
  if (!data) {
    ctx.log.warn({ data: callback.data.slice(0, 64), from: callback.from.id }, "admin callback data refused");
    await ctx.answer(ctx.t("callback.invalid"), true);
    return;
  }
  if (data.userId !== callback.from.id) {
    ctx.log.warn({ owner: data.userId, from: callback.from.id }, "someone else's admin button pressed");
    await ctx.answer(ctx.t("callback.notYours"), true);
    return;
  }
  const allowed = data.scope === "u" ? ctx.role === "owner" || ctx.role === "admin" : ctx.role === "owner";
  if (!allowed) {
    ctx.log.warn({ scope: data.scope, role: ctx.role }, "admin button pressed without the role");
    await ctx.answer(ctx.t("callback.notAllowed"), true);
    return;
  }
  if (data.scope === "u") {
    const view = await usersPage(ctx, data.page);
    await ctx.answer();
    await ctx.gateway.editText(callback.chatId, callback.messageId, view.text, {
      html: true,
      buttons: view.buttons,
    });
    return;
  }
  const on = await toggleFeature(ctx, data.feature);
  await ctx.answer(
    ctx.t(on ? "features.turnedOn" : "features.turnedOff", {
      feature: ctx.t(`features.name.${data.feature}`),
    }),
  );
  const view = await featuresView(ctx);
  await ctx.gateway.editText(callback.chatId, callback.messageId, view.text, {
    html: true,
    buttons: view.buttons,
  });
}
