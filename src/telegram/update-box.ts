/**
 * Telegram's common update box for one account, kept in SQLite: every pushed update is checked against the saved
 * pts (apply, already seen, or a gap), gaps and restarts are filled with updates.getDifference until it is empty,
 * and each update reaches the handler once. gramjs 2.26 does none of this (its catchUp() is an empty TODO).
 *
 * The order per update: claim its key, run the handler, mark it done, then save the state. A crash before "done"
 * hands the update over again (flagged as redelivered); a crash after it finds the key done and skips it.
 */
import { Api } from "telegram";
import type { Db } from "../db/database.js";
import { savePeers } from "../db/peers.js";
import type { NewPeer, TelegramAccount, UpdateState } from "../db/schema.js";
import {
  claimUpdate,
  finishUpdate,
  getUpdateState,
  pruneHandledUpdates,
  saveUpdateState,
} from "../db/update-state.js";
import type { Logger } from "../logger.js";
import type { Incoming } from "./gateway.js";
import { peersOf, toIncoming, updateKey } from "./incoming.js";

/** Handled keys only guard against replays; Telegram replays nothing older than days, so a week is ample. */
const HANDLED_KEYS_KEPT_MS = 7 * 24 * 3600 * 1000;
/** One difference answers at most a slice; a backlog bigger than this many slices is resumed on the next pass. */
const MAX_SLICES_PER_CATCH_UP = 1000;

export type IncomingHandler = (incoming: Incoming) => Promise<void>;

export interface UpdateBoxOptions {
  db: Db;
  account: TelegramAccount;
  /** Invokes a request on the account's main connection. */
  invoke: <R>(request: Api.AnyRequest) => Promise<R>;
  handler: IncomingHandler;
  log: Logger;
  /** Our own id: messages we sent ourselves are not handed to the handler. */
  selfId: number;
  /** Test hook: called between "handled" and "state saved", where a crash must not cause a second handling. */
  crashPoint?: (name: string) => void;
}

type Entities = { users: Api.TypeUser[]; chats: Api.TypeChat[] };

export class UpdateBox {
  private state: UpdateState | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: UpdateBoxOptions) {}

  /** Loads the saved state; on the very first start takes Telegram's current one (no history replay). */
  async start(): Promise<void> {
    await pruneHandledUpdates(this.options.db, new Date(Date.now() - HANDLED_KEYS_KEPT_MS).toISOString());
    this.state = await getUpdateState(this.options.db, this.options.account);
    if (!this.state) {
      const current = await this.options.invoke<Api.updates.State>(new Api.updates.GetState());
      this.state = { pts: current.pts, qts: current.qts, date: current.date, seq: current.seq };
      await saveUpdateState(this.options.db, this.options.account, this.state);
      this.options.log.info({ state: this.state }, "update state initialised");
      return;
    }
    await this.catchUp("start");
  }

  /** Queues a catch-up (after a reconnect); resolves when it ran. */
  catchUp(reason: string): Promise<void> {
    return this.enqueue(() => this.runDifference(reason));
  }

  /** Queues one pushed update with the users and chats that came with it. */
  push(update: Api.TypeUpdate, entities: Entities): Promise<void> {
    return this.enqueue(() => this.applyPushed(update, entities));
  }

  /** Waits for queued work, then refuses more. */
  async close(): Promise<void> {
    this.closed = true;
    await this.chain;
  }

  current(): UpdateState | undefined {
    return this.state ? { ...this.state } : undefined;
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    if (this.closed) return Promise.resolve();
    const run = this.chain.then(work);
    // The chain goes on after a failure; the caller of this step sees it.
    this.chain = run.catch((error: unknown) => {
      this.options.log.error({ err: error }, "update processing failed");
    });
    return run;
  }

  private async applyPushed(update: Api.TypeUpdate, entities: Entities): Promise<void> {
    const state = this.state;
    if (!state) return; // not started: start() catches up on everything anyway
    await this.rememberPeers(entities);
    const pts = commonPts(update);
    if (pts) {
      if (pts.pts <= state.pts) return; // seen already (a difference brought it)
      if (pts.pts - pts.count > state.pts) {
        this.options.log.debug({ have: state.pts, got: pts.pts, count: pts.count }, "update gap");
        await this.runDifference("gap");
        return;
      }
      await this.handleOne(update, entities);
      state.pts = pts.pts;
      await this.saveState();
      return;
    }
    const qts = qtsOf(update);
    if (qts !== undefined) {
      if (qts <= state.qts) return;
      if (qts > state.qts + 1) {
        await this.runDifference("qts gap");
        return;
      }
      await this.handleOne(update, entities);
      state.qts = qts;
      await this.saveState();
      return;
    }
    // No sequence (callback queries, channel updates): the handled key alone keeps them to one handling.
    await this.handleOne(update, entities);
  }

  private async runDifference(reason: string): Promise<void> {
    const state = this.state;
    if (!state) return;
    let fetched = 0;
    for (let slice = 0; slice < MAX_SLICES_PER_CATCH_UP; slice++) {
      const diff = await this.options.invoke<Api.updates.TypeDifference>(
        new Api.updates.GetDifference({ pts: state.pts, qts: state.qts, date: state.date }),
      );
      if (diff instanceof Api.updates.DifferenceEmpty) {
        Object.assign(state, { date: diff.date, seq: diff.seq });
        await this.saveState();
        break;
      }
      if (diff instanceof Api.updates.DifferenceTooLong) {
        this.options.log.warn(
          { from: state.pts, to: diff.pts },
          "Telegram no longer keeps the updates missed while away; going on from now",
        );
        state.pts = diff.pts;
        await this.saveState();
        continue;
      }
      const entities = { users: diff.users, chats: diff.chats };
      await this.rememberPeers(entities);
      for (const message of diff.newMessages) {
        await this.handleOne(new Api.UpdateNewMessage({ message, pts: 0, ptsCount: 0 }), entities);
        fetched++;
      }
      for (const update of diff.otherUpdates) {
        await this.handleOne(update, entities);
        fetched++;
      }
      const next = diff instanceof Api.updates.DifferenceSlice ? diff.intermediateState : diff.state;
      Object.assign(state, { pts: next.pts, qts: next.qts, date: next.date, seq: next.seq });
      await this.saveState();
      if (diff instanceof Api.updates.Difference) break;
    }
    if (fetched > 0) this.options.log.info({ reason, updates: fetched }, "caught up on missed updates");
  }

  /**
   * Our own sends move our pts too (their answers carry pts and pts_count): take them in order so that the next
   * pushed update is not mistaken for a gap.
   */
  acknowledge(pts: number, count: number): Promise<void> {
    return this.enqueue(async () => {
      if (this.state && pts - count === this.state.pts) {
        this.state.pts = pts;
        await this.saveState();
      }
    });
  }

  private async handleOne(update: Api.TypeUpdate, entities: Entities): Promise<void> {
    const key = updateKey(update);
    if (!key) return;
    const incoming = toIncoming(update, entities, this.options.selfId);
    if (!incoming) return;
    const { db, account } = this.options;
    const claim = await claimUpdate(db, account, key);
    if (claim === "done") return;
    try {
      await this.options.handler({ ...incoming, key, redelivered: claim === "again" });
    } catch (error) {
      // One update the handler cannot take must not hold up every later one (each gap would replay it): it
      // counts as handled, loudly. The bot's own error boundary answers the user before it gets here.
      this.options.log.error({ err: error, key }, "the update handler failed; going on with the next update");
    }
    await finishUpdate(db, account, key);
    this.options.crashPoint?.("update.handled");
  }

  private async rememberPeers(entities: Entities): Promise<void> {
    const peers: NewPeer[] = peersOf(entities);
    if (peers.length > 0) await savePeers(this.options.db, peers);
  }

  private async saveState(): Promise<void> {
    if (this.state) await saveUpdateState(this.options.db, this.options.account, this.state);
  }
}

/** pts and pts_count of an update in the common box (private chats and basic groups); channels have their own. */
function commonPts(update: Api.TypeUpdate): { pts: number; count: number } | undefined {
  if (
    update instanceof Api.UpdateNewMessage ||
    update instanceof Api.UpdateEditMessage ||
    update instanceof Api.UpdateDeleteMessages ||
    update instanceof Api.UpdateReadHistoryInbox ||
    update instanceof Api.UpdateReadHistoryOutbox ||
    update instanceof Api.UpdateReadMessagesContents ||
    update instanceof Api.UpdateWebPage ||
    update instanceof Api.UpdatePinnedMessages ||
    update instanceof Api.UpdateFolderPeers
  ) {
    return { pts: update.pts, count: update.ptsCount };
  }
  return undefined;
}

function qtsOf(update: Api.TypeUpdate): number | undefined {
  if (
    update instanceof Api.UpdateBotStopped ||
    update instanceof Api.UpdateChatParticipant ||
    update instanceof Api.UpdateChannelParticipant ||
    update instanceof Api.UpdateBotChatInviteRequester
  ) {
    return update.qts;
  }
  return undefined;
}
