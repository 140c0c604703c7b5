/**
 * The bot's command menu, per language and per role: every user sees the user commands (the default scope), and
 * each admin and the owner see theirs in their own chat (a peer scope). Set at start and after a role change.
 */
import type { Role } from "../db/schema.js";
import { listUsers } from "../db/users.js";
import type { BotCommand } from "../telegram/gateway.js";
import type { Command } from "./command.js";
import type { ActiveRole, BotDeps } from "./context.js";
import { DEFAULT_LANGUAGE, LANGUAGES, type Language, translator } from "./i18n/translate.js";

export function menuFor(commands: readonly Command[], role: Role, language: Language): BotCommand[] {
  const t = translator(language);
  if (role === "banned") return [];
  return commands
    .filter((c) => c.roles.includes(role as ActiveRole))
    .map((c) => ({ command: c.name, description: t(c.description).slice(0, MAX_DESCRIPTION) }));
}

/** Telegram's limit on a command's description. */
const MAX_DESCRIPTION = 256;

/** "" is the fallback language Telegram uses for everyone whose language has no list of its own. */
function languageCode(language: Language): string {
  return language === DEFAULT_LANGUAGE ? "" : language;
}

export async function setDefaultMenus(deps: BotDeps, commands: readonly Command[]): Promise<void> {
  for (const language of LANGUAGES) {
    await deps.gateway.setCommands(menuFor(commands, "user", language), {
      languageCode: languageCode(language),
      scope: { type: "default" },
    });
  }
  const staff = await listUsers(deps.db, ["owner", "admin"]);
  const ids = new Map<number, Role>(staff.map((u) => [u.id, u.role]));
  ids.set(deps.ownerId, "owner");
  for (const [id, role] of ids) await setMenuFor(deps, commands, id, role);
}

/** One user's menu in their chat; a user the bot cannot reach yet (never wrote) is skipped. */
export async function setMenuFor(
  deps: BotDeps,
  commands: readonly Command[],
  userId: number,
  role: Role,
): Promise<void> {
  try {
    for (const language of LANGUAGES) {
      await deps.gateway.setCommands(menuFor(commands, role, language), {
        languageCode: languageCode(language),
        scope: { type: "chat", chatId: userId },
      });
    }
  } catch (error) {
    deps.log.info({ err: error, userId }, "command menu not set for this user (not reachable yet)");
  }
}
