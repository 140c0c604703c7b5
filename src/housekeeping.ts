/**
 * What keeps a long-running installation tidy without an operator: online backups of the database on a schedule
 * (the newest BACKUP_KEEP kept) and the pruning of job history past HISTORY_DAYS into totals.
 */
import fs from "node:fs";
import path from "node:path";
import { backupDatabase, type OpenedStore, PG_BACKUP_HINT } from "./db/database.js";
import { pruneHistory } from "./db/retention.js";
import type { Logger } from "./logger.js";

const HOUR_MS = 60 * 60 * 1000;
/** Pruning looks again this often: cheap when nothing is due. */
const PRUNE_EVERY_MS = 6 * HOUR_MS;
/** The owner's checks (free disk, failures gone quiet) run this often: a statfs and two small queries. */
const WATCH_EVERY_MS = 5 * 60_000;
/** Rounds of pruning per run at most (each at most a month of days): years of backlog end in one run. */
const MAX_PRUNE_ROUNDS = 1000;
/** Names of the backups this schedule (and `medusa backup`) writes; nothing else in the folder is touched. */
const BACKUP_NAME = /^medusa-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z\.db$/;

export function backupFileName(at: Date): string {
  return `medusa-${at.toISOString().replace(/[:.]/g, "-")}.db`;
}

export interface HousekeepingOptions {
  database: OpenedStore;
  backupsDir: string;
  /** 0: no scheduled backups. */
  backupEveryHours: number;
  backupKeep: number;
  /** 0: history is kept whole. */
  historyDays: number;
  log: Logger;
  /** @default () => new Date() */
  now?: () => Date;
  /** Checks for the owner's notices (low disk …), run at start and every few minutes. */
  watch?: () => Promise<void>;
}

export interface Housekeeping {
  /** Backs up if one is due, then prunes; what the timers run. */
  runOnce(): Promise<{ backup: string | undefined; prunedJobs: number }>;
  /** Resolves once no backup or prune is under way (the first ones start with the schedule). */
  settled(): Promise<void>;
  /** Stops the timers and waits for a backup or prune under way. */
  stop(): Promise<void>;
}

export function startHousekeeping(options: HousekeepingOptions): Housekeeping {
  const now = options.now ?? (() => new Date());
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let stopped = false;

  const schedule = (ms: number, task: () => Promise<unknown>) => {
    const loop = async () => {
      if (stopped) return;
      const run = task().then(
        () => undefined,
        (error: unknown) => options.log.error({ err: error }, "housekeeping failed"),
      );
      inFlight.add(run);
      await run;
      inFlight.delete(run);
      if (stopped) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        void loop();
      }, ms);
      timer.unref(); // never the reason the process stays up
      timers.add(timer);
    };
    void loop();
  };

  // Online backups copy SQLite; PostgreSQL is the operator's to pg_dump (said once, at start).
  const backups = options.database.engine === "sqlite" && options.backupEveryHours > 0;
  if (!backups && options.backupEveryHours > 0) {
    options.log.warn(`no scheduled backups: ${PG_BACKUP_HINT}`);
  }
  const backupIfDue = async (): Promise<string | undefined> => {
    if (!backups) return undefined;
    const newest = listBackups(options.backupsDir).at(-1);
    const dueAt = newest
      ? fs.statSync(path.join(options.backupsDir, newest)).mtimeMs + options.backupEveryHours * HOUR_MS
      : 0;
    if (now().getTime() < dueAt) return undefined;
    const file = await writeBackup(options.database, options.backupsDir, now());
    const removed = keepNewest(options.backupsDir, options.backupKeep);
    options.log.info({ file, removed }, "database backed up");
    return file;
  };

  const prune = async (): Promise<number> => {
    if (options.historyDays === 0) return 0;
    let jobs = 0;
    for (let round = 0; round < MAX_PRUNE_ROUNDS && !stopped; round++) {
      const outcome = await options.database.db
        .transaction()
        .execute((trx) => pruneHistory(trx, { keepDays: options.historyDays, now: now() }));
      jobs += outcome.jobs;
      if (outcome.days.length === 0) break;
      options.log.info(
        { days: outcome.days.length, jobs: outcome.jobs },
        "old job history moved into totals",
      );
    }
    return jobs;
  };

  const runOnce = async () => ({ backup: await backupIfDue(), prunedJobs: await prune() });

  // Looks hourly whether a backup is due, so a restart never skips one nor takes one early.
  if (backups) schedule(HOUR_MS, backupIfDue);
  if (options.historyDays > 0) schedule(PRUNE_EVERY_MS, prune);
  if (options.watch) schedule(WATCH_EVERY_MS, options.watch);

  return {
    runOnce,
    async settled() {
      await Promise.all(inFlight);
    },
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.all(inFlight);
    },
  };
}

/** Writes a consistent copy beside its final name and renames it, so a crash never leaves half a backup. */
export async function writeBackup(database: OpenedStore, dir: string, at: Date): Promise<string> {
  const file = path.join(dir, backupFileName(at));
  const partial = `${file}.partial`;
  try {
    await backupDatabase(database, partial);
    fs.renameSync(partial, file);
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw error;
  }
  return file;
}

function listBackups(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((name) => BACKUP_NAME.test(name))
      .sort();
  } catch {
    return []; // no folder yet: no backups
  }
}

/** Removes all but the newest `keep` backups; returns how many went. */
function keepNewest(dir: string, keep: number): number {
  const backups = listBackups(dir);
  const old = backups.slice(0, Math.max(0, backups.length - keep));
  for (const name of old) {
    // A backup once opened in WAL mode has its -wal and -shm beside it.
    for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(path.join(dir, name + suffix), { force: true });
  }
  return old.length;
}
