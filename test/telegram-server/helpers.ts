/** Shared set-up for the local Telegram server's tests: a server, and gramjs clients built with connect.ts. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { Api, type TelegramClient } from "telegram";
import { returnBigInt } from "telegram/Helpers.js";
import { RequestState } from "telegram/network/RequestState.js";
import { tlobjects } from "telegram/tl/AllTLObjects.js";
import { createTelegramClient, disconnectClient } from "../../src/telegram/connect.js";
import type { RunningTelegramServer } from "../support/telegram-server/index.js";

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

/** What a test needs of gramjs's MTProtoSender beyond its typings (telegram 2.26.22). */
interface SenderInternals {
  addStateToQueue(state: RequestState): void;
  _handlers: Record<string, (message: { msgId: unknown; obj: unknown }) => Promise<void> | void>;
}

function senderOf(client: TelegramClient): SenderInternals {
  const sender = client._sender as unknown as SenderInternals | undefined;
  if (!sender) throw new Error("client is not connected");
  return sender;
}

/** Sends a request on the main sender and resolves with its msg_id and result (or RPC error). */
export async function sendTracked(
  client: TelegramClient,
  request: Api.AnyRequest,
): Promise<{ msgId: bigint; result: unknown; error: { code?: number; errorMessage?: string } | undefined }> {
  const state = new RequestState(request);
  senderOf(client).addStateToQueue(state);
  const outcome = await (state.promise as Promise<unknown>).then(
    (result) => ({ result, error: undefined }),
    (error: { code?: number; errorMessage?: string }) => ({ result: undefined, error }),
  );
  return { msgId: BigInt(String(state.msgId)), ...outcome };
}

/**
 * Sends hand-made TL bytes as a request (content-related, so the server answers it with rpc_result): what a
 * client of another layer, or a broken one, would send.
 */
export function rawRequest(bytes: Buffer): Api.AnyRequest {
  return {
    CONSTRUCTOR_ID: bytes.readUInt32LE(0),
    SUBCLASS_OF_ID: 0,
    classType: "request",
    className: "RawRequest",
    getBytes: () => bytes,
    readResult: (reader: { tgReadObject(): unknown }) => reader.tgReadObject(),
  } as unknown as Api.AnyRequest;
}

/**
 * Sends msgs_state_req on the main sender and resolves with the server's msgs_state_info, its info as raw bytes.
 * gramjs would read `info` as a UTF-8 string (mangling bytes over 127) and drops the message as "not an update",
 * so for this one call the reader and a handler are swapped in.
 */
export async function msgsStateReq(
  client: TelegramClient,
  msgIds: bigint[],
  timeoutMs = 5000,
): Promise<{ reqMsgId: bigint; answeredMsgId: bigint; info: Buffer }> {
  const sender = senderOf(client);
  const ctor = String(Api.MsgsStateInfo.CONSTRUCTOR_ID);
  const originalClass = tlobjects[ctor];
  const originalHandler = sender._handlers[ctor];
  tlobjects[ctor] = {
    fromReader: (reader: { readLong(): unknown; tgReadBytes(): Buffer }) => ({
      CONSTRUCTOR_ID: Api.MsgsStateInfo.CONSTRUCTOR_ID,
      reqMsgId: reader.readLong(),
      info: reader.tgReadBytes(),
    }),
  };
  try {
    const answer = new Promise<{ reqMsgId: unknown; info: Buffer }>((resolve) => {
      sender._handlers[ctor] = (message) => resolve(message.obj as { reqMsgId: unknown; info: Buffer });
    });
    // A service message, not a request: gramjs's typings for RequestState only admit requests.
    const request = new Api.MsgsStateReq({ msgIds: msgIds.map((id) => returnBigInt(id.toString())) });
    const state = new RequestState(request as unknown as Api.AnyRequest);
    sender.addStateToQueue(state);
    const got = await withTimeout(answer, timeoutMs, "msgs_state_info");
    return {
      reqMsgId: BigInt(String(state.msgId)),
      answeredMsgId: BigInt(String(got.reqMsgId)),
      info: Buffer.from(got.info),
    };
  } finally {
    tlobjects[ctor] = originalClass;
    if (originalHandler) sender._handlers[ctor] = originalHandler;
    else delete sender._handlers[ctor];
  }
}
