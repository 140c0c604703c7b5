/**
 * The bot: every update goes through one chain — the error boundary, the loader (who is this, may they), the
 * router — and a press is always answered, so no button keeps spinning.
 */
import type { Incoming } from "../telegram/gateway.js";
import { COMMANDS } from "./commands/index.js";
import { compose, errorBoundary } from "./composer.js";
import { type BotDeps, createContext } from "./context.js";
import { createPromptClock } from "./link-prompts.js";
import { loadUser } from "./loader.js";
import { setDefaultMenus } from "./menus.js";
import { router } from "./router.js";

/** Links taken from one message; a .txt list takes up to a thousand. */
export const MAX_LINKS_PER_MESSAGE = 20;

export interface Bot {
  /** Handles one update; never throws (errors become replies and log lines). */
  handle(incoming: Incoming): Promise<void>;
  /** Sets the command menus per language and role (at start). */
  setMenus(): Promise<void>;
  /** Starts the deadlines of link questions (quality buttons, playlists), those a restart found too. */
  startPrompts(): void;
  /** Stops them and waits for probes in flight. */
  stopPrompts(): Promise<void>;
}

export function createBot(botDeps: BotDeps): Bot {
  const deps: BotDeps = { ...botDeps };
  if (deps.prompts) deps.promptClock = createPromptClock(deps);
  const chain = compose([errorBoundary(), loadUser(), router()]);
  return {
    async handle(incoming) {
      const ctx = createContext(incoming, deps, COMMANDS);
      try {
        await chain(ctx, async () => undefined);
        if (incoming.kind === "callback" && !ctx.answered && ctx.role !== "banned") await ctx.answer();
      } catch (error) {
        // The boundary only lets through what failed while replying about another failure.
        ctx.log.error({ err: error }, "update handling failed");
      }
    },
    setMenus: () => setDefaultMenus(deps, COMMANDS),
    startPrompts: () => deps.promptClock?.start(),
    stopPrompts: async () => deps.promptClock?.stop(),
  };
}
