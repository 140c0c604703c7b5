/** `medusa doctor`: checks what Medusa needs on this machine and prints one table. */
import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import type { Config, TelegramConfig } from "../config.js";
import { openDatabase } from "../db/database.js";
import type { Logger } from "../logger.js";
import { probeUserSession, readUserSession } from "../telegram/user-session.js";

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

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
  checks.push(await toolVersion("yt-dlp", config.fetch.ytdlpPath, ["--version"]));
  checks.push(databaseWritable(config.paths.database));
  checks.push(diskSpace(config.paths.dataDir, config.limits.minFreeDisk));
  if (config.telegram && log) checks.push(await userSession(config.telegram, log));
  return checks;
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
  return checks.map((c) => `${c.ok ? "ok  " : "FAIL"}  ${c.name.padEnd(width)}  ${c.detail}`).join("\n");
}
