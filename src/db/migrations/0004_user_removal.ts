/**
 * Access taken away without forgetting: /removeuser keeps the person's row (their jobs and batches point at it) and
 * marks it removed, so the loader treats them as someone with no access until an admin adds them again.
 * Frozen in time: never import app code here, never edit after release — add a migration.
 */
import type { Kysely } from "kysely";
import { runStatements } from "./dialect.js";

export async function up(db: Kysely<unknown>): Promise<void> {
  // ISO-8601 UTC text; NULL: the person has the access their role gives.
  await runStatements(db, ["ALTER TABLE users ADD COLUMN removed_at TEXT"]);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, ["ALTER TABLE users DROP COLUMN removed_at"]);
}
