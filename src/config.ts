/**
 * The one reader of the environment. `parseConfig(env)` is pure: it validates every variable with zod and reports
 * every problem at once, each with a hint, never echoing a value (some are secrets).
 */
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { ConfigError } from "./errors.js";
import { parseSize } from "./lib/size.js";

const size = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const bytes = parseSize(value);
      if (bytes === undefined) {
        ctx.addIssue({
          code: "custom",
          message: 'expected a size such as "512MiB", "2GB" or a number of bytes',
        });
        return z.NEVER;
      }
      return bytes;
    });

const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((value, ctx) => {
      const n = Number(value);
      if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: "custom", message: `expected a whole number from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

const bool = (fallback: boolean) =>
  z
    .string()
    .default(fallback ? "true" : "false")
    .transform((value, ctx) => {
      const v = value.trim().toLowerCase();
      if (["1", "true", "yes", "on"].includes(v)) return true;
      if (["0", "false", "no", "off", ""].includes(v)) return false;
      ctx.addIssue({ code: "custom", message: "expected true or false" });
      return z.NEVER;
    });

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v?.trim() ? v.trim() : undefined));

/** Variables every command reads. Empty strings count as unset, as in most .env files. */
const baseSchema = z.object({
  DATA_DIR: z.string().default("data"),
  DATABASE_PATH: optionalText,
  XDG_CACHE_HOME: optionalText,
  DATABASE_URL: optionalText.refine((v) => v === undefined || /^postgres(ql)?:\/\/./.test(v), {
    message: "expected a postgres:// URL (or nothing, for the SQLite file)",
  }),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  LOG_PRETTY: z.enum(["auto", "true", "false"]).default("auto"),
  HTTP_HOST: z.string().default("127.0.0.1"),
  HTTP_PORT: int(9090, 0, 65535),
  // Guards the dashboard and /metrics; required whenever HTTP_HOST is reachable from other machines.
  DASHBOARD_TOKEN: optionalText,
  MAX_CONCURRENT_JOBS: int(2, 1, 32),
  MAX_QUEUED_JOBS_PER_USER: int(50, 1, 10_000),
  RATE_LIMIT_PER_MINUTE: int(20, 1, 10_000),
  // Per-user defaults; the owner's /limits overrides them (bot_settings).
  MAX_JOBS_PER_HOUR: int(200, 1, 100_000),
  MAX_BYTES_PER_DAY: size("100GiB"),
  MAX_BATCH_LINES: int(1000, 1, 1000),
  MAX_DOWNLOAD_SIZE: size("4000MiB"),
  MIN_FREE_DISK: size("1GiB"),
  // The owner is warned once when the data folder's free space falls under MIN_FREE_DISK plus this.
  NOTICE_DISK_MARGIN: size("2GiB"),
  // The owner is warned once when this many jobs failed within the window (minutes).
  NOTICE_FAILED_JOBS: int(5, 1, 100_000),
  NOTICE_FAILED_WINDOW_MINUTES: int(30, 1, 7 * 24 * 60),
  DOWNLOAD_CONNECTIONS: int(4, 1, 16),
  HTTP_CONNECT_TIMEOUT_MS: int(15_000, 100, 600_000),
  HTTP_IDLE_TIMEOUT_MS: int(60_000, 100, 3_600_000),
  // 8 x 2 won the upload benchmark (src/telegram/uploader.ts says why).
  UPLOAD_CONNECTIONS: int(8, 1, 16),
  UPLOAD_PARTS_IN_FLIGHT: int(2, 1, 16),
  TOOL_TIMEOUT_MS: int(2 * 60 * 60 * 1000, 1000, 24 * 60 * 60 * 1000),
  BACKUP_EVERY_HOURS: int(24, 0, 24 * 365),
  BACKUP_KEEP: int(7, 1, 10_000),
  HISTORY_DAYS: int(0, 0, 100 * 365),
  // Telegram tolerates about one edit of a message every few seconds; below 1 s it answers FLOOD_WAIT.
  STATUS_EDIT_INTERVAL_MS: int(5000, 1000, 600_000),
  // The boards learn progress from the jobs table (workers may be other processes); one cheap read per poll.
  STATUS_POLL_MS: int(1000, 100, 60_000),
  // A worker that stops renewing its lease (killed, host lost) loses its jobs to another after this long.
  JOB_LEASE_MS: int(60_000, 2000, 3_600_000),
  // Leases are renewed this often; the same beat reads Cancel and Pause, so it bounds how soon a press takes.
  JOB_HEARTBEAT_MS: int(2000, 100, 600_000),
  ALLOW_PRIVATE_NETWORKS: bool(false),
  YTDLP_PATH: z.string().default("yt-dlp"),
  YTDLP_COOKIES_FILE: optionalText,
  QUALITY_PROMPT_SECONDS: int(60, 1, 24 * 60 * 60),
  MAX_PLAYLIST_ITEMS: int(50, 1, 1000),
  FFMPEG_PATH: z.string().default("ffmpeg"),
  FFPROBE_PATH: z.string().default("ffprobe"),
  LOG_CHANNELS: z
    .string()
    .default("")
    .transform((value, ctx) => {
      const ids = value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      if (ids.some((id) => !/^-?\d{1,20}$/.test(id))) {
        ctx.addIssue({
          code: "custom",
          message: "expected comma-separated numeric chat ids such as -1001234567890",
        });
        return z.NEVER;
      }
      return ids;
    }),
  TELEGRAM_SERVER: optionalText.pipe(
    z
      .string()
      .regex(/^[\w.-]+:\d{1,5}$/, "expected host:port, such as 127.0.0.1:4430")
      .optional(),
  ),
  TELEGRAM_SERVER_KEY_FILE: optionalText,
  TELEGRAM_DC_ID: int(2, 1, 5),
  MEDUSA_CRASH_AT: optionalText.pipe(
    z
      .string()
      .regex(/^[a-z]+(\.[a-z-]+)+(:\d{1,6})?$/, 'expected a crash point such as "deliver.sent:2"')
      .optional(),
  ),
});

/** Variables needed to talk to Telegram (`start`, `login`, `upload`). */
const telegramSchema = z.object({
  TELEGRAM_API_ID: z
    .string({ error: "missing" })
    .regex(/^\d{1,10}$/, "expected the numeric api_id from my.telegram.org")
    .transform(Number),
  TELEGRAM_API_HASH: z
    .string({ error: "missing" })
    .regex(/^[0-9a-f]{32}$/i, "expected the 32-character hex api_hash from my.telegram.org"),
  BOT_TOKEN: z
    .string({ error: "missing" })
    .regex(/^\d{3,20}:[\w-]{30,64}$/, 'expected a token from @BotFather such as "123456:ABC…"'),
  OWNER_ID: z
    .string({ error: "missing" })
    .regex(/^\d{1,20}$/, "expected your numeric Telegram user id (ask @userinfobot)"),
  TELEGRAM_SESSION: optionalText,
  TELEGRAM_SESSION_FILE: optionalText,
});

const HINTS: Record<string, string> = {
  TELEGRAM_API_ID: "create an application at https://my.telegram.org/apps",
  TELEGRAM_API_HASH: "shown next to api_id at https://my.telegram.org/apps",
  BOT_TOKEN: "create a bot with @BotFather and copy its token",
  OWNER_ID: "your own numeric user id; the owner can add admins and users",
};

/** Where the store lives, as openStore takes it: PostgreSQL when DATABASE_URL is set, else the SQLite file. */
export function storeTarget(config: Config): { url: string | null; file: string } {
  return { url: config.databaseUrl, file: config.paths.database };
}

/** The store named for people: the SQLite path, or the PostgreSQL URL without its password. */
export function storeLabel(config: Config): string {
  if (!config.databaseUrl) return config.paths.database;
  const url = new URL(config.databaseUrl);
  url.password = "";
  return url.toString();
}

export interface Config {
  /** Present when the command needs Telegram. */
  telegram: TelegramConfig | undefined;
  /** cache: where the single binary unpacks its SQLite addon (see cacheDir). */
  paths: { dataDir: string; database: string; work: string; backups: string; cache: string };
  /** PostgreSQL instead of the SQLite file at paths.database; null: SQLite. Holds a password: never log it. */
  databaseUrl: string | null;
  log: { level: string; pretty: boolean | "auto" };
  http: {
    host: string;
    port: number;
    /** The dashboard's (and /metrics') token; undefined: open, which config allows on loopback only. */
    dashboardToken: string | undefined;
  };
  limits: {
    concurrentJobs: number;
    queuedJobsPerUser: number;
    ratePerMinute: number;
    jobsPerHour: number;
    bytesPerDay: number;
    batchLines: number;
    maxDownloadSize: number;
    minFreeDisk: number;
  };
  fetch: {
    allowPrivateNetworks: boolean;
    connections: number;
    connectTimeoutMs: number;
    idleTimeoutMs: number;
    ytdlpPath: string;
    ytdlpCookiesFile: string | undefined;
    /** How long a site link's quality buttons wait before the user's default (or best) starts. */
    qualityPromptMs: number;
    /** Items taken from one playlist link. */
    maxPlaylistItems: number;
  };
  media: { ffmpegPath: string; ffprobePath: string; toolTimeoutMs: number };
  upload: { connections: number; partsInFlight: number };
  maintenance: {
    /** Hours between scheduled backups to paths.backups; 0: none. */
    backupEveryHours: number;
    /** Scheduled backups kept; older ones are removed. */
    backupKeep: number;
    /** Days of job history kept (older rows become daily and per-user totals); 0: all of it. */
    historyDays: number;
  };
  /** The live status message of each chat: the least time between two of its edits; how often jobs are looked at. */
  status: { editIntervalMs: number; pollMs: number };
  /** The worker's lease on a job, and how often it is renewed (and Cancel/Pause read). */
  jobs: { leaseMs: number; heartbeatMs: number };
  /** When the owner hears of trouble (each once per episode). */
  notices: {
    /** Warn when free space in the data folder is under limits.minFreeDisk plus this. */
    diskMargin: number;
    /** Warn when this many jobs failed within failedWindowMs. */
    failedJobs: number;
    failedWindowMs: number;
  };
  logChannels: string[];
  /** Crash-recovery tests only: kill the process with SIGKILL at this point ("name" or "name:N" for the Nth time). */
  crashAt: string | undefined;
}

export interface TelegramConfig {
  apiId: number;
  apiHash: string;
  botToken: string;
  ownerId: string;
  /** A user session string (Premium: 4000 MiB files); from TELEGRAM_SESSION or the file `medusa login` wrote. */
  userSession: string | undefined;
  sessionFile: string;
  /** A non-Telegram data centre (the local test server); undefined means Telegram itself. */
  server: { host: string; port: number; dcId: number; publicKeyFile: string | undefined } | undefined;
}

export interface ParseOptions {
  /** Require the Telegram credentials (true for `start`). */
  telegram?: boolean;
}

export function parseConfig(env: Record<string, string | undefined>, options: ParseOptions = {}): Config {
  // Empty values count as unset so that defaults and "missing" apply.
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value !== "") clean[key] = value;

  const problems: string[] = [];
  const base = baseSchema.safeParse(clean);
  if (!base.success) problems.push(...describe(base.error));
  const tg = options.telegram ? telegramSchema.safeParse(clean) : undefined;
  if (tg && !tg.success) problems.push(...describe(tg.error));
  if (base.success && base.data.TELEGRAM_SERVER_KEY_FILE && !base.data.TELEGRAM_SERVER) {
    problems.push("TELEGRAM_SERVER_KEY_FILE: set only together with TELEGRAM_SERVER");
  }
  if (base.success) problems.push(...httpAccessProblems(base.data));
  if (base.success && base.data.JOB_HEARTBEAT_MS * 2 > base.data.JOB_LEASE_MS) {
    problems.push("JOB_HEARTBEAT_MS: at most half of JOB_LEASE_MS, so one late beat does not lose the lease");
  }
  if (problems.length > 0 || !base.success) throw new ConfigError(problems.sort());

  const b = base.data;
  const dataDir = path.resolve(b.DATA_DIR);
  let telegram: TelegramConfig | undefined;
  if (tg?.success) {
    const t = tg.data;
    const [host, port] = splitHostPort(b.TELEGRAM_SERVER);
    telegram = {
      apiId: t.TELEGRAM_API_ID,
      apiHash: t.TELEGRAM_API_HASH,
      botToken: t.BOT_TOKEN,
      ownerId: t.OWNER_ID,
      userSession: t.TELEGRAM_SESSION,
      sessionFile: path.resolve(t.TELEGRAM_SESSION_FILE ?? path.join(dataDir, "user.session")),
      server: host
        ? { host, port, dcId: b.TELEGRAM_DC_ID, publicKeyFile: b.TELEGRAM_SERVER_KEY_FILE }
        : undefined,
    };
  }
  return {
    telegram,
    paths: {
      dataDir,
      database: path.resolve(b.DATABASE_PATH ?? path.join(dataDir, "medusa.db")),
      work: path.join(dataDir, "work"),
      backups: path.join(dataDir, "backups"),
      cache: cacheDir(env),
    },
    databaseUrl: b.DATABASE_URL ?? null,
    log: { level: b.LOG_LEVEL, pretty: b.LOG_PRETTY === "auto" ? "auto" : b.LOG_PRETTY === "true" },
    http: { host: b.HTTP_HOST, port: b.HTTP_PORT, dashboardToken: b.DASHBOARD_TOKEN },
    limits: {
      concurrentJobs: b.MAX_CONCURRENT_JOBS,
      queuedJobsPerUser: b.MAX_QUEUED_JOBS_PER_USER,
      ratePerMinute: b.RATE_LIMIT_PER_MINUTE,
      jobsPerHour: b.MAX_JOBS_PER_HOUR,
      bytesPerDay: b.MAX_BYTES_PER_DAY,
      batchLines: b.MAX_BATCH_LINES,
      maxDownloadSize: b.MAX_DOWNLOAD_SIZE,
      minFreeDisk: b.MIN_FREE_DISK,
    },
    fetch: {
      allowPrivateNetworks: b.ALLOW_PRIVATE_NETWORKS,
      connections: b.DOWNLOAD_CONNECTIONS,
      connectTimeoutMs: b.HTTP_CONNECT_TIMEOUT_MS,
      idleTimeoutMs: b.HTTP_IDLE_TIMEOUT_MS,
      ytdlpPath: b.YTDLP_PATH,
      ytdlpCookiesFile: b.YTDLP_COOKIES_FILE,
      qualityPromptMs: b.QUALITY_PROMPT_SECONDS * 1000,
      maxPlaylistItems: b.MAX_PLAYLIST_ITEMS,
    },
    media: { ffmpegPath: b.FFMPEG_PATH, ffprobePath: b.FFPROBE_PATH, toolTimeoutMs: b.TOOL_TIMEOUT_MS },
    upload: { connections: b.UPLOAD_CONNECTIONS, partsInFlight: b.UPLOAD_PARTS_IN_FLIGHT },
    maintenance: {
      backupEveryHours: b.BACKUP_EVERY_HOURS,
      backupKeep: b.BACKUP_KEEP,
      historyDays: b.HISTORY_DAYS,
    },
    status: { editIntervalMs: b.STATUS_EDIT_INTERVAL_MS, pollMs: b.STATUS_POLL_MS },
    jobs: { leaseMs: b.JOB_LEASE_MS, heartbeatMs: b.JOB_HEARTBEAT_MS },
    notices: {
      diskMargin: b.NOTICE_DISK_MARGIN,
      failedJobs: b.NOTICE_FAILED_JOBS,
      failedWindowMs: b.NOTICE_FAILED_WINDOW_MINUTES * 60_000,
    },
    logChannels: b.LOG_CHANNELS,
    crashAt: b.MEDUSA_CRASH_AT,
  };
}

/** The least token length: a guessable token on an open port is no guard. */
export const MIN_DASHBOARD_TOKEN_LENGTH = 16;

/** Reachable from this machine only: 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1");
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function httpAccessProblems(b: {
  HTTP_HOST: string;
  HTTP_PORT: number;
  DASHBOARD_TOKEN?: string | undefined;
}) {
  const token = b.DASHBOARD_TOKEN;
  if (token !== undefined && token.length < MIN_DASHBOARD_TOKEN_LENGTH) {
    return [
      `DASHBOARD_TOKEN: expected at least ${MIN_DASHBOARD_TOKEN_LENGTH} characters (make one with: openssl rand -hex 24)`,
    ];
  }
  if (b.HTTP_PORT > 0 && token === undefined && !isLoopbackHost(b.HTTP_HOST)) {
    return [
      "DASHBOARD_TOKEN: missing, and required because HTTP_HOST is not a loopback address (the dashboard would be open to the network; make one with: openssl rand -hex 24, or set HTTP_HOST=127.0.0.1)",
    ];
  }
  return [];
}

function splitHostPort(value: string | undefined): [string | undefined, number] {
  if (!value) return [undefined, 0];
  const at = value.lastIndexOf(":");
  return [value.slice(0, at), Number(value.slice(at + 1))];
}

function describe(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const key = String(issue.path[0] ?? "?");
    const missing = issue.code === "invalid_type" && issue.input === undefined;
    const what = missing ? "missing" : issue.message;
    const hint = HINTS[key];
    return hint ? `${key}: ${what} (${hint})` : `${key}: ${what}`;
  });
}

/** Every variable Medusa reads; .env.example documents each one (a test keeps them in step). */
/**
 * Where the single binary unpacks its SQLite addon: $XDG_CACHE_HOME/medusa, else ~/.cache/medusa. Pure like
 * parseConfig, and usable before it: the addon is unpacked before any command reads its settings.
 */
export function cacheDir(env: Record<string, string | undefined>): string {
  const xdg = env.XDG_CACHE_HOME?.trim();
  // The XDG spec says to ignore a relative path.
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME?.trim() || os.homedir(), ".cache");
  return path.join(base, "medusa");
}

export const CONFIG_KEYS: readonly string[] = [
  ...Object.keys(baseSchema.shape),
  ...Object.keys(telegramSchema.shape),
].sort();
