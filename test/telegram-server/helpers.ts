/** Shared set-up for the local Telegram server's tests: a server, and gramjs clients built with connect.ts. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { Api, TelegramClient } from "telegram";
import { createTelegramClient, disconnectClient } from "../../src/telegram/connect.js";
import { authKeyId } from "../support/telegram-server/crypto.js";
import type { RunningTelegramServer } from "../support/telegram-server/index.js";
import type { AuthKeyRecord } from "../support/telegram-server/world.js";

export const API_ID = 12345;
export const API_HASH = "0123456789abcdef".repeat(2); // any 32 hex digits: the local server does not check it

export function clientFor(srv: RunningTelegramServer, session?: string): TelegramClient {
  return createTelegramClient({
    apiId: API_ID,
    apiHash: API_HASH,
    session,
    server: { host: "127.0.0.1", port: srv.mtprotoPort, dcId: srv.dcId, publicKeyPem: srv.publicKeyPem },
  });
}

/** A connected client logged in as a new bot of the server. */
export async function botClient(srv: RunningTelegramServer, username = "medusa_bot") {
  const bot = srv.server.createBot({ username });
  const client = clientFor(srv);
  await client.start({ botAuthToken: bot.botToken! });
  return { bot, client };
}

export async function closeClient(client: TelegramClient | undefined): Promise<void> {
  if (client) await disconnectClient(client);
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/**
 * The bound of a wait on an event (an update, a reply, a child's start line). Events come in milliseconds; the
 * bound only turns a hang into a clear failure, so it is generous for a loaded machine.
 */
export const EVENT_TIMEOUT_MS = 30_000;

/** Rejects after `ms` so that no test waits forever. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    }),
  ]);
}

/** Invokes on the main sender itself: errors arrive as Telegram sent them (gramjs's invoke retries some). */
export async function rawError(
  client: TelegramClient,
  request: Api.AnyRequest,
): Promise<{ code?: number; errorMessage?: string; seconds?: number } | undefined> {
  const pending = client._sender?.send(request);
  if (!pending) throw new Error("client is not connected");
  return pending.then(
    () => undefined,
    (e: { code?: number; errorMessage?: string; seconds?: number }) => e,
  );
}

/** The ids of every auth key the server knows now, to tell later ones apart. */
export function knownAuthKeys(srv: RunningTelegramServer): Set<string> {
  return new Set(srv.server.world.authKeys.keys());
}

/** Auth keys the server made since `known` was taken, oldest first. */
export function authKeysSince(srv: RunningTelegramServer, known: Set<string>): AuthKeyRecord[] {
  return [...srv.server.world.authKeys.values()].filter((k) => !known.has(k.id));
}

/**
 * gramjs builds its copy of the key without leading zero bytes, so it rejects an exchange whose key starts with
 * one (about 1 in 200 with Telegram's prime, whose top byte is 0xC7) and runs another: luck that exact counts of
 * exchanges must allow for.
 */
export function gramjsRejects(key: AuthKeyRecord): boolean {
  return key.key[0] === 0;
}

/** The server's id of the auth key a client holds. */
export function clientAuthKeyId(client: TelegramClient): string | undefined {
  const key = client.session.getAuthKey()?.getKey();
  return key ? authKeyId(key) : undefined;
}
