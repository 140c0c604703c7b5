/**
 * Opens the one SQLite file: WAL so readers (the operator's sqlite3 shell) never block the bot, foreign keys on,
 * and a busy timeout so a concurrent writer waits instead of failing.
 */
import fs from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import {
  Kysely,
  type Migration,
  type MigrationResultSet,
  Migrator,
  SqliteDialect,
  type Transaction,
} from "kysely";
import * as m0001 from "./migrations/0001_initial.js";
import * as m0002 from "./migrations/0002_updates.js";
import * as m0003 from "./migrations/0003_job_queue.js";
import * as m0004 from "./migrations/0004_user_removal.js";
import * as m0005 from "./migrations/0005_batch_summary.js";
import * as m0006 from "./migrations/0006_pause.js";
import * as m0007 from "./migrations/0007_history_totals.js";
import * as m0008 from "./migrations/0008_user_preferences.js";
import * as m0009 from "./migrations/0009_link_prompts.js";
import type { Database } from "./schema.js";

/** A database handle or an open transaction: what single-statement repository functions take. */
export type Db = Kysely<Database>;
/** An open transaction: what a repository function takes when it writes several statements that belong together. */
export type Trx = Transaction<Database>;

/** How long a writer waits for another connection's lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/** Listed here, not read from a folder, so a single-file binary carries them. */
const MIGRATIONS: Record<string, Migration> = {
  "0001_initial": m0001,
  "0002_updates": m0002,
  "0003_job_queue": m0003,
  "0004_user_removal": m0004,
  "0005_batch_summary": m0005,
  "0006_pause": m0006,
  "0007_history_totals": m0007,
  "0008_user_preferences": m0008,
  "0009_link_prompts": m0009,
};

export interface OpenedDatabase {
  db: Db;
  /** The raw handle, for pragmas and the online backup API. */
  sqlite: SQLite.Database;
  close(): Promise<void>;
}

export function openDatabase(file: string, options: { readonly?: boolean } = {}): OpenedDatabase {
  if (file !== ":memory:") fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new SQLite(file, {
    readonly: options.readonly ?? false,
    fileMustExist: options.readonly ?? false,
  });
  if (!options.readonly) {
    sqlite.pragma("journal_mode = WAL");
    // NORMAL is durable across application crashes in WAL mode; only power loss may drop the last commits.
    sqlite.pragma("synchronous = NORMAL");
  }
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  let closed = false;
  return {
    db,
    sqlite,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy(); // also closes the better-sqlite3 handle
    },
  };
}

export interface MigrateOutcome {
  applied: string[];
  error: unknown;
}

/** Brings the schema up to date; a no-op when it already is. */
export async function migrateToLatest(db: Db): Promise<MigrateOutcome> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } });
  const result: MigrationResultSet = await migrator.migrateToLatest();
  return {
    applied: (result.results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName),
    error: result.error,
  };
}

/** Migration names known to this build, in order. */
export function knownMigrations(): string[] {
  return Object.keys(MIGRATIONS).sort();
}

/** Opens and migrates in one step, failing loudly when a migration fails. */
export async function openAndMigrate(file: string): Promise<OpenedDatabase & { applied: string[] }> {
  const opened = openDatabase(file);
  const outcome = await migrateToLatest(opened.db);
  if (outcome.error) {
    await opened.close();
    throw outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error));
  }
  return { ...opened, applied: outcome.applied };
}

/** Copies the live database with SQLite's online backup API (safe while the bot writes). */
export async function backupDatabase(opened: OpenedDatabase, destination: string): Promise<void> {
  fs.mkdirSync(path.dirname(destination), { recursive: true });
  await opened.sqlite.backup(destination);
}

/** Current UTC time in the format the database stores. */
export function nowIso(): string {
  return new Date().toISOString();
}
