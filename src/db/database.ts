/**
 * Opens the store: the one SQLite file by default (WAL so readers — the operator's sqlite3 shell — never block the
 * bot, foreign keys on, a busy timeout so a concurrent writer waits instead of failing), or PostgreSQL when
 * DATABASE_URL names one, for several processes on several hosts. Both give the same Kysely<Database>; the
 * repositories and migrations run unchanged on either.
 */
import fs from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import {
  Kysely,
  type Migration,
  type MigrationResultSet,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  sql,
  type Transaction,
} from "kysely";
import pg from "pg";
import { StoreError } from "./errors.js";
import * as m0001 from "./migrations/0001_initial.js";
import * as m0002 from "./migrations/0002_updates.js";
import * as m0003 from "./migrations/0003_job_queue.js";
import * as m0004 from "./migrations/0004_user_removal.js";
import * as m0005 from "./migrations/0005_batch_summary.js";
import * as m0006 from "./migrations/0006_pause.js";
import * as m0007 from "./migrations/0007_history_totals.js";
import * as m0008 from "./migrations/0008_user_preferences.js";
import * as m0009 from "./migrations/0009_link_prompts.js";
import * as m0011 from "./migrations/0011_job_error_words.js";
import { isPostgres } from "./migrations/dialect.js";
import { sqliteNativeBinding } from "./native-addon.js";
import type { Database } from "./schema.js";

/** A database handle or an open transaction: what single-statement repository functions take. */
export type Db = Kysely<Database>;
/** An open transaction: what a repository function takes when it writes several statements that belong together. */
export type Trx = Transaction<Database>;

/** Is `db` a PostgreSQL store? For the few statements whose SQL differs (the claim's row locks). */
export { isPostgres };

/** How long a writer waits for another connection's lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/** Listed here, not read from a folder, so a single-file binary carries them. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  "0001_initial": m0001,
  "0002_updates": m0002,
  "0003_job_queue": m0003,
  "0004_user_removal": m0004,
  "0005_batch_summary": m0005,
  "0006_pause": m0006,
  "0007_history_totals": m0007,
  "0008_user_preferences": m0008,
  "0009_link_prompts": m0009,
  "0011_job_error_words": m0011,
};

export interface OpenedDatabase {
  engine: "sqlite";
  db: Db;
  /** The raw handle, for pragmas and the online backup API. */
  sqlite: SQLite.Database;
  close(): Promise<void>;
}

export interface OpenedPostgres {
  engine: "postgres";
  db: Db;
  /** SQLite's handle only exists on SQLite: back up PostgreSQL with pg_dump. */
  sqlite?: undefined;
  close(): Promise<void>;
}

/** Either engine: what the app holds. Check `engine` before anything SQLite-only (backups, pragmas). */
export type OpenedStore = OpenedDatabase | OpenedPostgres;

/** Where the store lives: PostgreSQL when `url` is set, else the SQLite file. */
export interface StoreTarget {
  url?: string | null;
  file: string;
}

export function openDatabase(file: string, options: { readonly?: boolean } = {}): OpenedDatabase {
  if (file !== ":memory:") fs.mkdirSync(path.dirname(file), { recursive: true });
  const nativeBinding = sqliteNativeBinding();
  const sqlite = new SQLite(file, {
    readonly: options.readonly ?? false,
    fileMustExist: options.readonly ?? false,
    // The types say string; better-sqlite3 12 also takes the loaded addon (lib/database.js).
    ...(nativeBinding ? { nativeBinding: nativeBinding as unknown as string } : {}),
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
    engine: "sqlite",
    db,
    sqlite,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy(); // also closes the better-sqlite3 handle
    },
  };
}

/** Connections per process: workers claim and heartbeat on a few; pg's own default. */
const PG_POOL_SIZE = 10;
const PG_INT8 = 20;
const PG_NUMERIC = 1700;

/**
 * pg returns 64-bit integers and numerics as strings (they may not fit a double). Ours are ids, sizes, counts
 * and sums of those, all far below 2^53, and the repositories expect numbers, as SQLite gives them: parse them,
 * and refuse loudly rather than round a value that does not fit.
 */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n))
    throw new RangeError(`Expected a 64-bit value within 2^53 from PostgreSQL, got ${text}`);
  return n;
}

const pgTypes = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === PG_INT8) return parseInt8;
    if (oid === PG_NUMERIC) return Number;
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/** Connects to PostgreSQL (`postgres://user:password@host:port/database`); nothing is sent until the first query. */
export function openPostgres(url: string, options: { poolSize?: number } = {}): OpenedPostgres {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? PG_POOL_SIZE, types: pgTypes });
  // An idle connection that dies (server restart, network cut) is dropped by the pool, and the next query reconnects
  // or fails where a caller handles it; without a listener the 'error' event would end the process.
  pool.on("error", () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    engine: "postgres",
    db,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy(); // also ends the pool
    },
  };
}

/** PostgreSQL when the target has a URL, else SQLite. */
export function openStore(target: StoreTarget): OpenedStore {
  return target.url ? openPostgres(target.url) : openDatabase(target.file);
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

async function migrated<T extends OpenedStore>(opened: T): Promise<T & { applied: string[] }> {
  const outcome = await migrateToLatest(opened.db).catch((error: unknown) => ({ applied: [], error }));
  if (outcome.error) {
    await opened.close();
    throw outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error));
  }
  return { ...opened, applied: outcome.applied };
}

/** Opens the SQLite file and migrates in one step, failing loudly when a migration fails. */
export async function openAndMigrate(file: string): Promise<OpenedDatabase & { applied: string[] }> {
  return migrated(openDatabase(file));
}

/** Opens either engine (see openStore) and migrates, failing loudly when a migration fails. */
export async function openStoreAndMigrate(target: StoreTarget): Promise<OpenedStore & { applied: string[] }> {
  return migrated(openStore(target));
}

/** The server's version and whether it takes writes (a read-only replica does not): for `medusa doctor`. */
export async function postgresStatus(db: Db): Promise<{ version: string; readOnly: boolean }> {
  const { rows } = await sql<{ version: string; read_only: string }>`SELECT
      current_setting('server_version') AS version, current_setting('transaction_read_only') AS read_only`.execute(
    db,
  );
  return { version: rows[0]?.version ?? "?", readOnly: rows[0]?.read_only !== "off" };
}

/** What to tell an operator who asks for a backup of a PostgreSQL store. */
export const PG_BACKUP_HINT =
  'the store is PostgreSQL (DATABASE_URL): back it up with pg_dump (e.g. pg_dump -Fc "$DATABASE_URL" > medusa.dump); medusa backup copies SQLite only';

/** Copies the live database with SQLite's online backup API (safe while the bot writes). SQLite only. */
export async function backupDatabase(opened: OpenedStore, destination: string): Promise<void> {
  if (opened.engine !== "sqlite") throw new StoreError("BACKUP_UNSUPPORTED", PG_BACKUP_HINT);
  fs.mkdirSync(path.dirname(destination), { recursive: true });
  await opened.sqlite.backup(destination);
}

/** Current UTC time in the format the database stores. */
export function nowIso(): string {
  return new Date().toISOString();
}
