/** Users and chats Telegram told us about, with the access hash a later call needs. */
import { type Db, nowIso } from "./database.js";
import type { NewPeer, Peer } from "./schema.js";

/** Upserts what an update or a call result carried; a missing access hash never erases a known one. */
export async function savePeers(db: Db, peers: readonly NewPeer[]): Promise<void> {
  const now = nowIso();
  for (const peer of peers) {
    await db
      .insertInto("peers")
      .values({ ...peer, updated_at: now })
      .onConflict((oc) =>
        oc.column("id").doUpdateSet((eb) => ({
          kind: peer.kind,
          access_hash: eb.fn.coalesce(eb.val(peer.access_hash ?? null), eb.ref("peers.access_hash")),
          username: peer.username ?? null,
          title: peer.title ?? null,
          lang_code: eb.fn.coalesce(eb.val(peer.lang_code ?? null), eb.ref("peers.lang_code")),
          is_bot: peer.is_bot ?? 0,
          updated_at: now,
        })),
      )
      .execute();
  }
}

export async function getPeer(db: Db, id: number): Promise<Peer | undefined> {
  return db.selectFrom("peers").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function findPeerByUsername(db: Db, username: string): Promise<Peer | undefined> {
  return db
    .selectFrom("peers")
    .selectAll()
    .where((eb) => eb(eb.fn("lower", ["username"]), "=", username.replace(/^@/, "").toLowerCase()))
    .orderBy("updated_at", "desc")
    .executeTakeFirst();
}
