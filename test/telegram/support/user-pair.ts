/** A local Telegram server with two users: Alice connected through a ready session, Bob to send to. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Api, type TelegramClient } from "telegram";
import { disconnectClient } from "../../../src/telegram/connect.js";
import { type RunningTelegramServer, startTelegramServer } from "../../support/telegram-server/index.js";
import { clientFor } from "../../telegram-server/helpers.js";

export interface UserPair {
  srv: RunningTelegramServer;
  client: TelegramClient;
  /** A temp dir for the test's files, removed by close(). */
  dir: string;
  alice: { id: number };
  bob: { id: number; accessHash: string };
  bobPeer(): Api.InputPeerUser;
  close(): Promise<void>;
}

export async function startUserPair(prefix: string): Promise<UserPair> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const srv = await startTelegramServer();
  const alice = srv.server.createUser({ session: true });
  const bob = srv.server.createUser({});
  const client = clientFor(srv, alice.session ?? "");
  await client.connect();
  return {
    srv,
    client,
    dir,
    alice,
    bob,
    bobPeer: () =>
      new Api.InputPeerUser({ userId: BigInt(bob.id) as never, accessHash: BigInt(bob.accessHash) as never }),
    async close() {
      await disconnectClient(client);
      await srv.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
