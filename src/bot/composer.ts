/**
 * grammY's middleware core, small: `(ctx, next)` functions composed into one, each deciding whether the rest runs.
 * The error boundary goes first so that whatever fails below becomes one reply and one log line.
 */
import { MedusaError, userFacing } from "../errors.js";
import { visibleText } from "../jobs/telegram-html.js";
import type { BotContext } from "./context.js";
import { thrownText } from "./error-text.js";
import { html } from "./i18n/translate.js";

export type Next = () => Promise<void>;
export type Middleware = (ctx: BotContext, next: Next) => Promise<void>;

export function compose(middleware: readonly Middleware[]): Middleware {
  return (ctx, next) => {
    let last = -1;
    const run = async (index: number): Promise<void> => {
      if (index <= last) throw new Error("next() called more than once");
      last = index;
      const handler = index < middleware.length ? middleware[index] : undefined;
      if (handler) await handler(ctx, () => run(index + 1));
      else await next();
    };
    return run(0);
  };
}

/**
 * Turns every error below into a reply (what happened, what to do next) and a log line: a MedusaError says its
 * catalog text in the user's language (src/bot/error-text.ts), anything else a generic sorry — never its message
 * or stack. The log line stays English.
 */
export function errorBoundary(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const known = error instanceof MedusaError;
      const facing = userFacing(error);
      const where = { err: error, code: facing.code, kind: ctx.incoming.kind, from: ctx.incoming.from.id };
      if (known) ctx.log.warn(where, "update refused");
      else ctx.log.error(where, "update failed");
      const worded = thrownText(ctx.t, error);
      const text = known
        ? ctx.t("error.user", { message: html(worded) })
        : `${ctx.t("error.internal")}\n${ctx.t("error.internal.next")}`;
      try {
        // A toast shows plain text: the same words without their tags.
        if (ctx.incoming.kind === "callback" && !ctx.answered) await ctx.answer(visibleText(worded), true);
        else await ctx.reply(text);
      } catch (replyError) {
        ctx.log.warn({ err: replyError }, "could not tell the user about an error");
      }
    }
  };
}
