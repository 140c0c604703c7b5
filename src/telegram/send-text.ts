/**
 * Text sent exactly once across crashes: the caller stores the random_id before the first attempt, and a re-send
 * with it that Telegram drops (RANDOM_ID_DUPLICATE) counts as sent. For messages that must not repeat, such as a
 * batch's summary; status messages and replies go through the gateway's sendText.
 */
import { Api, errors, helpers, type TelegramClient } from "telegram";
import { abortableSleep, throwIfAborted, withDeadline } from "../lib/abort.js";
import { mainSender } from "./gramjs-internals.js";
import { TelegramError } from "./telegram-error.js";
import { isRpcError } from "./upload-connection.js";

/** Telegram's answer (a 500) to a random_id it has seen: the earlier send went through. */
const RANDOM_ID_DUPLICATE = "RANDOM_ID_DUPLICATE";
/** FLOOD_WAIT up to this long is waited out; a longer one reaches the caller, which tries again later. */
const MAX_FLOOD_WAIT_S = 60;
const MAX_FLOOD_RETRIES = 3;
/** A text send is answered in well under a second; past this the answer was lost (the random_id makes a retry safe). */
const SEND_TIMEOUT_MS = 60_000;

export interface SendTextOnceParams {
  peer: Api.TypeInputPeer;
  message: string;
  entities: Api.TypeMessageEntity[];
  /** Persisted by the caller before the first attempt. */
  randomId: bigint;
  signal?: AbortSignal | undefined;
}

/**
 * Sends on the client's own connection (not `client.invoke`, which turns the RANDOM_ID_DUPLICATE 500 into 10 s of
 * retries and a generic error). Returns Telegram's answer, or `duplicate` when an earlier attempt posted it.
 */
export async function sendTextOnce(
  client: TelegramClient,
  params: SendTextOnceParams,
): Promise<{ result: unknown; duplicate: boolean }> {
  for (let floods = 0; ; ) {
    throwIfAborted(params.signal);
    const sender = mainSender(client);
    if (!sender) throw new TelegramError("SEND_NOT_CONNECTED", "The Telegram client is not connected");
    const request = new Api.messages.SendMessage({
      peer: params.peer,
      message: params.message,
      entities: params.entities,
      randomId: helpers.returnBigInt(params.randomId),
      noWebpage: true,
    });
    try {
      const result = await withDeadline(
        sender.send(request),
        SEND_TIMEOUT_MS,
        params.signal,
        () => new TelegramError("SEND_TIMEOUT", `Telegram did not answer within ${SEND_TIMEOUT_MS / 1000} s`),
      );
      return { result, duplicate: false };
    } catch (error) {
      if (isRpcError(error) && error.errorMessage === RANDOM_ID_DUPLICATE) {
        return { result: undefined, duplicate: true };
      }
      if (
        error instanceof errors.FloodWaitError &&
        error.seconds <= MAX_FLOOD_WAIT_S &&
        floods < MAX_FLOOD_RETRIES
      ) {
        floods++;
        await abortableSleep(error.seconds * 1000, params.signal);
        continue;
      }
      throw error;
    }
  }
}
