/**
 * What every role of `medusa start` shares, built once by src/main.ts and handed to the role parts
 * (src/start/gateway.ts, src/start/worker.ts): the database, the bot's own Telegram connection (each process logs in
 * with its own session), metrics, the log channels and the owner's notices.
 */
import type { OwnerWatch } from "../bot/owner-watch.js";
import type { Config } from "../config.js";
import type { OpenedStore } from "../db/database.js";
import type { CrashPoint } from "../lib/crash-point.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import type { TelegramGateway } from "../telegram/gateway.js";

/**
 * all: one process does everything (the default). gateway: takes updates, runs the bot and the status boards, sends
 * batch summaries; runs no job. worker: claims and runs jobs; takes no updates.
 */
export const ROLES = ["all", "gateway", "worker"] as const;
export type Role = (typeof ROLES)[number];

export interface Core {
  config: Config;
  log: Logger;
  database: OpenedStore;
  gateway: TelegramGateway;
  metrics: Metrics;
  crashPoint: CrashPoint;
  ownerId: number;
  /** The log channels' chat ids, checked once. */
  logChats: () => Promise<number[]>;
  /** Failures piling up, the disk filling, the user session gone: the owner hears once per episode. */
  watch: OwnerWatch;
  /** Set by the worker once it knows whether a user session is configured (the watch reads it). */
  session: { configured: boolean };
  /** A log channel refused a copy: logged, and the owner hears of it once. */
  onLogRefused: (chatId: number, code: string) => void;
  /** Undone in reverse order by stop(). */
  cleanups: Array<() => Promise<void>>;
}

/** A role's part: built first (nothing runs), then started in the composition root's order. */
export interface RolePart {
  start(): Promise<void>;
}
