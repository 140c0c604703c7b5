import path from "node:path";
import type { TestContext } from "node:test";
import { openAndMigrate, openPostgres, openStoreAndMigrate } from "../../src/db/database.js";
import { postgresCluster, postgresMissing } from "../support/postgres.js";
import { tempDir } from "../support/temp-dir.js";

export type EngineName = "sqlite" | "postgres";

export interface Engine {
  name: EngineName;
  /** Why this engine's tests are skipped here (PostgreSQL not installed, outside CI). */
  skip: string | false;
}

/** The engines the store tests run on: SQLite always, PostgreSQL whenever it is installed (always in CI). */
export function engines(): Engine[] {
  const missing = postgresMissing();
  if (missing) console.error(`# PostgreSQL variants skipped: ${missing}`);
  return [
    { name: "sqlite", skip: false },
    { name: "postgres", skip: missing ?? false },
  ];
}

/** A migrated database in a real file under a temp dir, closed after the test. */
export async function testDatabase(t: Pick<TestContext, "after">) {
  const file = path.join(tempDir(t), "medusa.db");
  const opened = await openAndMigrate(file);
  t.after(() => opened.close());
  return { ...opened, file };
}

/** An empty PostgreSQL database of its own on this process's throwaway cluster: its URL. */
export async function emptyPostgres(): Promise<string> {
  return (await postgresCluster()).createDatabase();
}

let template: Promise<string> | undefined;

/** A database migrated once per process and copied (CREATE DATABASE … TEMPLATE) for each test: fast. */
async function migratedPostgres(): Promise<string> {
  template ??= (async () => {
    const cluster = await postgresCluster();
    const url = await cluster.createDatabase();
    const opened = await openStoreAndMigrate({ url, file: "" });
    await opened.close();
    return new URL(url).pathname.slice(1);
  })();
  const name = await template;
  return (await postgresCluster()).createDatabase(name);
}

/**
 * A migrated store on `engine`, closed after the test: a SQLite file in a temp dir, or a fresh PostgreSQL database.
 * `file` is set on SQLite, `url` on PostgreSQL — what a second connection (another worker) opens.
 */
export async function engineDatabase(t: Pick<TestContext, "after">, engine: EngineName) {
  if (engine === "sqlite") {
    const opened = await testDatabase(t);
    return { ...opened, url: undefined };
  }
  const url = await migratedPostgres();
  const opened = openPostgres(url);
  t.after(() => opened.close());
  return { ...opened, file: undefined, url };
}
