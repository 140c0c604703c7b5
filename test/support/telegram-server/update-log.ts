/**
 * A message box as Telegram keeps one (core.telegram.org/api/updates): every account has a common box — pts
 * advanced by pts_count for each message-related update of its private chats and basic groups, a seq per update
 * sent, a date — and every channel a box of its own. Each box logs its updates, bounded, so that a client that
 * was away asks for what it missed (`updates.getDifference`, `updates.getChannelDifference`) instead of losing it.
 * Updates without pts (callback queries) are logged by date, each strictly later than the one before.
 */
import type { MessageRecord } from "./world.js";

export type BoxEvent =
  | { kind: "newMessage"; message: MessageRecord }
  | { kind: "editMessage"; message: MessageRecord }
  | { kind: "deleteMessages"; ids: number[] }
  | { kind: "botCallbackQuery"; queryId: bigint; userId: number; message: MessageRecord; data: Buffer };

/** Who caused an update: the session that did learns it from its own answer, not from a push. */
export interface Origin {
  authKeyId: string;
  userId: number;
}

export interface BoxEntry {
  /** The box's pts after this update; 0 for an update without pts. */
  pts: number;
  ptsCount: number;
  /** The box's date after this update. */
  date: number;
  /** The account's seq for this update (one per update); 0 in channel boxes. */
  seq: number;
  event: BoxEvent;
  origin: Origin | undefined;
}

export interface UpdateLogSettings {
  /** Updates per getDifference answer; more make it a differenceSlice. @default 100 */
  sliceSize: number;
  /** Updates each box keeps; a client further behind gets differenceTooLong and must re-sync. @default 10000 */
  maxEntries: number;
}

export const DEFAULT_UPDATE_LOG: UpdateLogSettings = { sliceSize: 100, maxEntries: 10_000 };

export function checkUpdateLogSettings(s: Partial<UpdateLogSettings>): void {
  for (const [k, v] of Object.entries(s)) {
    if (v === undefined) continue;
    if (!Number.isInteger(v) || (v as number) < 1)
      throw new Error(`Expected ${k} to be an integer >= 1, got ${v}`);
  }
}

export interface BoxState {
  pts: number;
  qts: number;
  seq: number;
  date: number;
}

export interface DifferenceRequest {
  pts: number;
  date: number;
  /** Answer differenceTooLong when more than this many pts are missing. */
  ptsTotalLimit?: number;
  /** Overrides the slice size (getChannelDifference's `limit`). */
  limit?: number;
}

export type Difference =
  | { kind: "empty"; state: BoxState }
  | { kind: "tooLong"; state: BoxState }
  /** `final` false: a slice; `state` is then the intermediate state to ask from next. */
  | { kind: "entries"; entries: BoxEntry[]; state: BoxState; final: boolean };

export class UpdateBox {
  pts: number;
  readonly qts = 0;
  seq = 0;
  date: number;
  private entries: BoxEntry[] = [];
  /** pts after, and date of, the newest entries the bound dropped (with pts, and without). */
  private lostPts = 0;
  private lostDate = 0;

  constructor(
    private readonly settings: () => UpdateLogSettings,
    /** Channel boxes number no seq. */
    private readonly withSeq: boolean,
    now: number,
  ) {
    this.pts = 1;
    this.date = now;
  }

  state(): BoxState {
    return { pts: this.pts, qts: this.qts, seq: this.seq, date: this.date };
  }

  /** Logs an update: `ptsCount` > 0 advances pts; 0 logs it by date alone, strictly after every earlier entry. */
  add(event: BoxEvent, ptsCount: number, origin: Origin | undefined, now: number): BoxEntry {
    this.date = ptsCount > 0 ? Math.max(now, this.date) : Math.max(now, this.date + 1);
    this.pts += ptsCount;
    if (this.withSeq) this.seq++;
    const entry: BoxEntry = {
      pts: ptsCount > 0 ? this.pts : 0,
      ptsCount,
      date: this.date,
      seq: this.withSeq ? this.seq : 0,
      event,
      origin,
    };
    this.entries.push(entry);
    this.trim();
    return entry;
  }

  /** The newest entry matching `pred` (the sender's own entry for an update it caused). */
  findLast(pred: (e: BoxEntry) => boolean): BoxEntry | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) if (pred(this.entries[i]!)) return this.entries[i];
    return undefined;
  }

  get size(): number {
    return this.entries.length;
  }

  /** Applies a lowered bound at once. */
  trim(): void {
    const excess = this.entries.length - this.settings().maxEntries;
    if (excess <= 0) return;
    for (const e of this.entries.splice(0, excess)) {
      if (e.ptsCount > 0) this.lostPts = Math.max(this.lostPts, e.pts);
      else this.lostDate = Math.max(this.lostDate, e.date);
    }
  }

  /**
   * What happened after the state `req` describes: entries with pts above its pts, and entries without pts
   * dated after its date, in log order. `skip` marks entries the asker already knows (its own doing): they move
   * the state on but are not returned.
   */
  difference(req: DifferenceRequest, skip: (e: BoxEntry) => boolean): Difference {
    const state = this.state();
    // A client ahead of the box knows a state this box never had (another server's, say): it must re-sync.
    if (req.pts > this.pts) return { kind: "tooLong", state };
    if (req.ptsTotalLimit !== undefined && this.pts - req.pts > req.ptsTotalLimit)
      return { kind: "tooLong", state };
    if (req.pts < this.lostPts || req.date < this.lostDate) return { kind: "tooLong", state };
    const candidates = this.entries.filter((e) => (e.ptsCount > 0 ? e.pts > req.pts : e.date > req.date));
    if (candidates.length === 0) return { kind: "empty", state };
    const limit = req.limit ?? this.settings().sliceSize;
    const entries: BoxEntry[] = [];
    let walked = 0;
    for (const e of candidates) {
      if (!skip(e)) {
        if (entries.length === limit) break;
        entries.push(e);
      }
      walked++;
    }
    if (walked === candidates.length) return { kind: "entries", entries, state, final: true };
    const done = candidates.slice(0, walked);
    const last = done.at(-1)!;
    return {
      kind: "entries",
      entries,
      final: false,
      state: {
        pts: done.reduce((max, e) => Math.max(max, e.pts), req.pts),
        qts: this.qts,
        seq: last.seq,
        date: Math.max(req.date, last.date),
      },
    };
  }
}
