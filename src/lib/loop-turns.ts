/**
 * Turns at heavy synchronous work, one per pass of the event loop. A bulk transfer often has many slices ready at
 * once (an upload's parts answered together, each then encrypted on this thread); run back to back they hold
 * everything else — a bot's reply to a command — behind all of them. A caller awaits its turn before its slice,
 * and the next turn is handed out only after the loop has polled I/O again, so other work waits one slice at most.
 */
export interface LoopTurns {
  /** Resolves when it is this caller's turn: at once if nobody waits, else one pass of the loop per caller ahead. */
  next(): Promise<void>;
}

export function createLoopTurns(): LoopTurns {
  const waiting: Array<() => void> = [];
  let scheduled = false;
  // Runs in the loop's check phase; an immediate set from there runs on the next pass, after the next poll.
  const release = () => {
    waiting.shift()?.();
    if (waiting.length > 0) setImmediate(release);
    else scheduled = false;
  };
  return {
    next() {
      return new Promise<void>((resolve) => {
        waiting.push(resolve);
        if (!scheduled) {
          scheduled = true;
          setImmediate(release);
        }
      });
    },
  };
}
