/** `medusa doctor`: checks what Medusa needs on this machine and prints one table. */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { execa } from "execa";
import { type Config, storeLabel, storeTarget, type TelegramConfig } from "../config.js";
import { listChats } from "../db/chats.js";
import {
  openDatabase,
  openPostgres,
  openStoreAndMigrate,
  PG_BACKUP_HINT,
  postgresStatus,
} from "../db/database.js";
import { userFacing } from "../errors.js";
import { type Logger, scrub } from "../logger.js";
import { openBotGateway } from "../telegram/bot-client.js";
import type { PostCheck, TelegramGateway } from "../telegram/gateway.js";
import { probeUserSession, readUserSession } from "../telegram/user-session.js";

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** Works, but wants attention: printed as "warn", never a failure. */
  warn?: boolean;
}

/** Telegram's DC 2, where a new client first connects: answering there means Telegram is reachable. */
const TELEGRAM_DC = { host: "149.154.167.51", port: 443 };
const CONNECT_TIMEOUT_MS = 10_000;
/** Sites change often; a yt-dlp older than this misses their changes. */
const YTDLP_MAX_AGE_DAYS = 90;
const DAY_MS = 24 * 60 * 60 * 1000;

const MIN_NODE = [20, 12] as const;
/** A tool that does not answer --version in this time is as good as missing. */
const VERSION_TIMEOUT_MS = 15_000;

export async function runChecks(config: Config, log?: Logger): Promise<Check[]> {
  const checks: Check[] = [];
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  checks.push({
    name: "node",
    ok: major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]),
    detail: `v${process.versions.node} (needs >= ${MIN_NODE.join(".")})`,
  });
  checks.push(await toolVersion("ffmpeg", config.media.ffmpegPath, ["-version"]));
  checks.push(await toolVersion("ffprobe", config.media.ffprobePath, ["-version"]));
  checks.push(ytdlpAge(await toolVersion("yt-dlp", config.fetch.ytdlpPath, ["--version"])));
  checks.push(config.databaseUrl ? await postgresReachable(config) : databaseWritable(config.paths.database));
  checks.push(diskSpace(config.paths.dataDir, config.limits.minFreeDisk));
  if (config.telegram && log) {
    checks.push(...(await telegramChecks(config, config.telegram, log)));
    checks.push(await userSession(config.telegram, log));
  }
  return checks;
}

/** Debian ships yt-dlp years old; a version is its release date, so its age says when to update. */
export function ytdlpAge(check: Check, now = new Date()): Check {
  const version = /\b(\d{4})\.(\d{2})\.(\d{2})\b/.exec(check.detail);
  if (!check.ok || !version) return check;
  const released = Date.UTC(Number(version[1]), Number(version[2]) - 1, Number(version[3]));
  const days = Math.floor((now.getTime() - released) / DAY_MS);
  if (days <= YTDLP_MAX_AGE_DAYS) return check;
  return {
    ...check,
    warn: true,
    detail: `${check.detail}: ${days} days old, and sites change often. Update it (\`yt-dlp -U\`, or \`pipx upgrade yt-dlp\`) or point YTDLP_PATH at a current build`,
  };
}

/** Reachability, the bot token, and whether the bot may post in each log channel. */
async function telegramChecks(config: Config, telegram: TelegramConfig, log: Logger): Promise<Check[]> {
  const target = telegram.server ?? TELEGRAM_DC;
  const where = `${target.host}:${target.port}`;
  const started = Date.now();
  const reach = await tcpConnect(target.host, target.port, CONNECT_TIMEOUT_MS);
  if (reach !== true) {
    return [{ name: "telegram", ok: false, detail: `${where} cannot be reached: ${reach}` }];
  }
  const checks: Check[] = [
    { name: "telegram", ok: true, detail: `${where} answers (${Date.now() - started} ms)` },
  ];
  const database = await openStoreAndMigrate(storeTarget(config));
  let gateway: TelegramGateway | undefined;
  try {
    try {
      gateway = await openBotGateway(telegram, { db: database.db, log });
    } catch (error) {
      const { text, hint } = userFacing(error);
      checks.push({ name: "bot", ok: false, detail: `${text}${hint ? ` ${hint}` : ""}` });
      return checks;
    }
    const bot = gateway.me.username ? `@${gateway.me.username}` : "the bot";
    checks.push({ name: "bot", ok: true, detail: `logged in as ${bot} (id ${gateway.me.id})` });
    const ids = new Set([
      ...config.logChannels.map(Number),
      ...(await listChats(database.db, "log")).map((c) => c.id),
    ]);
    if (ids.size === 0)
      checks.push({ name: "log channels", ok: true, detail: "none: uploads are not copied anywhere" });
    for (const id of ids) {
      const post = await gateway.canPost(id).catch((error: unknown) => userFacing(error).text);
      checks.push({ name: `log ${id}`, ...postDetail(post, bot) });
    }
    return checks;
  } finally {
    await gateway?.stop().catch((error: unknown) => log.warn({ err: error }, "bot disconnect failed"));
    await database.close();
  }
}

function postDetail(post: PostCheck | string, bot: string): { ok: boolean; detail: string } {
  if (typeof post === "string") return { ok: false, detail: `cannot check: ${post}` };
  if (post.ok) return { ok: true, detail: `${bot} may post` };
  const why = {
    not_member: `${bot} is not a member: add it as an admin who may post`,
    no_rights: `${bot} may not post: give it the "Post messages" right`,
    unknown_chat: `${bot} has not seen this chat: add it as an admin, then post something there`,
  } as const;
  return { ok: false, detail: why[post.reason] };
}

/** true, or why the connection failed, within `timeoutMs`. */
function tcpConnect(host: string, port: number, timeoutMs: number): Promise<true | string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (outcome: true | string) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer in ${timeoutMs / 1000} s`));
    socket.once("connect", () => done(true));
    socket.once("error", (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}

/** The user session is optional; one that is configured but no longer works is a failure to fix. */
async function userSession(telegram: TelegramConfig, log: Logger): Promise<Check> {
  const name = "user session";
  const session = await readUserSession(telegram).catch(() => undefined);
  if (!session) {
    return { name, ok: true, detail: "none: files over 2000 MiB are split (`medusa login` adds one)" };
  }
  const probe = await probeUserSession(telegram, session, log);
  if (!probe.ok) return { name, ok: false, detail: `${probe.reason}; run \`medusa login\` again` };
  const who = probe.me.username ? `@${probe.me.username}` : probe.me.name;
  return {
    name,
    ok: true,
    detail: `${who}, ${probe.me.premium ? "Premium: files up to 4000 MiB" : "not Premium: files up to 2000 MiB"}`,
  };
}

async function toolVersion(name: string, binary: string, args: string[]): Promise<Check> {
  try {
    const { stdout } = await execa(binary, args, { timeout: VERSION_TIMEOUT_MS, stdin: "ignore" });
    return { name, ok: true, detail: `${stdout.split("\n")[0]?.trim()} (${binary})` };
  } catch (error) {
    const missing = (error as { code?: string }).code === "ENOENT";
    return {
      name,
      ok: false,
      detail: missing ? `not found: ${binary} (install it or set its path)` : `${binary} failed to run`,
    };
  }
}

/** PostgreSQL answers and takes writes; backups are pg_dump's there, which the detail says. */
async function postgresReachable(config: Config): Promise<Check> {
  const label = storeLabel(config);
  const opened = openPostgres(config.databaseUrl ?? "", { poolSize: 1 });
  try {
    const status = await postgresStatus(opened.db);
    return {
      name: "database",
      ok: !status.readOnly,
      warn: true,
      detail: `${label}: PostgreSQL ${status.version}${status.readOnly ? " is read-only" : ""}; ${PG_BACKUP_HINT}`,
    };
  } catch (error) {
    return { name: "database", ok: false, detail: `${label}: ${scrub((error as Error).message)}` };
  } finally {
    await opened.close();
  }
}

function databaseWritable(file: string): Check {
  try {
    const opened = openDatabase(file);
    // Taking the write lock proves the file (and its -wal beside it) is writable without changing anything.
    opened.sqlite.prepare("BEGIN IMMEDIATE").run();
    opened.sqlite.prepare("ROLLBACK").run();
    const mode = opened.sqlite.pragma("journal_mode", { simple: true });
    void opened.close();
    return { name: "database", ok: true, detail: `${file} writable, journal_mode=${mode}` };
  } catch (error) {
    return { name: "database", ok: false, detail: `${file}: ${(error as Error).message}` };
  }
}

function diskSpace(dir: string, minFree: number): Check {
  try {
    fs.mkdirSync(dir, { recursive: true });
    const stats = fs.statfsSync(dir);
    const free = stats.bavail * stats.bsize;
    return {
      name: "disk",
      ok: free >= minFree,
      detail: `${gib(free)} free in ${path.resolve(dir)} (keeps ${gib(minFree)} free)`,
    };
  } catch (error) {
    return { name: "disk", ok: false, detail: `${dir}: ${(error as Error).message}` };
  }
}

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

export function formatChecks(checks: readonly Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  return checks
    .map((c) => `${c.ok ? (c.warn ? "warn" : "ok  ") : "FAIL"}  ${c.name.padEnd(width)}  ${c.detail}`)
    .join("\n");
}
