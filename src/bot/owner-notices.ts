/**
 * What the owner is told once, not once per event: a notice is sent the first time its key comes up and remembered
 * in the events table, so a log channel that refuses every copy, or a restart, sends nothing more. An episode
 * (failures piling up, the disk filling, the user session gone) is told once until it is over: `recovered` closes
 * it, and the next one is told again.
 */
import type { Db } from "../db/database.js";
import { hasEventFor, latestOfActions, recordEvent } from "../db/events.js";
import type { Logger } from "../logger.js";
import type { TelegramGateway } from "../telegram/gateway.js";
import type { MessageKey } from "./i18n/en.js";
import { type Params, translator } from "./i18n/translate.js";
import { userLanguage } from "./language.js";

const NOTICE = "owner.notice";
/** An episode's end: after it, the same subject is told again. */
const CLEARED = "owner.notice.cleared";

export interface OwnerNotices {
  /** Sends the catalog text `key` to the owner unless a notice with `subject` went before; never throws. */
  once(subject: string, key: MessageKey, params?: Params): Promise<void>;
  /** Sends `key` unless an episode of `subject` is open (told and not recovered since); never throws. */
  episode(subject: string, key: MessageKey, params?: Params): Promise<void>;
  /** Ends the open episode of `subject`, if any, telling the owner `key` when given; never throws. */
  recovered(subject: string, key?: MessageKey, params?: Params): Promise<void>;
  /** Whether an episode of `subject` is open. */
  isOpen(subject: string): Promise<boolean>;
}

export function createOwnerNotices(deps: {
  db: Db;
  gateway: Pick<TelegramGateway, "sendText">;
  ownerId: number;
  log: Logger;
}): OwnerNotices {
  // One subject at a time: two refusals in the same moment (a log channel and its album) make one notice.
  const chains = new Map<string, Promise<void>>();
  const serial = async (subject: string, task: () => Promise<void>): Promise<void> => {
    const previous = chains.get(subject) ?? Promise.resolve();
    const running = previous.then(task).catch((error: unknown) => {
      deps.log.warn({ err: error, subject }, "owner notice failed");
    });
    chains.set(subject, running);
    await running;
    if (chains.get(subject) === running) chains.delete(subject);
  };
  const tell = async (key: MessageKey, params: Params | undefined): Promise<boolean> => {
    const language = await userLanguage(deps.db, deps.ownerId);
    try {
      await deps.gateway.sendText(deps.ownerId, translator(language)(key, params), { html: true });
      return true;
    } catch (error) {
      // An owner who never wrote to the bot cannot be reached; the log line is the notice then.
      deps.log.warn({ err: error, key }, "the owner could not be told");
      return false;
    }
  };
  const send = async (subject: string, key: MessageKey, params?: Params) => {
    const delivered = await tell(key, params);
    await recordEvent(deps.db, { category: "system", action: NOTICE, subject, data: { key, delivered } });
  };
  const isOpen = async (subject: string) =>
    (await latestOfActions(deps.db, { actions: [NOTICE, CLEARED], subject })) === NOTICE;
  return {
    once: (subject, key, params) =>
      serial(subject, async () => {
        if (await hasEventFor(deps.db, { action: NOTICE, subject })) return;
        await send(subject, key, params);
      }),
    episode: (subject, key, params) =>
      serial(subject, async () => {
        if (await isOpen(subject)) return;
        await send(subject, key, params);
      }),
    recovered: (subject, key, params) =>
      serial(subject, async () => {
        if (!(await isOpen(subject))) return;
        const delivered = key ? await tell(key, params) : false;
        await recordEvent(deps.db, {
          category: "system",
          action: CLEARED,
          subject,
          data: { key, delivered },
        });
      }),
    isOpen,
  };
}
