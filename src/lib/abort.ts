/**
 * Cancellation helpers every engine shares: the error an abort becomes, and waits that end at once on abort so
 * that a cancelled job stops now rather than after a pause.
 */
import { CancelledError } from "../errors.js";

/**
 * The error an aborted signal stands for: the reason itself when it is a real error (a shutdown, a failed sibling
 * connection), else a CancelledError saying what was cancelled ("Upload", "Download", "ffmpeg").
 */
export function abortReason(signal: AbortSignal, what = "Work"): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name !== "AbortError") return reason;
  return new CancelledError(`${what} cancelled`, { cause: reason });
}

export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw abortReason(signal, what);
}

export function abortableSleep(ms: number, signal?: AbortSignal, what?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal, what));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal, what));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Settles with `promise`, or rejects on abort or after `ms` with the error `onTimeout` builds. */
export function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  signal: AbortSignal | undefined,
  onTimeout: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      cleanup();
      reject(abortReason(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(onTimeout());
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        cleanup();
        reject(error);
      },
    );
  });
}
