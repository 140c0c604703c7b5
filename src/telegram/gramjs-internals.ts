/**
 * Every place Medusa reaches past gramjs's public API: private fields, replaced prototype methods and replaced
 * module exports. Each was read in gramjs (npm `telegram`) GRAMJS_VERSION; `checkGramjsVersion` refuses any other
 * version at start, so an upgrade means re-reading each entry below against the new release.
 * The replacement implementations live in fast-crypto.ts, lean-transport.ts and whole-containers.ts; they are
 * assigned here.
 */
// gramjs's modules import each other in a cycle that only resolves when the package index loads first.
import "telegram";
import type { TelegramClient } from "telegram";
// Default imports of CommonJS modules are their `module.exports` objects (in Node and in the single binary's
// bundle alike), so the assignments below change what gramjs itself reads; named imports would be copies.
import igeExports from "telegram/crypto/IGE.js";
import rsaExports from "telegram/crypto/RSA.js";
import packerExports from "telegram/extensions/MessagePacker.js";
import helpersExports from "telegram/Helpers.js";
import tcpFullExports from "telegram/network/connection/TCPFull.js";
import senderExports from "telegram/network/MTProtoSender.js";
import stateExports from "telegram/network/MTProtoState.js";
import gramjsPackage from "telegram/package.json" with { type: "json" };
import gzipExports from "telegram/tl/core/GZIPPacked.js";
import containerExports from "telegram/tl/core/MessageContainer.js";
import { UserError } from "../errors.js";

/** The gramjs release every access below was read in; package.json pins exactly this one. */
export const GRAMJS_VERSION = "2.26.22";

// ---- version ----

/**
 * The installed gramjs's version, from its package.json. Not gramjs's exported `version`: 2.26.22 still
 * exports "2.26.21" there.
 */
export function installedGramjsVersion(): string {
  return (gramjsPackage as { version: string }).version;
}

/** Throws when `found` is not the version this module was written against. */
export function checkGramjsVersion(found: string): void {
  if (found === GRAMJS_VERSION) return;
  throw new UserError(
    "GRAMJS_VERSION",
    `gramjs (npm package "telegram") ${found} is installed, but Medusa needs exactly ${GRAMJS_VERSION}: ` +
      "it replaces parts of gramjs read in that version.",
    { hint: "Run `npm ci` in Medusa's folder to install the versions in package-lock.json." },
  );
}

// ---- shapes of gramjs internals (2.26.22) ----

/** big-integer values as gramjs passes them around; only handed back to gramjs's own helpers. */
export type BigIntLike = unknown;

export interface AuthKeyLike {
  waitForKey(): Promise<void>;
  getKey(): Buffer | undefined;
  keyId: BigIntLike | undefined;
}

/** MTProtoState: what lean-transport's encryptMessageData reads on `this`. */
export interface StateLike {
  authKey: AuthKeyLike | undefined;
  salt: BigIntLike;
  id: BigIntLike;
}

/** FullPacketCodec: what lean-transport's encodePacket reads and writes on `this`. */
export interface CodecLike {
  _sendCounter: number;
}

export interface RequestStateLike {
  data: Buffer;
  request: { className?: string; classType?: string; constructor: { name: string } };
  after?: { msgId?: BigIntLike };
  msgId?: BigIntLike;
  containerId?: BigIntLike;
  promise: { reject(reason: unknown): void };
}

/** MessagePacker: what lean-transport's get reads on `this` (its queue, its state, its logger). */
export interface PackerLike {
  _queue: (RequestStateLike | undefined)[];
  _state: StateLike & {
    writeDataAsMessage(
      writer: { write(buffer: Buffer): void },
      data: Buffer,
      contentRelated: boolean,
      afterId?: BigIntLike,
    ): Promise<BigIntLike>;
    _getNewMsgId(): BigIntLike;
    _getSeqNo(contentRelated: boolean): number;
  };
  _log: { warn(message: string): void };
}

/** A batch as the packer hands it to encryption: a Buffer in gramjs, pieces from lean-transport's packer. */
export type PackedData = Buffer | { readonly pieces: readonly Buffer[]; readonly length: number };

export type PackerGet = (
  this: PackerLike,
) => Promise<{ batch: RequestStateLike[]; data: PackedData } | null | undefined>;
export type GzipIfSmaller = (contentRelated: boolean, data: Buffer) => Promise<Buffer>;
export type EncryptMessageData = (this: StateLike, data: PackedData) => Promise<Buffer>;
export type EncodePacket = (this: CodecLike, data: Buffer) => Buffer;

export interface IgeInstance {
  encryptIge(plainText: Buffer): Buffer;
  decryptIge(cipherText: Buffer): Buffer;
}
export type IgeClass = new (key: Buffer, iv: Buffer) => IgeInstance;
export type Crc32 = (data: Buffer | Uint8Array) => number;

/** gramjs's helpers lean-transport uses (public functions, read through the module like gramjs does). */
export interface GramjsHelpers {
  toSignedLittleBuffer(value: BigIntLike, bytes: number): Buffer;
  readBufferFromBigInt(value: BigIntLike, bytes: number): Buffer;
  generateRandomBytes(count: number): Buffer;
  returnBigInt(value: bigint): BigIntLike;
  crc32: Crc32;
}

// ---- gramjs's modules ----

const igeModule = igeExports as unknown as { IGE: IgeClass };
const helpersModule = helpersExports as unknown as GramjsHelpers;
const rsaModule = rsaExports as unknown as {
  _serverKeys: Map<string, { n: BigIntLike; e: number }>;
};
const gzipModule = gzipExports as unknown as {
  GZIPPacked: { gzipIfSmaller: GzipIfSmaller };
};
const stateModule = stateExports as unknown as {
  MTProtoState: { prototype: { encryptMessageData: EncryptMessageData } };
};
const tcpFullModule = tcpFullExports as unknown as {
  FullPacketCodec: { prototype: { encodePacket: EncodePacket } };
};
const packerModule = packerExports as unknown as {
  MessagePacker: { prototype: { get: PackerGet } };
};
const containerModule = containerExports as unknown as {
  MessageContainer: { CONSTRUCTOR_ID: number; MAXIMUM_SIZE: number; MAXIMUM_LENGTH: number };
};
const senderModule = senderExports as unknown as {
  MTProtoSender: (new (
    authKey: unknown,
    options: Record<string, unknown>,
  ) => SenderInternals) & { prototype: { _processMessage: ProcessMessage } };
};

/** gramjs's Helpers module itself: lean-transport calls through it so that replacements (and tests) apply. */
export const gramjsHelpers: GramjsHelpers = helpersModule;
/** msg_container limits and constructor id, used by lean-transport's packer exactly as gramjs's packer does. */
export const messageContainer = containerModule.MessageContainer;

// ---- fast-crypto.ts: replaced module exports ----

/** gramjs's own AES-IGE and CRC32: kept to compare against in tests and to put back. */
export const stockIge: IgeClass = igeModule.IGE;
export const stockCrc32: Crc32 = helpersModule.crc32;

/**
 * fast-crypto.ts: MTProtoState, Authenticator and TCPFull read `require("telegram/crypto/IGE").IGE` and
 * `require("telegram/Helpers").crc32` at each call, so replacing the two exports reaches every connection.
 */
export function setCrypto(ige: IgeClass, crc32: Crc32): void {
  igeModule.IGE = ige;
  helpersModule.crc32 = crc32;
}

/** The AES-IGE class gramjs will use for its next message (lean-transport picks its path by it). */
export function currentIge(): IgeClass {
  return igeModule.IGE;
}

export function currentCrc32(): Crc32 {
  return helpersModule.crc32;
}

// ---- lean-transport.ts: replaced prototype methods ----

export interface TransportFunctions {
  packerGet: PackerGet;
  gzipIfSmaller: GzipIfSmaller;
  encryptMessageData: EncryptMessageData;
  encodePacket: EncodePacket;
}

/** gramjs's own send path: the lean transport's byte-identity tests compare against it. */
export const stockTransport: Readonly<TransportFunctions> = Object.freeze({
  packerGet: packerModule.MessagePacker.prototype.get,
  gzipIfSmaller: gzipModule.GZIPPacked.gzipIfSmaller,
  encryptMessageData: stateModule.MTProtoState.prototype.encryptMessageData,
  encodePacket: tcpFullModule.FullPacketCodec.prototype.encodePacket,
});

/**
 * lean-transport.ts: MTProtoSender's send loop calls its packer's `get`, its state's `encryptMessageData` and its
 * codec's `encodePacket` through the prototypes, and MessagePacker calls the static `GZIPPacked.gzipIfSmaller`,
 * so these four assignments reach every connection, existing ones included.
 */
export function setTransport(functions: TransportFunctions): void {
  packerModule.MessagePacker.prototype.get = functions.packerGet;
  gzipModule.GZIPPacked.gzipIfSmaller = functions.gzipIfSmaller;
  stateModule.MTProtoState.prototype.encryptMessageData = functions.encryptMessageData;
  tcpFullModule.FullPacketCodec.prototype.encodePacket = functions.encodePacket;
}

export function currentTransport(): TransportFunctions {
  return {
    packerGet: packerModule.MessagePacker.prototype.get,
    gzipIfSmaller: gzipModule.GZIPPacked.gzipIfSmaller,
    encryptMessageData: stateModule.MTProtoState.prototype.encryptMessageData,
    encodePacket: tcpFullModule.FullPacketCodec.prototype.encodePacket,
  };
}

/**
 * How often each replacement ran in this process, by path. Process-wide like the replacements themselves; read
 * before and after to show that gramjs really went through them (the start-up test compares them with what the
 * local server received).
 */
export const patchUsage = {
  /** Batches the lean packer handed to encryption. */
  packedBatches: 0,
  /** Messages the lean encryptMessageData encrypted, by the AES-IGE it found installed. */
  encrypted: { native: 0, wasm: 0, gramjs: 0 },
  /** TCP packets the lean encodePacket framed, and their bytes on the wire. */
  framedPackets: 0,
  framedBytes: 0,
  /** CRC32s computed by zlib (both directions) and the bytes they covered. */
  crc32Calls: 0,
  crc32Bytes: 0,
  /** Messages decrypted by our AES-IGE classes. */
  igeDecryptions: 0,
};

// ---- connect.ts: the RSA keys gramjs accepts ----

/** connect.ts registerServerKey: gramjs matches the server's key fingerprint against this process-wide map. */
export function addServerKey(fingerprint: string, n: bigint, e: number): void {
  rsaModule._serverKeys.set(fingerprint, { n: helpersModule.returnBigInt(n), e });
}

// ---- send.ts: the main connection's sender ----

export interface MainSender {
  send(request: unknown): Promise<unknown>;
}

/** send.ts: invokes on the main connection without `client.invoke`'s retries of 500s; undefined when offline. */
export function mainSender(client: TelegramClient): MainSender | undefined {
  return (client as unknown as { _sender?: MainSender })._sender;
}

// ---- connect.ts disconnectClient: senders gramjs leaves behind ----

interface ExportedSenders {
  _exportedSenderPromises: Map<number, Promise<{ disconnect(): Promise<void> } | undefined>>;
  _exportedSenderReleaseTimeouts: Map<number, NodeJS.Timeout>;
}

/**
 * connect.ts disconnectClient: gramjs's disconnect() walks these Maps with Object.values (finding nothing), so
 * extra senders stay connected and their 30 s release timers keep the process alive. This closes them.
 */
export async function closeExportedSenders(client: TelegramClient): Promise<void> {
  const c = client as unknown as ExportedSenders;
  for (const timer of c._exportedSenderReleaseTimeouts.values()) clearTimeout(timer);
  c._exportedSenderReleaseTimeouts.clear();
  const senders = await Promise.allSettled([...c._exportedSenderPromises.values()]);
  c._exportedSenderPromises.clear();
  await Promise.allSettled(
    senders.map((s) => (s.status === "fulfilled" && s.value ? s.value.disconnect() : undefined)),
  );
}

// ---- upload-connection.ts: senders of our own ----

/** The client's fields an extra sender is built from (telegramBaseClient.js). */
interface ClientInternals {
  session: { getAuthKey(dcId: number): { getKey(): Buffer | undefined } | undefined };
  _log: unknown;
  _connection: new (options: Record<string, unknown>) => unknown;
  _proxy?: unknown;
  testServers: boolean;
  networkSocket: unknown;
  _securityChecks: boolean;
  getDC(dcId: number, download?: boolean): Promise<{ ipAddress: string; port: number }>;
}

/** MTProtoSender's members we call or replace (MTProtoSender.js). */
/** MTProtoState's fields that a new session on the same auth key may take from a live one. */
interface SenderState {
  salt: unknown;
  timeOffset: number;
}

interface SenderInternals {
  _state: SenderState;
  connect(connection: unknown, force?: boolean): Promise<boolean>;
  disconnect(): Promise<void>;
  send(request: unknown): Promise<unknown>;
  reconnect: () => void;
  _reconnect: () => Promise<void>;
  userDisconnected: boolean;
}

/** An MTProto connection of our own on the client's auth key, with gramjs's reconnect replaced by `onBreak`. */
export interface ExtraSender {
  /** Opens the TCP connection; false when gramjs gave up. */
  connect(): Promise<boolean>;
  send(request: unknown): Promise<unknown>;
  /** Disconnects so that nothing, gramjs's reconnect included, can bring it back. Safe to call twice. */
  disarm(): Promise<void>;
}

export interface ExtraSenderOptions {
  /** gramjs's own connect attempts (the caller retries around them). */
  connectAttempts: number;
  connectTimeoutMs: number;
  /** Called instead of gramjs's reconnect when the server closes the connection. */
  onBreak(): void;
}

/**
 * upload-connection.ts: builds an MTProtoSender the way the client builds its exported senders, from the client's
 * logger, connection class, proxy and socket class, but keeps it out of the client's maps so that we own it.
 */
export async function createExtraSender(
  client: TelegramClient,
  dcId: number,
  options: ExtraSenderOptions,
): Promise<ExtraSender> {
  const c = client as unknown as ClientInternals;
  const authKey = c.session.getAuthKey(dcId);
  if (!authKey?.getKey()) {
    throw new Error(`Expected the client to hold an auth key for DC ${dcId}, got none (log in first)`);
  }
  const dc = await c.getDC(dcId, false);
  const sender = new senderModule.MTProtoSender(authKey, {
    logger: c._log,
    dcId,
    retries: options.connectAttempts,
    delay: 0,
    autoReconnect: true,
    connectTimeout: options.connectTimeoutMs / 1000,
    authKeyCallback: undefined,
    isMainSender: false, // else a drop here would make gramjs reconnect the client's own exported senders
    onConnectionBreak: undefined,
    client,
    securityChecks: c._securityChecks,
    _exportedSenderPromises: new Map(),
    reconnectRetries: 0,
  });
  sender.reconnect = options.onBreak;
  sender._reconnect = async () => {};
  // A server salt belongs to the auth key, not the session: without the main sender's, the first request on this
  // connection (a whole 512 KiB part) is answered bad_server_salt and sent again. A stale one is corrected as then.
  const main = (client as unknown as { _sender?: Partial<SenderInternals> })._sender?._state;
  if (main && String(main.salt) !== "0") {
    sender._state.salt = main.salt;
    sender._state.timeOffset = main.timeOffset;
  }
  const connection = new c._connection({
    ip: dc.ipAddress,
    port: dc.port,
    dcId,
    loggers: c._log,
    proxy: c._proxy,
    testServers: c.testServers,
    socket: c.networkSocket,
  });
  return {
    connect: () => sender.connect(connection, false),
    send: (request) => sender.send(request),
    disarm: () => disarm(sender),
  };
}

async function disarm(sender: SenderInternals): Promise<void> {
  sender.reconnect = () => {};
  sender._reconnect = async () => {};
  sender.userDisconnected = true;
  try {
    await sender.disconnect();
  } catch {
    // Already closed by the peer: nothing left to release.
  }
}

// ---- whole-containers.ts: a replaced prototype method ----

/** A message as MTProtoSender's receive loop hands it on (core/TLMessage): a container's `obj` holds more. */
export interface ReceivedMessage {
  msgId: BigIntLike;
  obj: unknown;
}

/** What whole-containers.ts's _processMessage reads on `this` (MTProtoSender.js). */
export interface ReceivingSender {
  _pendingAck: Set<BigIntLike>;
  _processMessage(message: ReceivedMessage): Promise<void>;
}

export type ProcessMessage = (this: ReceivingSender, message: ReceivedMessage) => Promise<void>;

/** gramjs's own: kept to delegate to and to put back. */
export const stockProcessMessage: ProcessMessage = senderModule.MTProtoSender.prototype._processMessage;

/**
 * whole-containers.ts: the receive loop, the container handler and the gzip handler all call `_processMessage`
 * through `this`, so replacing it on the prototype reaches every sender, those that exist already included
 * (unlike the handlers, which each sender binds when it is built).
 */
export function setProcessMessage(processMessage: ProcessMessage): void {
  senderModule.MTProtoSender.prototype._processMessage = processMessage;
}

export function currentProcessMessage(): ProcessMessage {
  return senderModule.MTProtoSender.prototype._processMessage;
}

// ---- updates ----

/**
 * bot-gateway.ts: gramjs splits each Updates container and hands its Raw handlers the inner updates one by one,
 * with the container's users and chats in `_entities` (client/updates.js `_processUpdate`). The update box needs
 * them to remember access hashes and senders.
 */
export function updateEntities(update: unknown): Iterable<unknown> {
  const map = (update as { _entities?: Map<string, unknown> })._entities;
  return map?.values() ?? [];
}
