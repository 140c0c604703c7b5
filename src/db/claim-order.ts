/**
 * The order in which claimJob hands out waiting jobs, as a pure function over rows in memory: queueOverview uses it
 * to tell a user their place in the queue. claimJob's SQL is the authority; this mirrors its ORDER BY:
 *
 *   1. priority, higher first;
 *   2. the user with the fewest jobs leased right now;
 *   3. the user whose last claim is oldest (never claimed: first);
 *   4. the job id (oldest first).
 *
 * Simulated claims count as leases and as the newest claims, so the order takes turns between users exactly as
 * successive claims would if no job finished meanwhile.
 */

export interface OrderCandidate {
  id: number;
  userId: number;
  priority: number;
}

/** Where a user stands before the simulated claims: leases held now and the time of their last claim. */
export interface UserTurn {
  leased: number;
  lastClaim: string | null;
}

interface UserState {
  leased: number;
  lastClaim: string;
  /** 0 until a simulated claim; then its sequence number, newer than any real claim. */
  simulated: number;
  /** This user's candidates, best first (priority desc, id asc), and the index of the next one. */
  queue: OrderCandidate[];
  next: number;
}

function byPriorityThenId(a: OrderCandidate, b: OrderCandidate): number {
  return b.priority - a.priority || a.id - b.id;
}

/** Is user `a`'s next job claimed before user `b`'s? */
function before(a: UserState, b: UserState): boolean {
  const ja = a.queue[a.next]!;
  const jb = b.queue[b.next]!;
  if (ja.priority !== jb.priority) return ja.priority > jb.priority;
  if (a.leased !== b.leased) return a.leased < b.leased;
  if (a.simulated !== b.simulated) return a.simulated < b.simulated;
  if (a.lastClaim !== b.lastClaim) return a.lastClaim < b.lastClaim;
  return ja.id < jb.id;
}

/** Candidate ids in the order successive claims would take them. */
export function claimOrder(
  candidates: readonly OrderCandidate[],
  turns: ReadonlyMap<number, UserTurn>,
): number[] {
  const users = new Map<number, UserState>();
  for (const candidate of candidates) {
    let state = users.get(candidate.userId);
    if (!state) {
      const turn = turns.get(candidate.userId);
      state = {
        leased: turn?.leased ?? 0,
        lastClaim: turn?.lastClaim ?? "",
        simulated: 0,
        queue: [],
        next: 0,
      };
      users.set(candidate.userId, state);
    }
    state.queue.push(candidate);
  }
  for (const state of users.values()) state.queue.sort(byPriorityThenId);

  const order: number[] = [];
  let waiting = [...users.values()];
  let sequence = 0;
  while (waiting.length > 0) {
    let best = waiting[0]!;
    for (const state of waiting) if (before(state, best)) best = state;
    order.push(best.queue[best.next]!.id);
    best.next += 1;
    best.leased += 1;
    best.simulated = ++sequence;
    if (best.next === best.queue.length) waiting = waiting.filter((s) => s !== best);
  }
  return order;
}
