#!/usr/bin/env node
/** `medusa <command>`: the entry point. Reads .env and the environment once, then hands a Config down. */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { parseArgs } from "node:util";
// Everything else loads inside the command that needs it, so `medusa --version` and `--help` start in a blink.
import type { Config } from "./config.js";
import type { Logger } from "./logger.js";
import { ROLES, type Role } from "./start/core.js";

/** Set by the single-binary build (scripts/build-binary.ts), which has no package.json beside it. */
declare const MEDUSA_VERSION: string | undefined;
const VERSION: string =
  typeof MEDUSA_VERSION === "string"
    ? MEDUSA_VERSION
    : createRequire(import.meta.url)("../package.json").version;

const HELP = `medusa ${VERSION}: Telegram uploader

Usage: medusa <command> [options]

Commands:
  start              run the bot (needs TELEGRAM_API_ID, TELEGRAM_API_HASH, BOT_TOKEN, OWNER_ID);
                     --role all (default: everything in one process), gateway (updates, bot, status
                     messages; no jobs) or worker (runs jobs; no updates), several sharing one database
  migrate            create or update the database, then exit
  doctor             check node, ffmpeg, ffprobe, yt-dlp, the database and disk space
  download <url>     download a link to a folder (--out DIR, --name NAME, --quality Q)
  login              save a Telegram user session (Premium: 4000 MiB files)
  upload <file|url>  send a file or link to a chat (--to CHAT, --name, --quality, --as-document)
  backup [--out F]   copy the live database with SQLite's online backup (default data/backups/)
  export [--out F]   users, roles, chats, settings and known files as JSON lines (default: stdout)
  import <file>      take an export back (idempotent; --dry-run; --legacy-env F reads another bot's .env lists)

Options:
  -h, --help         this text
  -v, --version      the version

Settings come from the environment or a .env file in the current folder; see .env.example.`;

type CommandFn = (argv: string[], env: NodeJS.ProcessEnv) => Promise<number>;

const COMMANDS: Record<string, CommandFn> = {
  start: async (argv, env) => {
    const role = await startRole(argv);
    const { parseConfig } = await import("./config.js");
    const config = parseConfig(env, { telegram: true });
    const log = await rootLogger(config);
    const { startMedusa } = await import("./main.js");
    // Listening before start-up: /readyz answers before startMedusa returns, so a supervisor may already signal.
    let running: Awaited<ReturnType<typeof startMedusa>> | undefined;
    let requested: string | undefined;
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => {
        requested = signal;
        void running?.stop(signal);
      });
    }
    running = await startMedusa(config, log, { role });
    if (requested) void running.stop(requested);
    await running.stopped;
    return 0;
  },
  migrate: async (_argv, env) => {
    const { parseConfig, storeLabel, storeTarget } = await import("./config.js");
    const { openStoreAndMigrate } = await import("./db/database.js");
    const config = parseConfig(env);
    const opened = await openStoreAndMigrate(storeTarget(config));
    await opened.close();
    console.log(
      opened.applied.length > 0
        ? `Applied ${opened.applied.join(", ")} to ${storeLabel(config)}`
        : `${storeLabel(config)} is up to date`,
    );
    return 0;
  },
  doctor: async (_argv, env) => {
    // With Telegram credentials set, the user session is checked too; without them, the machine alone.
    const { parseConfig } = await import("./config.js");
    const { createLogger } = await import("./logger.js");
    const { formatChecks, runChecks } = await import("./cli/doctor.js");
    const config = env.TELEGRAM_API_ID ? parseConfig(env, { telegram: true }) : parseConfig(env);
    if (config.telegram) (await import("./telegram/gramjs-patches.js")).installGramjsPatches();
    const log = createLogger({
      level: env.LOG_LEVEL ? config.log.level : "error",
      destination: process.stderr,
    });
    const checks = await runChecks(config, log);
    console.log(formatChecks(checks));
    return checks.every((c) => c.ok) ? 0 : 1;
  },
  download: async (argv, env) => {
    const { parseConfig } = await import("./config.js");
    const { createLogger } = await import("./logger.js");
    const { downloadCommand } = await import("./cli/download.js");
    const config = parseConfig(env);
    // stdout carries the saved path only; log lines go to stderr.
    const log = createLogger({
      level: env.LOG_LEVEL ? config.log.level : "warn",
      destination: process.stderr,
    });
    return downloadCommand(argv, config, log);
  },
  login: async (argv, env) => {
    parseArgs({ args: argv, options: {}, strict: true });
    const { parseConfig } = await import("./config.js");
    const { createLogger } = await import("./logger.js");
    const { loginCommand } = await import("./cli/login.js");
    const config = parseConfig(env, { telegram: true });
    if (!config.telegram) throw new Error("unreachable: telegram config is required above");
    (await import("./telegram/gramjs-patches.js")).installGramjsPatches();
    const log = createLogger({
      level: env.LOG_LEVEL ? config.log.level : "warn",
      destination: process.stderr,
    });
    return loginCommand(config.telegram, log, { input: process.stdin, output: process.stdout });
  },
  // Reads its arguments before the configuration, so a typo is told without credentials.
  upload: async (argv, env) => (await import("./cli/upload.js")).uploadCommand(argv, env),
  backup: async (argv, env) => {
    const { values } = parseArgs({ args: argv, options: { out: { type: "string" } }, strict: true });
    const { parseConfig, storeTarget } = await import("./config.js");
    const { backupDatabase, openStoreAndMigrate, PG_BACKUP_HINT } = await import("./db/database.js");
    const { UserError } = await import("./errors.js");
    const { backupFileName } = await import("./housekeeping.js");
    const config = parseConfig(env);
    if (config.databaseUrl) throw new UserError("BACKUP_POSTGRES", `Not backed up: ${PG_BACKUP_HINT}.`);
    const out = path.resolve(values.out ?? path.join(config.paths.backups, backupFileName(new Date())));
    if (fs.existsSync(out))
      throw new UserError("BACKUP_EXISTS", `${out} already exists; choose another --out.`);
    const opened = await openStoreAndMigrate(storeTarget(config));
    try {
      await backupDatabase(opened, out);
    } finally {
      await opened.close();
    }
    console.log(`Backed up ${config.paths.database} to ${out}`);
    return 0;
  },
  export: async (argv, env) => {
    const { parseConfig } = await import("./config.js");
    const { exportCommand } = await import("./cli/installation.js");
    return exportCommand(argv, parseConfig(env));
  },
  import: async (argv, env) => {
    const { parseConfig } = await import("./config.js");
    const { importCommand } = await import("./cli/installation.js");
    return importCommand(argv, parseConfig(env));
  },
};

/** `start --role R`: checked before the configuration, so a typo is told without credentials. */
async function startRole(argv: string[]): Promise<Role> {
  const { values } = parseArgs({ args: argv, options: { role: { type: "string" } }, strict: true });
  const role = values.role ?? "all";
  if (!(ROLES as readonly string[]).includes(role)) {
    const { UserError } = await import("./errors.js");
    throw new UserError("START_ROLE", `Expected --role to be one of ${ROLES.join(", ")}, got "${role}".`);
  }
  return role as Role;
}

async function rootLogger(config: Config): Promise<Logger> {
  const { createLogger } = await import("./logger.js");
  const t = config.telegram;
  return createLogger({
    level: config.log.level,
    pretty: config.log.pretty,
    secrets: [t?.botToken, t?.apiHash, t?.userSession, config.http.dashboardToken].filter((s): s is string =>
      Boolean(s),
    ),
  });
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: { help: { type: "boolean", short: "h" }, version: { type: "boolean", short: "v" } },
  });
  const [command] = positionals;
  if (values.version) {
    console.log(VERSION);
    return 0;
  }
  if (values.help || !command) {
    console.log(HELP);
    return command || values.help ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run) {
    console.error(`medusa: unknown command "${command}". Run "medusa --help" for the list.`);
    return 2;
  }
  try {
    const { inSingleBinary } = await import("./lib/sea.js");
    if (inSingleBinary()) {
      const { cacheDir } = await import("./config.js");
      (await import("./db/native-addon.js")).useBundledSqliteAddon(cacheDir(env));
    }
    const commandArgs = [...argv];
    commandArgs.splice(argv.indexOf(command), 1);
    return await run(commandArgs, env);
  } catch (error) {
    const { ConfigError, userFacing } = await import("./errors.js");
    if (error instanceof ConfigError) {
      console.error(`medusa ${command}: cannot run, the configuration has problems:`);
      for (const problem of error.problems) console.error(`  - ${problem}`);
      console.error("Set them in the environment or in a .env file (see .env.example).");
      return 1;
    }
    const { code, text, hint } = userFacing(error);
    const message = code === "INTERNAL" ? (error as Error).message : text;
    console.error(`medusa ${command}: ${message}${hint ? `\n${hint}` : ""}`);
    if (code === "INTERNAL" && env.LOG_LEVEL === "debug") console.error(error);
    return 1;
  }
}

// .env is optional; real environment variables win over it.
if (fs.existsSync(".env")) process.loadEnvFile(".env");
main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error("medusa: unexpected failure:", (error as Error).message);
    process.exitCode = 1;
  },
);
