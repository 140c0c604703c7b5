/**
 * A failed job keeps the catalog key and params of its error beside the code, so that the status board, /history
 * and the batch summary say why in the reader's language (error_message stays the English text, for logs).
 * Frozen in time: never import app code here, never edit after release — add a migration. Portable: the schema
 * builder, no raw SQL.
 */
import type { Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("jobs").addColumn("error_key", "text").execute();
  await db.schema.alterTable("jobs").addColumn("error_params", "text").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("jobs").dropColumn("error_params").execute();
  await db.schema.alterTable("jobs").dropColumn("error_key").execute();
}
