/**
 * Where an update goes once the loader let its sender in: a command (with or without "@thisbot"), a .txt list, a
 * message with links, or a button press. In groups the bot keeps quiet about what is not addressed to it.
 */
import type { IncomingCallback, IncomingMessage } from "../telegram/gateway.js";
import { ADMIN_PREFIX } from "./admin-callback-data.js";
import { handleAdminCallback } from "./admin-callbacks.js";
import { handleBatch, isTextList } from "./batch.js";
import { parseCallback, STATUS_PREFIX } from "./callback-data.js";
import { findCommand, parseCommand } from "./command.js";
import { handleForgetPress } from "./commands/forgetme.js";
import { helpText } from "./commands/help.js";
import { queueText } from "./commands/queue.js";
import { handleSettingsInput, handleSettingsPress } from "./commands/settings.js";
import type { Middleware } from "./composer.js";
import type { ActiveRole, BotContext } from "./context.js";
import { handlePromptPress } from "./link-prompts.js";
import { findLinks, handleLinks } from "./links.js";

export function router(): Middleware {
  return async (ctx) => {
    const incoming = ctx.incoming;
    if (incoming.kind === "callback") await routeCallback(ctx, incoming);
    else await routeMessage(ctx, incoming);
  };
}

async function routeMessage(ctx: BotContext, message: IncomingMessage): Promise<void> {
  const direct = message.chatKind === "user";
  const parsed = parseCommand(message.text);
  if (parsed) {
    const me = ctx.gateway.me.username?.toLowerCase();
    // "/start@other_bot" in a group is for another bot.
    if (parsed.mention !== undefined && parsed.mention.toLowerCase() !== me) return;
    const command = findCommand(ctx.commands, parsed.name);
    if (!command) {
      if (direct || parsed.mention !== undefined)
        await ctx.reply(ctx.t("command.unknown", { name: parsed.name }));
      return;
    }
    if (!command.roles.includes(ctx.role as ActiveRole)) {
      ctx.log.info({ command: command.name, role: ctx.role }, "command refused for the role");
      await ctx.reply(ctx.t("command.forbidden", { name: command.name }));
      return;
    }
    await command.run(ctx, parsed.args);
    return;
  }
  // /settings asked for this message (a caption template, a thumbnail photo).
  if (direct && (await handleSettingsInput(ctx, message))) return;
  if (message.file) {
    if (isTextList(message.file)) await handleBatch(ctx, message.file);
    else if (direct) await ctx.reply(ctx.t("document.notText"));
    return;
  }
  const found = findLinks(message.text);
  if (found.links.length > 0 || found.invalid.length > 0) await handleLinks(ctx, found);
  else if (direct) await ctx.reply(ctx.t("text.hint"));
}

async function routeCallback(ctx: BotContext, callback: IncomingCallback): Promise<void> {
  if (callback.data.startsWith(STATUS_PREFIX)) {
    // The live status message (src/bot/status.ts) plugs in here: its Cancel buttons ("st:c:<jobId>", "st:ca")
    // arrive through deps.status.handleCallback, which checks that each job is the presser's.
    if (ctx.deps.status) await ctx.deps.status.handleCallback(ctx);
    else await ctx.answer(ctx.t("callback.unavailable"));
    return;
  }
  // admin helper: /users pages and /features switches ("a:…")
  if (callback.data.startsWith(ADMIN_PREFIX)) {
    await handleAdminCallback(ctx, callback);
    return;
  }
  const data = parseCallback(callback.data);
  if (!data) {
    ctx.log.warn({ data: callback.data.slice(0, 64), from: callback.from.id }, "callback data refused");
    await ctx.answer(ctx.t("callback.invalid"), true);
    return;
  }
  if (data.userId !== callback.from.id) {
    ctx.log.warn({ owner: data.userId, from: callback.from.id }, "someone else's button pressed");
    await ctx.answer(ctx.t("callback.notYours"), true);
    return;
  }
  if (data.scope === "s") return handleSettingsPress(ctx, callback, data);
  if (data.scope === "f") return handleForgetPress(ctx, callback, data);
  if (data.scope === "p") return handlePromptPress(ctx, callback, data);
  await ctx.answer();
  if (data.action === "queue") await ctx.reply(await queueText(ctx));
  else await ctx.reply(helpText(ctx));
}
