/**
 * What the owner is told once, not once per event: a notice is sent the first time its key comes up and remembered
 * in the events table, so a log channel that refuses every copy, or a restart, sends nothing more.
 */
import type { Db } from "../db/database.js";
import { hasEventFor, recordEvent } from "../db/events.js";
import { getPeer } from "../db/peers.js";
import type { Logger } from "../logger.js";
import type { TelegramGateway } from "../telegram/gateway.js";
import type { MessageKey } from "./i18n/en.js";
import { type Params, pickLanguage, translator } from "./i18n/translate.js";

const NOTICE = "owner.notice";

export interface OwnerNotices {
  /** Sends the catalog text `key` to the owner unless a notice with `subject` went before; never throws. */
  once(subject: string, key: MessageKey, params?: Params): Promise<void>;
}

export function createOwnerNotices(deps: {
  db: Db;
  gateway: Pick<TelegramGateway, "sendText">;
  ownerId: number;
  log: Logger;
}): OwnerNotices {
  // Two refusals in the same moment (a log channel and its album) make one notice.
  const sending = new Map<string, Promise<void>>();
  const send = async (subject: string, key: MessageKey, params?: Params) => {
    if (await hasEventFor(deps.db, { action: NOTICE, subject })) return;
    const language = pickLanguage((await getPeer(deps.db, deps.ownerId))?.lang_code ?? undefined);
    let delivered = true;
    try {
      await deps.gateway.sendText(deps.ownerId, translator(language)(key, params), { html: true });
    } catch (error) {
      // An owner who never wrote to the bot cannot be reached; the log line is the notice then.
      delivered = false;
      deps.log.warn({ err: error, subject }, "the owner could not be told");
    }
    await recordEvent(deps.db, { category: "system", action: NOTICE, subject, data: { key, delivered } });
  };
  return {
    async once(subject, key, params) {
      const running = sending.get(subject) ?? send(subject, key, params);
      sending.set(subject, running);
      try {
        await running;
      } catch (error) {
        deps.log.warn({ err: error, subject }, "owner notice failed");
      } finally {
        sending.delete(subject);
      }
    },
  };
}
