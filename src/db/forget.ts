/**
 * Forgetting a user (/forgetme): their finished jobs with their deliveries, their batches, their settings, the
 * events that name them, the files only their jobs delivered, and their profile (names, username) and peer record
 * (forgetPeer, after the last reply). Their id and role stay, so they keep access; the caller records an audit event without their data.
 * Unfinished jobs are not touched: they are cancelled first and go once they have stopped.
 */
import type { Db, Trx } from "./database.js";
import { FINISHED_STATUSES } from "./schema.js";

export interface Forgotten {
  jobs: number;
  batches: number;
  deliveries: number;
  /** Jobs still stopping, left for a later call. */
  unfinished: number;
}

export async function forgetUser(trx: Trx, userId: number): Promise<Forgotten> {
  const jobIds = (
    await trx
      .selectFrom("jobs")
      .select("id")
      .where("user_id", "=", userId)
      .where("status", "in", FINISHED_STATUSES)
      .execute()
  ).map((j) => j.id);
  let deliveries = 0;
  if (jobIds.length > 0) {
    // Files only these jobs delivered name what the user fetched; files others delivered too stay.
    const fileIds = (
      await trx
        .selectFrom("deliveries")
        .select("file_id")
        .distinct()
        .where("job_id", "in", jobIds)
        .where("file_id", "is not", null)
        .execute()
    ).map((d) => d.file_id as number);
    const deleted = await trx.deleteFrom("deliveries").where("job_id", "in", jobIds).executeTakeFirst();
    deliveries = Number(deleted.numDeletedRows);
    if (fileIds.length > 0) {
      await trx
        .deleteFrom("files")
        .where("id", "in", fileIds)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom("deliveries")
                .select("deliveries.id")
                .whereRef("deliveries.file_id", "=", "files.id"),
            ),
          ),
        )
        .execute();
    }
    await trx.deleteFrom("jobs").where("id", "in", jobIds).execute();
  }
  const unfinished = Number(
    (
      await trx
        .selectFrom("jobs")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("user_id", "=", userId)
        .executeTakeFirstOrThrow()
    ).n,
  );
  // A batch with a job still stopping stays until that job goes.
  const batches = await trx
    .deleteFrom("batches")
    .where("user_id", "=", userId)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom("jobs").select("jobs.id").whereRef("jobs.batch_id", "=", "batches.id"))),
    )
    .executeTakeFirst();
  await trx.deleteFrom("user_settings").where("user_id", "=", userId).execute();
  await trx
    .deleteFrom("events")
    .where((eb) => eb.or([eb("actor_id", "=", userId), eb("subject", "=", String(userId))]))
    .execute();
  await trx
    .updateTable("users")
    .set({ username: null, first_name: null, last_name: null, last_seen_at: null })
    .where("id", "=", userId)
    .execute();
  return { jobs: jobIds.length, batches: Number(batches.numDeletedRows), deliveries, unfinished };
}

/** The user's peer record (username, language, access hash): after the last reply, which may need it. */
export async function forgetPeer(db: Db, userId: number): Promise<void> {
  await db.deleteFrom("peers").where("id", "=", userId).execute();
}
