/**
 * The chats that get a copy of every delivery: LOG_CHANNELS from the configuration plus those the owner added
 * (chats with purpose "log"). References are resolved through the gateway and remembered; one that cannot be
 * resolved is logged once and left out, never a reason to hold a delivery back.
 */
import { listChats } from "../db/chats.js";
import type { Db } from "../db/database.js";
import type { Logger } from "../logger.js";
import type { TelegramGateway } from "../telegram/gateway.js";

/** Chats added or removed by the owner show up within this long. */
const REFRESH_MS = 60_000;

export function createLogChats(
  db: Db,
  gateway: Pick<TelegramGateway, "resolveChat">,
  configured: readonly string[],
  log: Logger,
): () => Promise<number[]> {
  const resolved = new Map<string, number>();
  const reported = new Set<string>();
  let cached: { at: number; ids: number[] } | undefined;
  return async () => {
    if (cached && Date.now() - cached.at < REFRESH_MS) return cached.ids;
    const ids = new Set<number>();
    for (const ref of configured) {
      const known = resolved.get(ref);
      if (known !== undefined) {
        ids.add(known);
        continue;
      }
      try {
        const chat = await gateway.resolveChat(ref);
        resolved.set(ref, chat.id);
        ids.add(chat.id);
      } catch (error) {
        if (!reported.has(ref))
          log.warn({ err: error, ref }, "a LOG_CHANNELS entry cannot be resolved; skipped");
        reported.add(ref);
      }
    }
    for (const chat of await listChats(db, "log")) ids.add(chat.id);
    cached = { at: Date.now(), ids: [...ids] };
    return cached.ids;
  };
}
