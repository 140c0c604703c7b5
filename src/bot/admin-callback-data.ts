/**
 * Callback data of the admin and owner screens, checked with zod like the menu's (callback-data.ts):
 * "a:u:<page>:<userId>" turns a page of /users, "a:f:<feature>:<userId>" flips one of the owner's /features.
 * Each names the user it was sent to; a press by anyone else acts on nothing, and the role is checked again
 * where it acts.
 */
import { z } from "zod";
import { MAX_CALLBACK_BYTES } from "./callback-data.js";
import { FEATURES, type Feature } from "./features.js";

export const ADMIN_PREFIX = "a:";
/** More pages than anyone has users for; bounds the number a forged press can ask for. */
const MAX_PAGE = 10_000;

const userId = z
  .string()
  .regex(/^[1-9]\d{0,15}$/)
  .transform(Number)
  .pipe(z.number().int().positive().max(Number.MAX_SAFE_INTEGER));

const adminData = z.discriminatedUnion("scope", [
  z.object({
    scope: z.literal("u"),
    page: z
      .string()
      .regex(/^\d{1,5}$/)
      .transform(Number)
      .pipe(z.number().int().min(0).max(MAX_PAGE)),
    userId,
  }),
  z.object({ scope: z.literal("f"), feature: z.enum(FEATURES), userId }),
]);

export type AdminCallbackData = z.output<typeof adminData>;

export function encodeUsersPage(page: number, forUser: number): string {
  return checked(`a:u:${page}:${forUser}`);
}

export function encodeFeature(feature: Feature, forUser: number): string {
  return checked(`a:f:${feature}:${forUser}`);
}

export function parseAdminCallback(data: string): AdminCallbackData | undefined {
  if (Buffer.byteLength(data) > MAX_CALLBACK_BYTES) return undefined;
  const [prefix, scope, value, user, ...rest] = data.split(":");
  if (prefix !== "a" || rest.length > 0) return undefined;
  const parsed = adminData.safeParse(
    scope === "u" ? { scope, page: value, userId: user } : { scope, feature: value, userId: user },
  );
  return parsed.success ? parsed.data : undefined;
}

function checked(data: string): string {
  if (Buffer.byteLength(data) > MAX_CALLBACK_BYTES) throw new RangeError(`callback data too long: ${data}`);
  return data;
}
