/**
 * What every handler gets for one update: the update, the gateway and database, the user and their role (set by
 * the loader), a `t` bound to the user's language, and reply helpers that speak Telegram HTML within its limits.
 */
import type { Db } from "../db/database.js";
import type { Role, User } from "../db/schema.js";
import { MESSAGE_LIMIT, truncateHtml } from "../jobs/telegram-html.js";
import type { Logger } from "../logger.js";
import type { MediaTools } from "../media/tools.js";
import type { Incoming, TelegramGateway, TextOptions } from "../telegram/gateway.js";
import type { Command } from "./command.js";
import { type Language, pickLanguage, type Translate, translator } from "./i18n/translate.js";
import type { PromptClock, PromptSettings } from "./link-prompts.js";

/** The roles that may use the bot; "guest" is someone with no users row (not let in yet). */
export type ActiveRole = Exclude<Role, "banned">;
export type ContextRole = Role | "guest";

export interface BotLimits {
  /** Unfinished jobs a user may have (admins and the owner: none). */
  queuedJobsPerUser: number;
  /** Requests (a link, a batch) a user may make in a minute (admins and the owner: no limit). */
  ratePerMinute: number;
  /** Links taken from one message; more go in a .txt list. */
  linksPerMessage: number;
  /** Jobs that download at once: what a queue position's wait is divided by. */
  workers: number;
  // --- admin helper: per-user defaults that /limits overrides (src/bot/user-limits.ts) ---
  /** Jobs a user may ask for in an hour. @default 200 */
  jobsPerHour?: number;
  /** Bytes delivered to a user in a UTC day before new links wait for tomorrow. @default 100 GiB */
  bytesPerDay?: number;
  /** Lines taken from one .txt list. @default MAX_BATCH_LINES (1000) */
  batchLines?: number;
}

/** What /health and /backup need from the process around the bot (admin helper). */
export interface HostDeps {
  dataDir: string;
  minFreeDisk: number;
  ffmpegPath: string;
  ytdlpPath: string;
  /** LOG_CHANNELS from the configuration (the ones /removelog cannot remove). */
  logChannels: readonly string[];
  /**
   * Writes a consistent snapshot of the database to `destination` (SQLite's online backup API); null when the store
   * is PostgreSQL, which the operator backs up with pg_dump.
   */
  backup: ((destination: string) => Promise<void>) | null;
  /** Epoch ms the process started. */
  startedAt: number;
}

/**
 * The live status message per chat (src/bot/status.ts, built separately) plugs in here: its Cancel buttons' callbacks
 * ("st:c:<jobId>", "st:ca") are handed to `handleCallback` after the loader has let the presser in, and `track` is
 * called with the chat whenever jobs were queued from it.
 */
export interface StatusHooks {
  handleCallback(ctx: BotContext): Promise<void>;
  track(chatId: number): void;
}

export interface BotDeps {
  db: Db;
  gateway: TelegramGateway;
  log: Logger;
  ownerId: number;
  limits: BotLimits;
  /** Tells the job runner there is new work. */
  wake(): void;
  status?: StatusHooks;
  /** For /health and /backup; without it they say they are not available. */
  host?: HostDeps;
  /** @default Date.now */
  clock?: () => number;
  /** Where per-user files live (custom thumbnails under thumbnails/); without it /settings offers no thumbnail. */
  dataDir?: string;
  /** ffmpeg for custom thumbnails. */
  media?: MediaTools;
  /** The largest file the uploading account sends; the split sizes offered are below it. */
  fileLimit?: number;
  /** Quality buttons and playlist confirms for site links (src/bot/link-prompts.ts); without it links queue at once. */
  prompts?: PromptSettings;
  /** Set by createBot when `prompts` is given: the deadlines of those questions. */
  promptClock?: PromptClock;
}

export interface BotContext {
  readonly incoming: Incoming;
  readonly deps: BotDeps;
  readonly db: Db;
  readonly gateway: TelegramGateway;
  readonly log: Logger;
  readonly commands: readonly Command[];
  /** Set by the loader. */
  user: User | undefined;
  role: ContextRole;
  /** From the user's Telegram app; the loader switches it to the one chosen in /settings. */
  language: Language;
  t: Translate;
  /** Whether the callback query was answered (Telegram shows a spinner until it is). */
  answered: boolean;
  now(): number;
  /** Sends HTML to the chat the update came from (replying to the message in groups), cut to Telegram's limit. */
  reply(html: string, options?: Omit<TextOptions, "html">): Promise<{ messageId: number }>;
  /** Answers the callback query once (a no-op for messages and after the first answer). Plain text. */
  answer(text?: string, alert?: boolean): Promise<void>;
}

export function createContext(incoming: Incoming, deps: BotDeps, commands: readonly Command[]): BotContext {
  const language = pickLanguage(incoming.from.languageCode);
  const clock = deps.clock ?? Date.now;
  const ctx: BotContext = {
    incoming,
    deps,
    db: deps.db,
    gateway: deps.gateway,
    log: deps.log.child({ update: incoming.key }),
    commands,
    user: undefined,
    role: "guest",
    language,
    t: translator(language),
    answered: false,
    now: clock,
    reply(html, options = {}) {
      const replyTo =
        incoming.kind === "message" && incoming.chatKind !== "user" ? incoming.messageId : undefined;
      return deps.gateway.sendText(incoming.chatId, truncateHtml(html, MESSAGE_LIMIT), {
        ...(replyTo !== undefined ? { replyTo } : {}),
        ...options,
        html: true,
      });
    },
    async answer(text, alert = false) {
      if (incoming.kind !== "callback" || ctx.answered) return;
      ctx.answered = true;
      await deps.gateway.answerCallback(incoming.queryId, {
        ...(text ? { text: text.slice(0, CALLBACK_ANSWER_CHARS) } : {}),
        alert,
      });
    },
  };
  return ctx;
}

/** Telegram shows at most 200 characters of a callback answer. */
const CALLBACK_ANSWER_CHARS = 200;
