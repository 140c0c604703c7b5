/** Telegram's errors as ours: the RPC error name becomes the code, FLOOD_WAIT carries its wait. */
import { errors } from "telegram";
import { MedusaError } from "../errors.js";

/** An error from Telegram or from the gateway, with Telegram's error name as code where there is one. */
export class TelegramError extends MedusaError {}

export function floodSeconds(error: unknown): number | undefined {
  if (error instanceof errors.FloodWaitError) return error.seconds;
  if (error instanceof errors.RPCError) {
    const premium = /^FLOOD_PREMIUM_WAIT_(\d+)$/.exec(error.errorMessage);
    if (premium) return Number(premium[1]);
  }
  return undefined;
}

export function asTelegramError(error: unknown): TelegramError {
  if (error instanceof TelegramError) return error;
  const seconds = floodSeconds(error);
  if (seconds !== undefined) {
    return new TelegramError("FLOOD_WAIT", `Telegram asks to wait ${seconds} s`, {
      cause: error,
      retryAfterSeconds: seconds,
    });
  }
  if (error instanceof errors.RPCError) {
    return new TelegramError(error.errorMessage, `Telegram answered ${error.code} ${error.errorMessage}`, {
      cause: error,
    });
  }
  return new TelegramError("TELEGRAM_FAILED", error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}
