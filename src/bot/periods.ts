/** The periods /usage and /stats count over: today (UTC), the last 7 days, ever. */
export const DAY_MS = 86_400_000;

/** Midnight UTC of the day `ms` falls in, as ISO text. */
export function dayStart(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 10)}T00:00:00.000Z`;
}

/** A week back from `ms`, as ISO text. */
export function weekAgo(ms: number): string {
  return new Date(ms - 7 * DAY_MS).toISOString();
}
