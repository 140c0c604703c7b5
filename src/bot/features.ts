/**
 * The owner's feature switches, kept in bot_settings ("feature.<name>", JSON true/false) so that they survive a
 * restart and take effect on the next update: links that need yt-dlp, .txt batches, playlists, and whether anyone
 * who writes is let in as a user ("open") or only people an admin added.
 */
import type { Db } from "../db/database.js";
import { getBotSetting, setBotSetting } from "../db/settings.js";

export const FEATURES = ["ytdlp", "batches", "playlists", "open"] as const;
export type Feature = (typeof FEATURES)[number];

/** What a fresh install does: everything on except open access. */
export const FEATURE_DEFAULTS: Readonly<Record<Feature, boolean>> = {
  ytdlp: true,
  batches: true,
  playlists: true,
  open: false,
};

const key = (feature: Feature) => `feature.${feature}`;

/**
 * A link that names a playlist rather than one video (YouTube's list=, /playlist, /sets/ of SoundCloud, /album/):
 * what the playlists switch refuses at enqueue. With it on, such a link goes to yt-dlp like any page.
 */
export function isPlaylistLink(url: string): boolean {
  try {
    const u = new URL(url);
    return u.searchParams.has("list") || /\/(playlist|sets|album)(\/|$)/i.test(u.pathname);
  } catch {
    return false; // not a URL: the link checks refuse it elsewhere
  }
}

export async function isFeatureOn(db: Db, feature: Feature): Promise<boolean> {
  const value = await getBotSetting<unknown>(db, key(feature), FEATURE_DEFAULTS[feature]);
  // A hand-edited row that is not a boolean counts as the default, never as "on" by accident.
  return typeof value === "boolean" ? value : FEATURE_DEFAULTS[feature];
}

export async function features(db: Db): Promise<Record<Feature, boolean>> {
  const out = { ...FEATURE_DEFAULTS };
  for (const feature of FEATURES) out[feature] = await isFeatureOn(db, feature);
  return out;
}

export async function setFeature(db: Db, feature: Feature, on: boolean, by: number): Promise<void> {
  await setBotSetting(db, key(feature), on, by);
}
