/**
 * One live status message per chat: the chat's running and queued jobs with their progress, edited at most once per
 * interval, never awaited by a job. Each chat's board keeps its own clock: an edit is due no sooner than `intervalMs`
 * after the previous one ended, and no sooner than Telegram's FLOOD_WAIT allows; when it is due, the latest state is
 * read from the database and shown (an identical text is not sent again). Once nothing is left running in the chat,
 * the last edit shows the final states and the board stops; the next job starts a new message.
 *
 * The rows are the truth (jobs.status_message_id ties a job to its board), so a restart resumes each board on its
 * own message, and the runner's events or the job watch (workers in other processes) only wake a board up.
 */
import { z } from "zod";
import { type Db, nowIso } from "../db/database.js";
import { requestCancel, setPaused } from "../db/job-queue.js";
import { getJob } from "../db/jobs.js";
import { getPeer } from "../db/peers.js";
import { queueOverview, type RecentSpeed } from "../db/queue-overview.js";
import { FINISHED_STATUSES, type Job } from "../db/schema.js";
import {
  attachToStatusMessage,
  type BoardRow,
  boardRows,
  chatsWithUnfinishedJobs,
  currentStatusMessage,
  moveBoard,
  unfinishedJobsInChat,
} from "../db/status-board.js";
import { MedusaError } from "../errors.js";
import { TERMINAL_CHAT_ID } from "../jobs/job-options.js";
import type { RunnerEvent } from "../jobs/runner.js";
import { visibleText } from "../jobs/telegram-html.js";
import { withDeadline } from "../lib/abort.js";
import { backoffDelay } from "../lib/backoff.js";
import { displayUrl, type Logger } from "../logger.js";
import { messageLink } from "../telegram/chat-ref.js";
import type { TelegramGateway } from "../telegram/gateway.js";
import { jobFailureText } from "./error-text.js";
import { type Translate, translator } from "./i18n/translate.js";
import { userLanguage } from "./language.js";
import { type BoardJob, type BoardStage, type RenderedBoard, renderBoard } from "./status-render.js";
import { STATUS_TEXTS_EN, type StatusTexts } from "./status-texts.js";

/** Telegram tolerates about one edit of a message every few seconds. */
export const DEFAULT_STATUS_EDIT_INTERVAL_MS = 5_000;
/** stop() gives each board's final edit this long: a shutdown must not hang on Telegram. */
export const STOP_EDIT_TIMEOUT_MS = 10_000;
/** A speed is measured over at least this long, so one progress write does not make it jump. */
const MIN_SAMPLE_MS = 500;
/** Weight of the newest measurement in a job's speed (the rest is the speed before). */
const SPEED_SMOOTHING = 0.5;
/** How often a board with nothing running looks again by itself (events and presses wake it sooner). */
const IDLE_TICK_MS = 30_000;
const IDLE_STAGES: readonly BoardStage[] = ["queued", "paused", "done", "failed", "cancelled"];
/** A board whose calls keep failing (not FLOOD_WAIT) tries again at most this far apart. */
const MAX_RETRY_MS = 60_000;
/** Telegram will not take our posts in the chat (the user blocked the bot, the bot lost its rights). */
const CANNOT_POST =
  /^(USER_IS_BLOCKED|INPUT_USER_DEACTIVATED|PEER_ID_INVALID|CHAT_UNKNOWN|CHAT_WRITE_FORBIDDEN|CHAT_RESTRICTED|CHAT_ADMIN_REQUIRED|CHANNEL_PRIVATE|CHANNEL_INVALID|USER_BANNED_IN_CHANNEL)$/;
/** A board looks at the database at most this often, whatever the interval (0 in tests). */
const MIN_TICK_MS = 250;

export interface StatusBoardOptions {
  db: Db;
  gateway: Pick<TelegramGateway, "sendText" | "editText">;
  log: Logger;
  /** The least time between two edits of one chat's board. @default 5000 */
  intervalMs?: number;
  /** May this user cancel this job? (its owner, or an admin). @default only the job's owner */
  canActOnJob?: (userId: number, job: Job) => boolean | Promise<boolean>;
  /** Called when a job was resumed, so the runner claims it at once (runner.wake). */
  onResumed?: () => void;
  /** The words of a chat's board (its user's language). @default English */
  textsFor?: (chatId: number) => StatusTexts | Promise<StatusTexts>;
}

/** What a button press is answered with (a toast; an alert when `alert`). */
export interface CallbackAnswer {
  text: string;
  alert: boolean;
}

export interface StatusBoard {
  /** Starts the chat's board, or brings it up to date soon (new jobs were queued there). Never throws. */
  track(chatId: number): void;
  /** Boards for every chat with unfinished jobs (at start, after a restart). */
  resumeAll(): Promise<void>;
  /** The runner's events wake the board of the job's chat. Synchronous, never throws: the runner does not wait. */
  onRunnerEvent(event: RunnerEvent): void;
  /**
   * Jobs whose rows moved (src/jobs/job-watch.ts), whichever process runs them: wakes their chats' boards, as a
   * runner event would. Synchronous, never throws.
   */
  onJobChanges(changes: ReadonlyArray<{ chatId: number; finished: boolean }>): void;
  /** Handles a press of one of the board's buttons (data starting with "st:"). */
  handleCallback(
    data: string,
    fromUserId: number,
    chatId: number,
    messageId?: number,
  ): Promise<CallbackAnswer>;
  /** Shows each board's current state once more (bounded), then clears every timer. */
  stop(): Promise<void>;
  /** Chats whose board is live now. */
  activeChats(): number[];
}

type Press =
  | { kind: "cancel"; jobId: number }
  | { kind: "cancelAll" }
  | { kind: "pause"; jobId: number }
  | { kind: "resume"; jobId: number }
  | { kind: "page"; page: number };

/** The board's callback data, checked before anything is looked up. */
const PRESS = z.union([
  z
    .string()
    .regex(/^st:c:[1-9][0-9]{0,14}$/)
    .transform((s): Press => ({ kind: "cancel", jobId: Number(s.slice(5)) })),
  z.literal("st:ca").transform((): Press => ({ kind: "cancelAll" })),
  z
    .string()
    .regex(/^st:pz:[1-9][0-9]{0,14}$/)
    .transform((s): Press => ({ kind: "pause", jobId: Number(s.slice(6)) })),
  z
    .string()
    .regex(/^st:r:[1-9][0-9]{0,14}$/)
    .transform((s): Press => ({ kind: "resume", jobId: Number(s.slice(5)) })),
  z
    .string()
    .regex(/^st:p:[0-9]{1,4}$/)
    .transform((s): Press => ({ kind: "page", page: Number(s.slice(5)) })),
]);

interface Sample {
  stage: BoardStage;
  bytes: number;
  at: number;
  speed: number | null;
}

interface Board {
  chatId: number;
  /** When the board started: a job that finished since without being attached belongs on it. */
  since: string;
  messageId: number | undefined;
  /** The message to resume has been looked up (once per board). */
  resumed: boolean;
  page: number;
  /** When the last send or edit ended; the next is due `intervalMs` later. */
  lastCallAt: number;
  /** When the board last read the database. */
  lastLookAt: number;
  /** When the timer fires. */
  dueAt: number;
  /** Telegram asked us not to edit before this. */
  floodUntil: number;
  timer: NodeJS.Timeout | undefined;
  flushing: Promise<void> | undefined;
  /** Something asked for a refresh while a flush ran. */
  again: boolean;
  /** No job on the board is running (only queued, paused or finished ones). */
  idle: boolean;
  /** Calls that failed in a row (not FLOOD_WAIT): the next waits longer. */
  failures: number;
  /** Telegram refuses our posts in this chat: the board follows its jobs to the end without calling. */
  muted: boolean;
  /** The message this board replaces (it was deleted): its finished jobs move to the new one. */
  replaced: number | undefined;
  shown: string | undefined;
  samples: Map<number, Sample>;
}

export function createStatusBoard(options: StatusBoardOptions): StatusBoard {
  const { db, gateway, log } = options;
  const intervalMs = options.intervalMs ?? DEFAULT_STATUS_EDIT_INTERVAL_MS;
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 0) {
    throw new TypeError(`Expected \`intervalMs\` to be a non-negative whole number, got ${intervalMs}`);
  }
  const canAct = options.canActOnJob ?? ((userId: number, job: Job) => job.user_id === userId);
  const textsFor = options.textsFor ?? (() => STATUS_TEXTS_EN);
  const boards = new Map<number, Board>();
  /** When each chat's last board call ended, kept past a board's end: the next board of the chat waits too. */
  const lastCalls = new Map<number, number>();
  let stopped = false;

  function boardOf(chatId: number, messageId?: number): Board {
    let board = boards.get(chatId);
    if (!board) {
      board = {
        chatId,
        since: nowIso(),
        messageId,
        resumed: messageId !== undefined,
        page: 0,
        lastCallAt: lastCalls.get(chatId) ?? Number.NEGATIVE_INFINITY,
        lastLookAt: Number.NEGATIVE_INFINITY,
        dueAt: 0,
        floodUntil: 0,
        timer: undefined,
        flushing: undefined,
        again: false,
        idle: false,
        failures: 0,
        muted: false,
        replaced: undefined,
        shown: undefined,
        samples: new Map(),
      };
      boards.set(chatId, board);
    }
    return board;
  }

  /**
   * Sets the board's timer for its next look: a wake (new jobs, an event, a press) is due once the interval since
   * the last call to Telegram has passed; a tick (progress moves without events) an interval after the last look.
   * Neither comes before Telegram's FLOOD_WAIT has passed.
   */
  function schedule(board: Board, reason: "wake" | "tick"): void {
    if (stopped) return;
    if (board.flushing) {
      if (reason === "wake") board.again = true;
      return;
    }
    const now = Date.now();
    const earliest = reason === "wake" ? board.lastCallAt : board.lastLookAt;
    // Nothing running: nothing moves without an event (a claim, a press), so ticks can be rare.
    const tick = reason === "tick" && board.idle ? Math.max(intervalMs, IDLE_TICK_MS) : intervalMs;
    const retry =
      board.failures > 0
        ? backoffDelay(board.failures, { baseMs: intervalMs, maxMs: MAX_RETRY_MS, jitter: 0.2 })
        : 0;
    const due = Math.max(
      now,
      earliest + tick,
      board.lastCallAt + retry,
      board.lastLookAt + MIN_TICK_MS,
      board.floodUntil,
    );
    if (board.timer) {
      if (board.dueAt <= due) return;
      clearTimeout(board.timer);
    }
    board.dueAt = due;
    board.timer = setTimeout(() => {
      board.timer = undefined;
      runFlush(board);
    }, due - now);
  }

  function forgetOldCalls(): void {
    const old = Date.now() - intervalMs;
    for (const [chatId, at] of lastCalls) if (at < old && !boards.has(chatId)) lastCalls.delete(chatId);
  }

  function runFlush(board: Board): void {
    board.again = false;
    board.flushing = flush(board)
      .catch((error: unknown) => {
        log.warn({ err: error, chat: board.chatId }, "status board update failed");
        return "open" as const;
      })
      .then((outcome) => {
        board.flushing = undefined;
        board.lastLookAt = Date.now();
        if (outcome === "closed" && !board.again) {
          if (boards.get(board.chatId) === board) boards.delete(board.chatId);
          forgetOldCalls();
          return;
        }
        schedule(board, board.again ? "wake" : "tick");
      });
  }

  /** Shows the latest state; "closed" once the final state is on screen (or there is nothing to show). */
  async function flush(board: Board): Promise<"open" | "closed"> {
    if (!board.resumed) {
      board.messageId = await currentStatusMessage(db, board.chatId);
      board.resumed = true;
    }
    if (board.messageId !== undefined)
      await attachToStatusMessage(db, board.chatId, board.messageId, board.since);
    const rows = await boardRows(db, board.chatId, board.messageId);
    if (rows.length === 0) return "closed";
    const rendered = await render(board, rows);
    board.page = rendered.page;
    const key = JSON.stringify([rendered.text, rendered.buttons]);
    if (key === board.shown || board.muted) return rendered.finished ? "closed" : "open";
    try {
      if (board.messageId === undefined) {
        const sent = await gateway.sendText(board.chatId, rendered.text, {
          html: true,
          buttons: rendered.buttons,
          silent: true,
        });
        board.messageId = sent.messageId;
        if (board.replaced !== undefined) await moveBoard(db, board.chatId, board.replaced, sent.messageId);
        board.replaced = undefined;
        await attachToStatusMessage(db, board.chatId, sent.messageId, board.since);
      } else {
        await gateway.editText(board.chatId, board.messageId, rendered.text, {
          html: true,
          buttons: rendered.buttons,
        });
      }
      board.shown = key;
      board.failures = 0;
    } catch (error) {
      const code = error instanceof MedusaError ? error.code : undefined;
      if (code === "FLOOD_WAIT") {
        const seconds = (error as MedusaError).retryAfterSeconds ?? 1;
        board.floodUntil = Date.now() + seconds * 1000;
        log.info({ chat: board.chatId, seconds }, "status board waits as Telegram asks");
        return "open";
      }
      if (code === "MESSAGE_ID_INVALID" || code === "MESSAGE_EDIT_TIME_EXPIRED") {
        // The message was deleted (or is too old to edit): the next update posts a new one, with the same jobs.
        log.info({ chat: board.chatId, code }, "status message gone; posting a new one");
        board.replaced = board.messageId;
        board.messageId = undefined;
        board.shown = undefined;
        return "open";
      }
      if (code !== undefined && CANNOT_POST.test(code)) {
        // Blocked, kicked, or no right to write: asking again every interval would only earn a FLOOD_WAIT.
        log.info({ chat: board.chatId, code }, "status board cannot post in this chat; it stays silent");
        board.muted = true;
        return rendered.finished ? "closed" : "open";
      }
      board.failures++;
      throw error;
    } finally {
      board.lastCallAt = Date.now();
      lastCalls.set(board.chatId, board.lastCallAt);
    }
    return rendered.finished ? "closed" : "open";
  }

  /** The language chosen in /settings, else the Telegram app's. */
  async function translatorFor(chatId: number): Promise<Translate> {
    return translator(await userLanguage(db, chatId));
  }

  async function render(board: Board, rows: readonly BoardRow[]): Promise<RenderedBoard> {
    const now = Date.now();
    const overview = await queueOverview(db, { chatId: board.chatId });
    const entries = new Map(overview.jobs.map((e) => [e.id, e]));
    const destinations = new Map<number, { kind: "user" | "group" | "channel"; username: string | null }>();
    for (const { job } of rows) {
      if (job.status === "done" && !destinations.has(job.destination_chat_id)) {
        const peer = await getPeer(db, job.destination_chat_id);
        destinations.set(job.destination_chat_id, {
          kind: peer?.kind ?? "user",
          username: peer?.username ?? null,
        });
      }
    }
    // Why a job failed, in the chat's language (a private chat's id is its user's).
    const t = rows.some(({ job }) => job.status === "failed") ? await translatorFor(board.chatId) : undefined;
    const seen = new Set<number>();
    const jobs = rows.map(({ job, deliveredMessageId }): BoardJob => {
      seen.add(job.id);
      const entry = entries.get(job.id);
      const stage = stageOf(job, entry?.running ?? false, now);
      const sample = measure(board, job.id, stage, job.bytes_done, now);
      const speed = sample ?? fallbackSpeed(stage, overview.recent);
      const left = job.bytes_total === null ? null : Math.max(0, job.bytes_total - job.bytes_done);
      const transfer = stage === "downloading" || stage === "uploading";
      let etaMs: number | null = null;
      if (stage === "retrying") etaMs = Date.parse(job.run_at) - now;
      else if (transfer && left !== null && speed !== null && speed > 0) etaMs = (left / speed) * 1000;
      const destination = destinations.get(job.destination_chat_id);
      const link =
        stage === "done" && deliveredMessageId !== null && deliveredMessageId > 0 && destination
          ? (messageLink(
              {
                id: job.destination_chat_id,
                kind: destination.kind,
                username: destination.username ?? undefined,
              },
              deliveredMessageId,
            ) ?? null)
          : null;
      return {
        id: job.id,
        name: job.name ?? displayUrl(job.source_url),
        stage,
        position: entry?.position ?? null,
        bytesDone: job.bytes_done,
        bytesTotal: job.bytes_total,
        bytesPerSecond: transfer ? speed : null,
        etaMs,
        link,
        reason:
          stage === "failed"
            ? t
              ? visibleText(jobFailureText(t, job))
              : (job.error_message ?? job.error_code)
            : null,
      };
    });
    for (const id of board.samples.keys()) if (!seen.has(id)) board.samples.delete(id);
    board.idle = jobs.every((j) => IDLE_STAGES.includes(j.stage));
    return renderBoard(jobs, board.page, await textsFor(board.chatId));
  }

  /** The job's speed in this stage from the bytes it moved since the board last looked; null until measured. */
  function measure(
    board: Board,
    jobId: number,
    stage: BoardStage,
    bytes: number,
    now: number,
  ): number | null {
    const previous = board.samples.get(jobId);
    if (previous && previous.stage === stage && now - previous.at < MIN_SAMPLE_MS) return previous.speed;
    let speed: number | null = null;
    if (previous && previous.stage === stage && bytes >= previous.bytes) {
      const current = ((bytes - previous.bytes) * 1000) / (now - previous.at);
      speed =
        previous.speed === null
          ? current
          : SPEED_SMOOTHING * current + (1 - SPEED_SMOOTHING) * previous.speed;
    }
    board.samples.set(jobId, { stage, bytes, at: now, speed });
    return speed;
  }

  /** Refreshes the chat's board soon; with `start`, starts one if there is none (on `messageId`, when known). */
  function wake(chatId: number, start: boolean, messageId?: number | null): void {
    if (stopped || chatId === TERMINAL_CHAT_ID) return;
    const board = start ? boardOf(chatId, messageId ?? undefined) : boards.get(chatId);
    if (board) schedule(board, "wake");
  }

  async function cancelOne(jobId: number, fromUserId: number, chatId: number, texts: StatusTexts) {
    const job = await getJob(db, jobId);
    // A job of another chat is refused as if it did not exist: the button cannot have come from this board.
    if (!job || job.request_chat_id !== chatId) return { text: texts.answerStale, alert: false };
    if (!(await canAct(fromUserId, job))) return { text: texts.answerNotYours, alert: true };
    const outcome = await requestCancel(db, jobId);
    if (outcome.cancelled.length + outcome.flagged.length === 0) {
      return { text: texts.answerAlreadyFinished, alert: false };
    }
    log.info({ job: jobId, by: fromUserId }, "job cancelled from the status board");
    return { text: texts.answerCancelled, alert: false };
  }

  async function pauseOrResume(
    jobId: number,
    pause: boolean,
    fromUserId: number,
    chatId: number,
    texts: StatusTexts,
  ): Promise<CallbackAnswer> {
    const job = await getJob(db, jobId);
    if (!job || job.request_chat_id !== chatId) return { text: texts.answerStale, alert: false };
    if (!(await canAct(fromUserId, job))) return { text: texts.answerNotYours, alert: true };
    const changed = await setPaused(db, jobId, pause);
    if (!changed) {
      const now = await getJob(db, jobId);
      if (!now || FINISHED_STATUSES.includes(now.status))
        return { text: texts.answerAlreadyFinished, alert: false };
      return { text: texts.answerStale, alert: false }; // already so, or being cancelled
    }
    log.info({ job: jobId, by: fromUserId }, pause ? "job paused from the status board" : "job resumed");
    if (!pause) options.onResumed?.();
    return { text: pause ? texts.answerPaused : texts.answerResumed, alert: false };
  }

  async function cancelAll(fromUserId: number, chatId: number, texts: StatusTexts) {
    const jobs = await unfinishedJobsInChat(db, chatId);
    if (jobs.length === 0) return { text: texts.answerNothingToCancel, alert: false };
    const mine: Job[] = [];
    for (const job of jobs) if (await canAct(fromUserId, job)) mine.push(job);
    if (mine.length === 0) return { text: texts.answerNotYours, alert: true };
    let count = 0;
    for (const job of mine) {
      const outcome = await requestCancel(db, job.id);
      count += outcome.cancelled.length + outcome.flagged.length;
    }
    log.info({ chat: chatId, by: fromUserId, count }, "jobs cancelled from the status board");
    return { text: count > 0 ? texts.answerCancelledAll(count) : texts.answerNothingToCancel, alert: false };
  }

  return {
    track(chatId) {
      wake(chatId, true);
    },

    async resumeAll() {
      for (const chatId of await chatsWithUnfinishedJobs(db, TERMINAL_CHAT_ID)) {
        // Looked up now, not at the first edit: a job that finishes meanwhile must still show on its board.
        wake(chatId, true, await currentStatusMessage(db, chatId));
      }
    },

    onRunnerEvent(event) {
      // An event that finishes a job only refreshes a board that is there: one that closed already showed it.
      const finishing = event.type === "done" || event.type === "failed" || event.type === "cancelled";
      wake(event.job.request_chat_id, !finishing);
    },

    onJobChanges(changes) {
      // As onRunnerEvent: a finished job only refreshes a board that is there.
      for (const change of changes) wake(change.chatId, !change.finished);
    },

    async handleCallback(data, fromUserId, chatId, messageId) {
      const texts = await textsFor(chatId);
      const parsed = PRESS.safeParse(data);
      if (!parsed.success || stopped) return { text: texts.answerStale, alert: false };
      const press = parsed.data;
      if (press.kind === "page") {
        const live = boards.get(chatId);
        if (live && messageId !== undefined && live.messageId !== undefined && live.messageId !== messageId) {
          return { text: texts.answerStale, alert: false }; // an older board of this chat
        }
        // A finished board has no live state; its rows still know its jobs, so it can be paged again.
        const board = live ?? (messageId === undefined ? undefined : boardOf(chatId, messageId));
        if (!board) return { text: texts.answerStale, alert: false };
        board.page = press.page;
        schedule(board, "wake");
        return { text: texts.answerPage(press.page + 1), alert: false };
      }
      const answer =
        press.kind === "cancel"
          ? await cancelOne(press.jobId, fromUserId, chatId, texts)
          : press.kind === "cancelAll"
            ? await cancelAll(fromUserId, chatId, texts)
            : await pauseOrResume(press.jobId, press.kind === "pause", fromUserId, chatId, texts);
      // The pressed message is the board: with no live one (a restart), the cancelled jobs show there.
      wake(chatId, true, messageId);
      return answer;
    },

    activeChats: () => [...boards.keys()],

    async stop() {
      if (stopped) return;
      stopped = true;
      for (const board of boards.values()) {
        clearTimeout(board.timer);
        board.timer = undefined;
      }
      await Promise.all(
        [...boards.values()].map(async (board) => {
          await board.flushing;
          await withDeadline(
            flush(board),
            STOP_EDIT_TIMEOUT_MS,
            undefined,
            () => new Error(`the final status edit took over ${STOP_EDIT_TIMEOUT_MS} ms`),
          ).catch((error: unknown) =>
            log.warn({ err: error, chat: board.chatId }, "final status edit failed"),
          );
        }),
      );
      boards.clear();
    },
  };
}

/** What the board says a job is doing, from its row and whether a worker holds it now. */
function stageOf(job: Job, running: boolean, now: number): BoardStage {
  switch (job.status) {
    case "done":
    case "failed":
    case "cancelled":
      return job.status;
    default:
      if (job.cancel_requested === 1) return "cancelling";
      if (job.paused === 1) return running ? "pausing" : "paused";
      if (running) return job.status === "queued" ? "downloading" : job.status;
      if (job.attempts > 0 && Date.parse(job.run_at) > now) return "retrying";
      return "queued";
  }
}

function fallbackSpeed(stage: BoardStage, recent: RecentSpeed): number | null {
  if (stage === "downloading") return recent.downloadBytesPerSecond;
  if (stage === "uploading") return recent.uploadBytesPerSecond;
  return null;
}
