/**
 * The steps of one job, each resuming from the job's own columns so that running it again is harmless:
 * fetch (fetch-step.ts) → deliver (deliver.ts: prepare once, upload once per part, send by reference to the
 * destination and every log channel, each send with a random_id stored before the call) → clean up.
 */
import type { Config } from "../config.js";
import type { Db } from "../db/database.js";
import { httpOptionsFromConfig } from "../fetch/http/download.js";
import type { SourceOptions } from "../fetch/source.js";
import type { MediaTools } from "../media/tools.js";
import type { TelegramGateway } from "../telegram/gateway.js";
import type { PremiumAccount } from "./accounts.js";
import { createDeliverStep } from "./deliver.js";
import { createFetchStep } from "./fetch-step.js";
import type { JobSteps } from "./runner.js";

/** A bot may send 2000 MiB per file (4000 parts of 512 KiB). */
export const BOT_FILE_LIMIT = 2000 * 1024 * 1024;

export interface StepDeps {
  db: Db;
  /** The uploading account (the bot). */
  gateway: TelegramGateway;
  /** Where each job gets its folder, data/work. */
  workRoot: string;
  source: Omit<SourceOptions, "dir" | "name" | "quality" | "signal" | "onProgress">;
  media: MediaTools;
  /** Chats that get a copy of every delivery. */
  logChats: () => Promise<number[]>;
  /** Largest file the uploading account may send; bigger ones are split. @default BOT_FILE_LIMIT */
  fileLimit?: number;
  /** The Premium user session, for files over `fileLimit` in chats it may post to (log channels too, where it may). */
  premium?: PremiumAccount;
  /** A log channel refused a post (reported to the owner once by the caller). */
  onLogRefused?: (chatId: number, code: string) => void;
  /** Crash-recovery tests: called between the effects that must survive a crash. */
  crashPoint?: (name: string) => void;
}

/** What the configuration decides for the steps: one place, so `medusa start` and `medusa upload` run alike. */
export function stepSettings(config: Config): Pick<StepDeps, "workRoot" | "source" | "media"> {
  return {
    workRoot: config.paths.work,
    source: {
      ...httpOptionsFromConfig(config),
      ytdlpPath: config.fetch.ytdlpPath,
      cookiesFile: config.fetch.ytdlpCookiesFile,
      timeoutMs: config.media.toolTimeoutMs,
      ffmpegPath: config.media.ffmpegPath,
    },
    media: config.media,
  };
}

export function createJobSteps(deps: StepDeps): JobSteps {
  const fileLimit = deps.fileLimit ?? BOT_FILE_LIMIT;
  return { fetch: createFetchStep(deps, fileLimit), deliver: createDeliverStep(deps, fileLimit) };
}
