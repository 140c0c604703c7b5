/**
 * The callback data of our own buttons, checked with zod: "<scope>:<action>:<userId>". Each button names the
 * user it was sent to, and a press by anyone else is refused (in a group everyone sees the buttons). Whatever a
 * button asks is checked again where it acts (a job must be the presser's), so data a client forges buys nothing.
 * The live status message's buttons ("st:…") are the status module's and are routed there before this parser.
 */
import { z } from "zod";

/** Telegram's limit on callback data. */
export const MAX_CALLBACK_BYTES = 64;
export const STATUS_PREFIX = "st:";

const MENU_ACTIONS = ["queue", "help"] as const;
export type MenuAction = (typeof MENU_ACTIONS)[number];

const menuData = z.object({
  scope: z.literal("m"),
  action: z.enum(MENU_ACTIONS),
  userId: z
    .string()
    .regex(/^[1-9]\d{0,15}$/)
    .transform(Number)
    .pipe(z.number().int().positive().max(Number.MAX_SAFE_INTEGER)),
});

export type CallbackData = z.output<typeof menuData>;

export function encodeMenu(action: MenuAction, userId: number): string {
  const data = `m:${action}:${userId}`;
  if (Buffer.byteLength(data) > MAX_CALLBACK_BYTES) throw new RangeError(`callback data too long: ${data}`);
  return data;
}

/** Our data, or undefined for anything else (stale, malformed, forged). */
export function parseCallback(data: string): CallbackData | undefined {
  if (Buffer.byteLength(data) > MAX_CALLBACK_BYTES) return undefined;
  const [scope, action, userId, ...rest] = data.split(":");
  if (rest.length > 0) return undefined;
  const parsed = menuData.safeParse({ scope, action, userId });
  return parsed.success ? parsed.data : undefined;
}
