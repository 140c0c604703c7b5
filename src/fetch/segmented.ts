/**
 * One big file over several connections: the file is sized up front and each connection writes its own range at
 * its offsets. The first connection keeps the response that probed the server, so no request is wasted.
 */
import type { FileHandle } from "node:fs/promises";
import { type OpenedResponse, type TransferContext, transfer } from "./transfer.js";

/**
 * Downloads [0, total) of `first.url` over `connections` ranges; `first` is a 206 for "bytes=0-" and serves the
 * first range. Throws RangeIgnoredError when a later range comes back as 200 (the caller restarts on one
 * connection); any other failure stops every connection before it is thrown.
 */
export async function downloadSegmented(
  ctx: TransferContext,
  fh: FileHandle,
  first: OpenedResponse,
  total: number,
  connections: number,
): Promise<number> {
  // Sized up front so that each connection writes at its offsets (sparse until written).
  await fh.truncate(total);
  const length = Math.ceil(total / connections);
  const ranges: Array<{ start: number; end: number }> = [];
  for (let start = 0; start < total; start += length)
    ranges.push({ start, end: Math.min(total, start + length) });

  // One failure stops the siblings: they see an aborted signal and end with CancelledError.
  const stop = new AbortController();
  const parent = ctx.options.signal;
  const onParentAbort = () => stop.abort(parent?.reason);
  if (parent?.aborted) onParentAbort();
  parent?.addEventListener("abort", onParentAbort, { once: true });
  // The probing response was opened with the parent's signal; it must stop with its siblings too.
  stop.signal.addEventListener("abort", () => first.stream.destroy(), { once: true });
  const child: TransferContext = { ...ctx, options: { ...ctx.options, signal: stop.signal } };
  let failure: unknown;
  try {
    await Promise.all(
      ranges.map((range, i) =>
        transfer(child, fh, i === 0 ? first : undefined, first.url, { ...range, total }).catch(
          (error: unknown) => {
            failure ??= error;
            stop.abort(error);
          },
        ),
      ),
    );
  } finally {
    parent?.removeEventListener("abort", onParentAbort);
  }
  if (failure !== undefined) throw failure;
  return total;
}
