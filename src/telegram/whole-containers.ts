/**
 * Every answer in a container reaches its request. gramjs 2.26.22 handles a msg_container by processing its
 * messages one after another and stops at the first that throws — and its rpc_result handler, after rejecting the
 * request with an RPC error, throws that error again. So when Telegram packs answers together (it does, and the
 * local server packs everything answered in one tick), an error answer (a FLOOD_WAIT, a RANDOM_ID_DUPLICATE after a
 * reconnect) silently drops every answer after it: those requests never settle. On the main connection that is a
 * sendMedia that hangs for good; the soak test (test/jobs/soak.test.ts) wedged the job runner this way.
 *
 * The replacement processes each message of a container on its own and, once all are done, throws the first error
 * as gramjs would have, so the receive loop's handling of a throw (AUTH_KEY_UNREGISTERED) is unchanged.
 * Anything that is not a container goes to gramjs's own code.
 */
import {
  currentProcessMessage,
  messageContainer,
  type ProcessMessage,
  type ReceivedMessage,
  type ReceivingSender,
  setProcessMessage,
  stockProcessMessage,
} from "./gramjs-internals.js";

async function processMessageWhole(this: ReceivingSender, message: ReceivedMessage): Promise<void> {
  const obj = await message.obj;
  if ((obj as { CONSTRUCTOR_ID?: number } | null)?.CONSTRUCTOR_ID !== messageContainer.CONSTRUCTOR_ID) {
    await stockProcessMessage.call(this, message);
    return;
  }
  message.obj = obj;
  this._pendingAck.add(message.msgId); // as gramjs does for every message it processes
  let failure: { error: unknown } | undefined;
  for (const inner of (obj as { messages: ReceivedMessage[] }).messages) {
    try {
      await this._processMessage(inner);
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;
}

/** Installs the replacement process-wide (existing senders included). Idempotent. */
export function installWholeContainers(): void {
  setProcessMessage(processMessageWhole as ProcessMessage);
}

/** Puts gramjs's own code back (the tests show the loss with it). */
export function uninstallWholeContainers(): void {
  setProcessMessage(stockProcessMessage);
}

export function wholeContainersInstalled(): boolean {
  return currentProcessMessage() === processMessageWhole;
}
