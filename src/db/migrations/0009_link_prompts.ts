/**
 * Questions the bot asked about a link and is waiting on: the quality buttons of a site link, or the confirm button
 * of a playlist. The row, not a timer in memory, is what a restart finds: a question whose deadline passed gets its
 * default (a quality question queues the link with the user's default quality; a playlist question expires).
 * `ask_quality` on user_settings: 1 while the user has no default quality (the quality buttons are shown); users who
 * had picked a quality other than "best" keep it as their default.
 * Frozen in time: never import app code here, never edit after release — add a migration. Written with kysely's
 * schema builder so that it runs on SQLite and PostgreSQL alike.
 */
import { type Kysely, sql } from "kysely";
import { withTransaction } from "./dialect.js";

/** The columns this migration reads, as they were when it was written. */
interface Frozen {
  user_settings: { quality: string; ask_quality: number };
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await withTransaction(db, async (trx) => {
    await trx.schema
      .createTable("link_prompts")
      // A random id, made by the bot: it is also what the buttons' callback data names.
      .addColumn("id", "text", (c) =>
        c
          .primaryKey()
          .modifyEnd(
            sql.raw(
              "\n  -- a question about a link the bot waits on: quality buttons or a playlist confirm\n",
            ),
          ),
      )
      .addColumn("user_id", "bigint", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("chat_id", "bigint", (c) => c.notNull())
      .addColumn("request_message_id", "bigint")
      // The bot's message that carries the buttons, once sent.
      .addColumn("message_id", "bigint")
      .addColumn("state", "text", (c) =>
        c
          .notNull()
          .check(sql`state IN ('probing', 'asking', 'confirming', 'queued', 'expired', 'cancelled')`),
      )
      // JSON: the link, its name and options, the destination, the language, what was offered.
      .addColumn("request", "text", (c) => c.notNull())
      // ISO-8601 UTC: when the default applies (or the question expires).
      .addColumn("deadline", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("resolved_at", "text")
      // JSON array of the job ids it queued.
      .addColumn("job_ids", "text")
      .execute();
    await trx.schema
      .createIndex("link_prompts_open")
      .on("link_prompts")
      .columns(["state", "deadline"])
      .execute();
    await trx.schema
      .alterTable("user_settings")
      .addColumn("ask_quality", "integer", (c) => c.notNull().defaultTo(1).check(sql`ask_quality IN (0, 1)`))
      .execute();
    await (trx as unknown as Kysely<Frozen>)
      .updateTable("user_settings")
      .set({ ask_quality: 0 })
      .where("quality", "!=", "best")
      .execute();
  });
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await withTransaction(db, async (trx) => {
    await trx.schema.alterTable("user_settings").dropColumn("ask_quality").execute();
    await trx.schema.dropTable("link_prompts").execute();
  });
}
