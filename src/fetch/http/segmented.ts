/**
 * One big file over several connections: the file is sized up front and each connection writes its own range at
 * its offsets. The first connection keeps the response that probed the server, so no request is wasted. A
 * connection that finishes early takes the second half of the largest range still running (as aria2 does), so one
 * slow connection does not hold up the end.
 */
import type { FileHandle } from "node:fs/promises";
import { DownloadError } from "../../errors.js";
import { type OpenedResponse, type TransferContext, type TransferRange, transfer } from "./transfer.js";

/** Splitting a range smaller than twice this costs a request for less than it saves. */
const MIN_STEAL_BYTES = 4 * 1024 * 1024;
/**
 * Answers to an extra connection that mean "not another one from you" (hosts that limit connections per address):
 * its range goes back to the connections that work instead of failing the download.
 */
const EXTRA_CONNECTION_REFUSED = new Set(["HTTP_403", "HTTP_429", "HTTP_503"]);

/**
 * Downloads the `missing` byte intervals ([start, end), in order; the whole file by default) of `first.url` over
 * `connections` ranges; `first` is a 206 for "bytes=<first missing byte>-" and serves the first range. Throws
 * RangeIgnoredError when a later range comes back as 200 (the caller restarts on one connection); any other failure
 * stops every connection before it is thrown.
 */
export async function downloadSegmented(
  ctx: TransferContext,
  fh: FileHandle,
  first: OpenedResponse,
  total: number,
  connections: number,
  missing: ReadonlyArray<readonly [number, number]> = [[0, total]],
  /** Segments of this size taken in file order (a reader follows the writes); one per connection by default. */
  pieceBytes?: number,
): Promise<number> {
  // Sized up front so that each connection writes at its offsets (sparse until written).
  await fh.truncate(total);
  const wanted = missing.reduce((sum, [start, end]) => sum + (end - start), 0);
  const length = pieceBytes ?? Math.ceil(wanted / connections);
  const ranges: TransferRange[] = [];
  for (const [from, to] of missing) {
    for (let start = from; start < to; start += length) {
      ranges.push({ start, end: Math.min(to, start + length), total, next: start });
    }
  }

  // One failure stops the siblings: they see an aborted signal and end with CancelledError.
  const stop = new AbortController();
  const parent = ctx.options.signal;
  const onParentAbort = () => stop.abort(parent?.reason);
  if (parent?.aborted) onParentAbort();
  parent?.addEventListener("abort", onParentAbort, { once: true });
  // The probing response was opened with the parent's signal; it must stop with its siblings too.
  stop.signal.addEventListener("abort", () => first.stream.destroy(), { once: true });
  const child: TransferContext = { ...ctx, options: { ...ctx.options, signal: stop.signal } };

  const running = new Set<TransferRange>();
  // Each steal halves a range of at least 2 * MIN_STEAL_BYTES, so this many can never be needed.
  let stealsLeft = Math.ceil(total / MIN_STEAL_BYTES);
  const steal = (): TransferRange | undefined => {
    let victim: TransferRange | undefined;
    let most = 0;
    for (const range of running) {
      const left = (range.end ?? total) - range.next;
      if (left > most) {
        most = left;
        victim = range;
      }
    }
    if (!victim || most < 2 * MIN_STEAL_BYTES || stealsLeft-- <= 0) return undefined;
    const middle = victim.next + Math.floor(most / 2);
    const taken = { start: middle, end: victim.end, total, next: middle };
    // The victim reads its end for every chunk: it stops at the middle and closes its connection there.
    victim.end = middle;
    return taken;
  };
  // Ranges given back by a connection the server refused, for the others to take first; and, on a resume, the
  // ranges beyond one per connection (popped from the end, so reversed to be taken in order).
  const returned: TransferRange[] = ranges.splice(connections).reverse();
  // Bytes of finished ranges: they must add up to the file, or a range was lost.
  let covered = 0;
  const worker = async (range: TransferRange, opened: OpenedResponse | undefined, mayGiveBack: boolean) => {
    let response = opened;
    for (let current: TransferRange | undefined = range; current; current = returned.pop() ?? steal()) {
      running.add(current);
      try {
        await transfer(child, fh, response, first.url, current);
        covered += (current.end ?? total) - current.start;
      } catch (error) {
        const refused = error instanceof DownloadError && EXTRA_CONNECTION_REFUSED.has(error.code);
        if (!(mayGiveBack && refused && current.next === current.start)) throw error;
        ctx.options.log?.info({ code: error.code }, "server refused an extra connection; fewer connections");
        returned.push(current);
        return;
      } finally {
        running.delete(current);
      }
      response = undefined;
    }
  };

  let failure: unknown;
  try {
    const fail = (error: unknown) => {
      failure ??= error;
      stop.abort(error);
    };
    // The first connection already has its response: the server cannot refuse it, so it never gives up its range.
    await Promise.all(
      ranges.map((range, i) => worker(range, i === 0 ? first : undefined, i > 0).catch(fail)),
    );
    // A range given back after every other connection had finished: one more connection, which may not give up.
    for (let range = returned.pop(); range && failure === undefined; range = returned.pop()) {
      await worker(range, undefined, false).catch(fail);
    }
  } finally {
    parent?.removeEventListener("abort", onParentAbort);
  }
  if (failure !== undefined) throw failure;
  if (covered !== wanted) {
    throw new DownloadError("HTTP_INCOMPLETE", `Ranges covered ${covered} of ${wanted} bytes`, {
      userMessage: "The download did not complete.",
    });
  }
  return total;
}
