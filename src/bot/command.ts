/** What a command file exports: one list of these (commands/index.ts) feeds the router, /help and the menus. */
import type { ActiveRole, BotContext } from "./context.js";
import type { MessageKey } from "./i18n/en.js";

export interface Command {
  /** Without the slash, lowercase: what the user types. */
  name: string;
  /** Other names that run the same command (the names other bots' operators know); /help shows the main one. */
  aliases?: readonly string[];
  /** The catalog key of the one-line description (/help, the command menu). */
  description: MessageKey;
  /** Who may run it. */
  roles: readonly ActiveRole[];
  /** `args` is the text after the command, trimmed. */
  run(ctx: BotContext, args: string): Promise<void>;
}

export const EVERYONE: readonly ActiveRole[] = ["owner", "admin", "user"];
export const ADMINS: readonly ActiveRole[] = ["owner", "admin"];
export const OWNER: readonly ActiveRole[] = ["owner"];

/** The command a typed name runs: its name or one of its aliases. */
export function findCommand(commands: readonly Command[], name: string): Command | undefined {
  return commands.find((c) => c.name === name || (c.aliases?.includes(name) ?? false));
}

/** "/start", "/start@medusa_bot args", "/Queue all" → name and args; undefined for other text. */
export function parseCommand(
  text: string,
): { name: string; mention: string | undefined; args: string } | undefined {
  const match = /^\/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!match) return undefined;
  return { name: match[1]!.toLowerCase(), mention: match[2], args: (match[3] ?? "").trim() };
}
