/** A user's recent jobs with where each was delivered (for /history), and their own usage counts (for /usage). */
import type { Db } from "./database.js";
import type { Job } from "./schema.js";

export interface HistoryEntry {
  job: Job;
  /** The first part's message in the destination, when Telegram confirmed it (0: posted, id unknown). */
  messageId: number | null;
  /** What the bot knows of the destination chat. */
  chat: { username: string | null; title: string | null } | null;
}

export async function listHistory(db: Db, userId: number, limit: number): Promise<HistoryEntry[]> {
  const jobs = await db
    .selectFrom("jobs")
    .selectAll()
    .where("user_id", "=", userId)
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
  if (jobs.length === 0) return [];
  const deliveries = await db
    .selectFrom("deliveries")
    .select(["job_id", "message_id"])
    .where(
      "job_id",
      "in",
      jobs.map((j) => j.id),
    )
    .where("target", "=", "destination")
    .where("part", "=", 1)
    .execute();
  const chatIds = [...new Set(jobs.map((j) => j.destination_chat_id))];
  const [chats, peers] = await Promise.all([
    db.selectFrom("chats").select(["id", "username", "title"]).where("id", "in", chatIds).execute(),
    db.selectFrom("peers").select(["id", "username", "title"]).where("id", "in", chatIds).execute(),
  ]);
  const chatOf = new Map<number, { username: string | null; title: string | null }>();
  for (const p of peers) chatOf.set(p.id, { username: p.username, title: p.title });
  for (const c of chats) {
    const known = chatOf.get(c.id);
    chatOf.set(c.id, {
      username: c.username ?? known?.username ?? null,
      title: c.title ?? known?.title ?? null,
    });
  }
  const messageOf = new Map(deliveries.map((d) => [d.job_id, d.message_id]));
  return jobs.map((job) => ({
    job,
    messageId: messageOf.get(job.id) ?? null,
    chat: chatOf.get(job.destination_chat_id) ?? null,
  }));
}

export interface UsageCount {
  jobs: number;
  /** Bytes of the jobs delivered. */
  bytes: number;
}

/** The user's jobs made since each time (ISO UTC; null: ever) and the bytes of those delivered. */
export async function usageSince(db: Db, userId: number, since: string | null): Promise<UsageCount> {
  let query = db
    .selectFrom("jobs")
    .select((eb) => [
      eb.fn.countAll<number>().as("jobs"),
      eb.fn
        .sum<number | null>(eb.case().when("status", "=", "done").then(eb.ref("bytes_total")).else(0).end())
        .as("bytes"),
    ])
    .where("user_id", "=", userId);
  if (since !== null) query = query.where("created_at", ">=", since);
  const row = await query.executeTakeFirstOrThrow();
  return { jobs: Number(row.jobs), bytes: Number(row.bytes ?? 0) };
}
