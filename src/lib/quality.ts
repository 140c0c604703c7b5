/** The video qualities a user can ask for: a height cap, the best there is, or the audio alone. */
export const QUALITIES = ["best", "1080", "720", "480", "360", "audio"] as const;
export type Quality = (typeof QUALITIES)[number];
