/**
 * Watches a runner's claim statements (the only UPDATE that sets claimed_at) through a kysely plugin on the handle the
 * runner is given: how many are under way, how many ended, and a hook that runs while one is ending (its answer read,
 * not yet handed back). Tests use it to act at an exact point of a lane's loop instead of guessing with a sleep.
 */
import { ColumnNode, type KyselyPlugin, type QueryId, UpdateQueryNode } from "kysely";

export interface ClaimWatch {
  plugin: KyselyPlugin;
  /** Claims sent and not yet answered. */
  inFlight(): number;
  /** Claims answered so far. */
  done(): number;
}

export function claimWatch(
  options: {
    /** After each answered claim (`n` counts from 1), before the runner sees its answer. */
    onEnding?: (n: number, claimedRows: number) => Promise<void> | void;
    /** After each answered claim, once the hook above ran. */
    onDone?: () => void;
  } = {},
): ClaimWatch {
  const pending = new Set<QueryId>();
  let done = 0;
  const plugin: KyselyPlugin = {
    transformQuery({ node, queryId }) {
      if (
        UpdateQueryNode.is(node) &&
        node.updates?.some((u) => ColumnNode.is(u.column) && u.column.column.name === "claimed_at")
      ) {
        pending.add(queryId);
      }
      return node;
    },
    async transformResult({ result, queryId }) {
      if (!pending.has(queryId)) return result;
      done++;
      await options.onEnding?.(done, result.rows.length);
      pending.delete(queryId);
      options.onDone?.();
      return result;
    },
  };
  return { plugin, inFlight: () => pending.size, done: () => done };
}
