/** Retry delays: doubling from `baseMs`, capped at `maxMs`. */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /**
   * Spread each delay over ±this share of itself, so parallel connections or workers do not retry in lockstep.
   * @default 0
   */
  jitter?: number;
}

/** The wait before retry number `attempt` (1 for the first retry). */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const base = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  const jitter = options.jitter ?? 0;
  return jitter > 0 ? base * (1 - jitter + Math.random() * 2 * jitter) : base;
}
