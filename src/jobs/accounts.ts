/**
 * Which account sends a file: the bot, whose limit is 2000 MiB, or — for a bigger file — the Premium user session
 * (4000 MiB) when one is open and may post in the destination. A file still over the chosen account's limit is split
 * to fit it; with no Premium route, parts fit the bot's limit.
 */
import type { TelegramAccount } from "../db/schema.js";
import type { Logger } from "../logger.js";
import type { TelegramGateway } from "../telegram/gateway.js";

/** A Premium user may send 4000 MiB per file (8000 parts of 512 KiB). */
export const PREMIUM_FILE_LIMIT = 4000 * 1024 * 1024;

/** The user session, opened only when it works and is Premium (src/main.ts). */
export interface PremiumAccount {
  gateway: TelegramGateway;
  /** Largest file it may send. @default PREMIUM_FILE_LIMIT */
  fileLimit?: number;
}

export interface FileRoute {
  account: TelegramAccount;
  /** Parts must fit this. */
  limit: number;
}

export async function routeFile(options: {
  size: number;
  chatId: number;
  botLimit: number;
  premium: PremiumAccount | undefined;
  log: Logger;
}): Promise<FileRoute> {
  const { size, chatId, botLimit, premium, log } = options;
  if (size <= botLimit || !premium) return { account: "bot", limit: botLimit };
  const check = await premium.gateway.canPost(chatId).catch((error: unknown) => {
    log.warn({ err: error, chatId }, "could not check whether the user session may post there");
    return { ok: false as const, reason: "unknown_chat" as const };
  });
  if (!check.ok) {
    log.info({ chatId, reason: check.reason }, "the user session may not post there; the file is split");
    return { account: "bot", limit: botLimit };
  }
  return { account: "user", limit: premium.fileLimit ?? PREMIUM_FILE_LIMIT };
}
