/**
 * The language a user reads outside a reply to them (status boards, batch summaries, owner notices): the one chosen
 * in /settings, else their Telegram app's as last seen, else English. A private chat's id is its user's.
 */
import type { Db } from "../db/database.js";
import { getPeer } from "../db/peers.js";
import { getUserSettings } from "../db/settings.js";
import { type Language, pickLanguage } from "./i18n/translate.js";

export async function userLanguage(db: Db, userId: number): Promise<Language> {
  const chosen = (await getUserSettings(db, userId)).language;
  return chosen ?? pickLanguage((await getPeer(db, userId))?.lang_code ?? undefined);
}
