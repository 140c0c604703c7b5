/**
 * The callback data of our own buttons, checked with zod: "<scope>:<action>:<userId>". Each button names the
 * user it was sent to, and a press by anyone else is refused (in a group everyone sees the buttons). Whatever a
 * button asks is checked again where it acts (a job must be the presser's), so data a client forges buys nothing.
 * The live status message's buttons ("st:…") are the status module's and are routed there before this parser.
 */
import { z } from "zod";
import { QUALITIES } from "../lib/quality.js";

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

export type MenuData = z.output<typeof menuData>;
export type CallbackData = MenuData | SettingsData | ForgetData | PromptData;

export function encodeMenu(action: MenuAction, userId: number): string {
  const data = `m:${action}:${userId}`;
  if (Buffer.byteLength(data) > MAX_CALLBACK_BYTES) throw new RangeError(`callback data too long: ${data}`);
  return data;
}

/** Our data, or undefined for anything else (stale, malformed, forged). */
export function parseCallback(data: string): CallbackData | undefined {
  if (Buffer.byteLength(data) > MAX_CALLBACK_BYTES) return undefined;
  const fields = data.split(":");
  if (fields[0] === "p") {
    const [scope, choice, promptId, userId, ...rest] = fields;
    if (rest.length > 0) return undefined;
    const parsed = promptData.safeParse({ scope, choice, promptId, userId });
    return parsed.success ? parsed.data : undefined;
  }
  if (fields[0] === "s" || fields[0] === "f") {
    const [scope, action, arg, userId, ...rest] = fields;
    if (rest.length > 0) return undefined;
    const parsed = (scope === "s" ? settingsData : forgetData).safeParse({ scope, action, arg, userId });
    return parsed.success ? parsed.data : undefined;
  }
  const [scope, action, userId, ...rest] = fields;
  if (rest.length > 0) return undefined;
  const parsed = menuData.safeParse({ scope, action, userId });
  return parsed.success ? parsed.data : undefined;
}

// ---- /settings and /forgetme (usercmd) ----

const USER_ID = z
  .string()
  .regex(/^[1-9]\d{0,15}$/)
  .transform(Number)
  .pipe(z.number().int().positive().max(Number.MAX_SAFE_INTEGER));

/** The /settings menu's buttons: "s:<action>:<arg>:<userId>"; what `arg` may be is checked where it acts. */
export const SETTINGS_ACTIONS = ["main", "as", "cap", "dst", "th", "sp", "q", "lang"] as const;
export type SettingsAction = (typeof SETTINGS_ACTIONS)[number];

const settingsData = z.object({
  scope: z.literal("s"),
  action: z.enum(SETTINGS_ACTIONS),
  arg: z.string().regex(/^-?[0-9a-z]{1,20}$/),
  userId: USER_ID,
});
export type SettingsData = z.output<typeof settingsData>;

export function encodeSettings(action: SettingsAction, arg: string | number, userId: number): string {
  return checked(`s:${action}:${arg}:${userId}`);
}

/** The /forgetme confirmation: "f:<yes|no>:<issued, unix seconds base 36>:<userId>". */
const forgetData = z.object({
  scope: z.literal("f"),
  action: z.enum(["yes", "no"]),
  arg: z
    .string()
    .regex(/^[0-9a-z]{1,10}$/)
    .transform((v) => Number.parseInt(v, 36) * 1000),
  userId: USER_ID,
});
export type ForgetData = z.output<typeof forgetData>;

export function encodeForget(action: "yes" | "no", issuedMs: number, userId: number): string {
  return checked(`f:${action}:${Math.floor(issuedMs / 1000).toString(36)}:${userId}`);
}

/**
 * A link question's buttons (src/bot/link-prompts.ts): "p:<quality|ok|no>:<question id>:<userId>". Whether the
 * question is the presser's, still open and offered that choice is checked against its row.
 */
const promptData = z.object({
  scope: z.literal("p"),
  choice: z.enum([...QUALITIES, "ok", "no"]),
  promptId: z.string().regex(/^[A-Za-z0-9_-]{8}$/),
  userId: USER_ID,
});
export type PromptData = z.output<typeof promptData>;

export function encodePrompt(choice: PromptData["choice"], promptId: string, userId: number): string {
  return checked(`p:${choice}:${promptId}:${userId}`);
}

function checked(data: string): string {
  if (Buffer.byteLength(data) > MAX_CALLBACK_BYTES) throw new RangeError(`callback data too long: ${data}`);
  return data;
}
