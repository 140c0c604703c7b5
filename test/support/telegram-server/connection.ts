/**
 * One client TCP connection: transport framing, the plain-text auth-key exchange, then MTProto 2.0 sessions —
 * decryption and its checks, containers, gzip, acks, pings, salts, new_session_created — and the way back:
 * rpc_result / rpc_error and pushed updates, batched into containers when several wait.
 */
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { inflateSync } from "node:zlib";
import { Api } from "telegram";
import { BinaryReader } from "telegram/extensions/index.js";
import { returnBigInt } from "telegram/Helpers.js";
import { serializeBytes } from "telegram/tl/index.js";
import { authKeyId, decryptMessage, igeEncrypt, messageKeys, sha256 } from "./crypto.js";
import { WORKER_THRESHOLD } from "./decrypt-pool.js";
import { Pacer } from "./faults.js";
import { Handshake } from "./handshake.js";
import { sharePacket } from "./packet-buffers.js";
import { RpcFailure } from "./rpc-error.js";
import type { ServerCore } from "./server-core.js";
import { TransportCodec, TransportError } from "./transport.js";
import { type AuthKeyRecord, newAuthKeyRecord } from "./world.js";

const CONTAINER = 0x73f1f8dc;
const GZIP_PACKED = 0x3072cfa1;
const RPC_RESULT = 0xf35c6d01;
const MSGS_ACK = 0x62d6b459;
const MSGS_STATE_REQ = 0xda69fb52;
const MSGS_STATE_INFO = 0x04deb57d;
/** Service messages gramjs and other clients send that need no rpc_result. */
const PING = 0x7abe77ec;
const PING_DELAY_DISCONNECT = 0xf3427b8c;
const HTTP_WAIT = 0x9299359f;
/** A container holds at most about 1 MiB; bigger answers travel alone. */
const CONTAINER_LIMIT = 1024 * 1024 - 1024;
/** Client msg_ids more than this far from our clock are refused (bad_msg_notification 16/17), as Telegram does. */
const MSG_ID_WINDOW_PAST = 300;
const MSG_ID_WINDOW_FUTURE = 30;
/** Client msg_ids a session remembers, for resends and msgs_state_req; older ones count as forgotten. */
const REMEMBERED_MSG_IDS = 4096;

/**
 * One byte per msg_id in msgs_state_info (core.telegram.org/mtproto/service_messages_about_messages): a state
 * 1..4, plus flags for a received message.
 */
export const MsgState = {
  /** Nothing known: msg_id too low, forgotten or never part of this session. */
  unknown: 1,
  /** Within the range of stored msg_ids, certainly not received. */
  notReceived: 2,
  /** Higher than any received msg_id: not received yet. */
  notReceivedYet: 3,
  received: 4,
  acknowledged: 8,
  noAckNeeded: 16,
  /** An RPC query, being processed or done. */
  query: 32,
  /** Its answer has been generated. */
  answered: 64,
  /** The client acknowledged our answer: it knows the message arrived. */
  answerReceived: 128,
} as const;

interface DecryptSlot {
  key: AuthKeyRecord;
  plain: Buffer | undefined;
  error: Error | undefined;
}

interface Outgoing {
  body: Buffer;
  contentRelated: boolean;
  /** The client msg_id this answers (rpc_result, pong): it is acknowledged and answered once sent. */
  answers?: bigint;
  /** Client msg_ids a msgs_ack acknowledges. */
  acks?: bigint[];
}

export interface Session {
  id: Buffer;
  conn: Connection;
  seq: number;
  queue: Outgoing[];
  flushScheduled: boolean;
  /** What the session knows about each client msg_id it received (MsgState flags), oldest first. */
  known: Map<bigint, number>;
  /** The first client msg_id of the session, and the highest forgotten one: below either is "unknown". */
  firstMsgId: bigint;
  forgottenUpTo: bigint;
  highestMsgId: bigint;
  /** Our answers' msg_ids → the client msg_id each answers, until the client acknowledges the answer. */
  answerIds: Map<bigint, bigint>;
  /** Content-related client messages to acknowledge with the next batch (msgs_ack). */
  acks: bigint[];
}

export class Connection {
  readonly id: number;
  readonly codec = new TransportCodec();
  authKey: AuthKeyRecord | undefined;
  readonly sessions = new Map<string, Session>();
  readonly openedAt = Date.now();
  closed = false;
  private handshake: Handshake | undefined;
  private readonly decrypting: DecryptSlot[] = [];
  private lastMsgId = 0n;
  private bytesIn = 0;
  private readonly dropAfter: number | undefined;
  private readonly inPacer: Pacer;
  private readonly outPacer: Pacer;

  constructor(
    private readonly core: ServerCore,
    readonly socket: Socket,
    id: number,
  ) {
    this.id = id;
    this.dropAfter = core.faults.dropPointForNewConnection();
    const conditions = () => core.faults.conditions;
    this.inPacer = new Pacer(
      conditions,
      (chunk) => this.onBytes(chunk),
      (high) => (high ? socket.pause() : socket.resume()),
    );
    this.outPacer = new Pacer(conditions, (chunk) => {
      if (!socket.destroyed) socket.write(chunk);
    });
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      core.counters.bytesIn += chunk.length;
      this.inPacer.push(chunk);
    });
    socket.on("error", () => undefined);
    socket.on("close", () => this.close());
  }

  get userId(): number | undefined {
    return this.authKey?.userId;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.inPacer.close();
    this.outPacer.close();
    this.socket.destroy();
    this.core.onConnectionClosed(this);
  }

  private onBytes(chunk: Buffer): void {
    if (this.closed) return;
    this.bytesIn += chunk.length;
    if (this.dropAfter !== undefined && this.bytesIn >= this.dropAfter) {
      this.core.faults.dropped++;
      this.core.log(`connection ${this.id}: dropped after ${this.bytesIn} bytes (fault)`);
      this.close();
      return;
    }
    let packets: Buffer[];
    try {
      packets = this.codec.push(chunk);
    } catch (e) {
      if (e instanceof TransportError) this.core.log(`connection ${this.id}: transport error: ${e.message}`);
      this.close();
      return;
    }
    for (const p of packets) {
      try {
        this.onPacket(p);
      } catch (e) {
        this.core.log(`connection ${this.id}: ${(e as Error).stack ?? e}`);
        this.close();
        return;
      }
    }
  }

  private writePacket(payload: Buffer): void {
    if (this.closed) return;
    for (const part of this.codec.encode(payload)) {
      this.core.counters.bytesOut += part.length;
      this.outPacer.push(part);
    }
  }

  /** Server msg_ids: time-based, increasing, ≡ 1 (mod 4) for answers and 3 for notifications. */
  private nextMsgId(answer: boolean): bigint {
    const nowMs = Date.now();
    let id = (BigInt(Math.floor(nowMs / 1000)) << 32n) | (BigInt(nowMs % 1000) << 22n);
    if (id <= this.lastMsgId) id = this.lastMsgId + 4n;
    id = (id & ~3n) | (answer ? 1n : 3n);
    this.lastMsgId = id;
    return id;
  }

  private onPacket(packet: Buffer): void {
    if (packet.length === 4) return; // a transport-level error code from the client: nothing to do
    if (packet.length < 24) throw new Error(`packet of ${packet.length} bytes`);
    const keyId = packet.readBigInt64LE(0);
    if (keyId === 0n) {
      void this.onPlain(packet).catch((e) => {
        this.core.log(`connection ${this.id}: auth-key exchange failed: ${(e as Error).message}`);
        this.close();
      });
      return;
    }
    const key = this.core.world.authKeys.get(keyId.toString());
    if (!key || (this.authKey && this.authKey !== key)) {
      // Transport error -404: gramjs then drops the key and makes a new one.
      const err = Buffer.alloc(4);
      err.writeInt32LE(-404, 0);
      this.writePacket(err);
      return;
    }
    this.authKey = key;
    this.onEncrypted(key, packet);
  }

  private async onPlain(packet: Buffer): Promise<void> {
    const len = packet.readInt32LE(16);
    const request = new BinaryReader(packet.subarray(20, 20 + len)).tgReadObject();
    this.handshake ??= new Handshake(this.core.rsa, () => this.core.faults.takeBadNonceHash());
    const { answer, authKey } = await this.handshake.handle(request);
    if (authKey) {
      const id = authKeyId(authKey.key);
      this.core.world.authKeys.set(id, newAuthKeyRecord(id, authKey.key, authKey.salt));
      this.handshake = undefined;
      this.core.counters.handshakes++;
    }
    const body = answer.getBytes();
    const head = Buffer.alloc(20);
    head.writeBigInt64LE(this.nextMsgId(true), 8);
    head.writeInt32LE(body.length, 16);
    this.writePacket(Buffer.concat([head, body]));
  }

  /**
   * Big packets are decrypted by worker threads; results are handled strictly in arrival order, so sessions,
   * salts and acks see the stream as the client sent it.
   */
  private onEncrypted(key: AuthKeyRecord, packet: Buffer): void {
    const slot: DecryptSlot = { key, plain: undefined, error: undefined };
    this.decrypting.push(slot);
    const pool = this.core.decryptPool;
    if (pool && packet.length >= WORKER_THRESHOLD) {
      pool.decrypt(key.key, packet).then(
        (plain) => {
          slot.plain = plain;
          this.drainDecrypted();
        },
        (e: Error) => {
          slot.error = e;
          this.drainDecrypted();
        },
      );
      return;
    }
    try {
      slot.plain = decryptMessage(key.key, packet);
    } catch (e) {
      slot.error = e as Error;
    }
    this.drainDecrypted();
  }

  private drainDecrypted(): void {
    while (this.decrypting.length > 0 && !this.closed) {
      const head = this.decrypting[0]!;
      if (!head.plain && !head.error) return;
      this.decrypting.shift();
      try {
        if (head.error) throw head.error;
        this.onPlaintext(head.key, head.plain!);
      } catch (e) {
        this.core.log(`connection ${this.id}: ${(e as Error).message}`);
        this.close();
        return;
      }
    }
  }

  private onPlaintext(key: AuthKeyRecord, plain: Buffer): void {
    const salt = plain.readBigInt64LE(0);
    const sessionId = plain.subarray(8, 16);
    const msgId = plain.readBigInt64LE(16);
    const seqNo = plain.readInt32LE(24);
    const length = plain.readInt32LE(28);
    if (length < 0 || 32 + length > plain.length || plain.length - 32 - length < 12) {
      throw new Error("bad message length or padding");
    }
    const body = plain.subarray(32, 32 + length);
    // A container's messages share this memory: none of them may hand it back for reuse (packet-buffers.ts).
    if (body.readUInt32LE(0) === CONTAINER) sharePacket(plain);
    const sessionKey = sessionId.toString("hex");
    let session = this.sessions.get(sessionKey);
    const tmp: Session = session ?? this.newSession(Buffer.from(sessionId));
    const seconds = Number(msgId >> 32n);
    const nowS = Date.now() / 1000;
    if (seconds < nowS - MSG_ID_WINDOW_PAST || seconds > nowS + MSG_ID_WINDOW_FUTURE || (msgId & 3n) !== 0n) {
      const code = (msgId & 3n) !== 0n ? 18 : seconds < nowS ? 16 : 17;
      this.send(
        tmp,
        new Api.BadMsgNotification({
          badMsgId: returnBigInt(msgId),
          badMsgSeqno: seqNo,
          errorCode: code,
        }).getBytes(),
        false,
      );
      return;
    }
    if (salt !== key.salt) {
      this.send(
        tmp,
        new Api.BadServerSalt({
          badMsgId: returnBigInt(msgId),
          badMsgSeqno: seqNo,
          errorCode: 48,
          newServerSalt: returnBigInt(key.salt),
        }).getBytes(),
        false,
      );
      return;
    }
    if (!session) {
      session = tmp;
      this.sessions.set(sessionKey, session);
      this.core.onSession(this, session);
      this.send(
        session,
        new Api.NewSessionCreated({
          firstMsgId: returnBigInt(msgId),
          uniqueId: returnBigInt(randomBytes(8).readBigInt64LE(0)),
          serverSalt: returnBigInt(key.salt),
        }).getBytes(),
        false,
      );
    }
    this.onMessage(session, msgId, seqNo, body);
  }

  private newSession(id: Buffer): Session {
    return {
      id,
      conn: this,
      seq: 0,
      queue: [],
      flushScheduled: false,
      known: new Map(),
      firstMsgId: 0n,
      forgottenUpTo: 0n,
      highestMsgId: 0n,
      answerIds: new Map(),
      acks: [],
    };
  }

  private onMessage(session: Session, msgId: bigint, seqNo: number, body: Buffer): void {
    if (session.known.has(msgId)) return; // a resend of something already handled
    this.remember(session, msgId, MsgState.received | (seqNo % 2 === 1 ? 0 : MsgState.noAckNeeded));
    this.onBody(session, msgId, seqNo, body);
  }

  private remember(session: Session, msgId: bigint, state: number): void {
    if (session.firstMsgId === 0n || msgId < session.firstMsgId) session.firstMsgId = msgId;
    if (msgId > session.highestMsgId) session.highestMsgId = msgId;
    session.known.set(msgId, state);
    if (session.known.size > REMEMBERED_MSG_IDS) {
      const oldest = session.known.keys().next().value!;
      session.known.delete(oldest);
      if (oldest > session.forgottenUpTo) session.forgottenUpTo = oldest;
    }
  }

  private mark(session: Session, msgId: bigint, flags: number): void {
    const state = session.known.get(msgId);
    if (state !== undefined) session.known.set(msgId, state | flags);
  }

  /** The msgs_state_info byte for one client msg_id, from what this session knows. */
  private msgState(session: Session, msgId: bigint): number {
    const known = session.known.get(msgId);
    if (known !== undefined) return known;
    if (msgId > session.highestMsgId) return MsgState.notReceivedYet;
    const seconds = Number(msgId >> 32n);
    if (
      msgId < session.firstMsgId ||
      msgId <= session.forgottenUpTo ||
      seconds < Date.now() / 1000 - MSG_ID_WINDOW_PAST
    ) {
      return MsgState.unknown;
    }
    return MsgState.notReceived;
  }

  private onBody(session: Session, msgId: bigint, seqNo: number, body: Buffer): void {
    const ctor = body.readUInt32LE(0);
    switch (ctor) {
      case CONTAINER: {
        const count = body.readInt32LE(4);
        let off = 8;
        for (let i = 0; i < count; i++) {
          const innerId = body.readBigInt64LE(off);
          const innerSeq = body.readInt32LE(off + 8);
          const len = body.readInt32LE(off + 12);
          this.onMessage(session, innerId, innerSeq, body.subarray(off + 16, off + 16 + len));
          off += 16 + len;
        }
        return;
      }
      case GZIP_PACKED: {
        const packed = new BinaryReader(body.subarray(4)).tgReadBytes();
        this.onBody(session, msgId, seqNo, inflateSync(packed));
        return;
      }
      case MSGS_ACK: {
        // The client has our answers: their requests become "answer received" for msgs_state_req.
        for (const id of readLongVector(body, 4)) {
          const request = session.answerIds.get(id);
          if (request === undefined) continue;
          session.answerIds.delete(id);
          this.mark(session, request, MsgState.answerReceived);
        }
        return;
      }
      case MSGS_STATE_REQ: {
        // A service message answered by msgs_state_info itself, not inside rpc_result.
        const info = Buffer.from(readLongVector(body, 4).map((id) => this.msgState(session, id)));
        const head = Buffer.alloc(12);
        head.writeUInt32LE(MSGS_STATE_INFO, 0);
        head.writeBigInt64LE(msgId, 4);
        this.send(session, Buffer.concat([head, serializeBytes(info)]), false);
        return;
      }
      case PING:
      case PING_DELAY_DISCONNECT: {
        // Answered with a top-level pong, not inside rpc_result.
        const pingId = body.readBigInt64LE(4);
        this.mark(session, msgId, MsgState.query);
        this.send(
          session,
          new Api.Pong({ msgId: returnBigInt(msgId), pingId: returnBigInt(pingId) }).getBytes(),
          true,
          msgId,
        );
        return;
      }
      case HTTP_WAIT:
        return;
    }
    // Odd seqno = content-related: acknowledged, as Telegram does, with the next batch going back.
    if (seqNo % 2 === 1) session.acks.push(msgId);
    this.mark(session, msgId, MsgState.query);
    let request: unknown;
    try {
      request = new BinaryReader(body).tgReadObject();
    } catch (e) {
      this.answer(session, msgId, this.core.undecodable(this, body, e));
      return;
    }
    if (request instanceof Api.GetFutureSalts) {
      const nowS = Math.floor(Date.now() / 1000);
      const salts = Buffer.alloc(4 + 8 + 4 + 4 + 4 + 16);
      // future_salts#ae500895 req_msg_id:long now:int salts:vector<future_salt>: by hand, because the schema says
      // bare vector of bare future_salt and gramjs's Api.FutureSalts would box each salt.
      salts.writeUInt32LE(0xae500895, 0);
      salts.writeBigInt64LE(msgId, 4);
      salts.writeInt32LE(nowS, 12);
      salts.writeInt32LE(1, 16);
      salts.writeInt32LE(nowS, 20);
      salts.writeInt32LE(nowS + 3600, 24);
      salts.writeBigInt64LE(session.conn.authKey!.salt, 28);
      this.send(session, salts.subarray(0, 36), true, msgId);
      return;
    }
    if (request instanceof Api.DestroySession) {
      this.send(session, new Api.DestroySessionOk({ sessionId: request.sessionId }).getBytes(), true, msgId);
      return;
    }
    this.core
      .call(this, session, request)
      .then((result) => this.answer(session, msgId, result))
      .catch((e) => this.answer(session, msgId, e));
  }

  private answer(session: Session, reqMsgId: bigint, result: unknown): void {
    let payload: Buffer;
    if (result instanceof RpcFailure) {
      payload = new Api.RpcError({ errorCode: result.code, errorMessage: result.errorMessage }).getBytes();
    } else if (result instanceof Error) {
      this.core.log(`connection ${this.id}: internal error: ${result.stack}`);
      payload = new Api.RpcError({ errorCode: 500, errorMessage: "INTERNAL_SERVER_ERROR" }).getBytes();
    } else payload = encodeResult(result);
    const head = Buffer.alloc(12);
    head.writeUInt32LE(RPC_RESULT, 0);
    head.writeBigInt64LE(reqMsgId, 4);
    this.send(session, Buffer.concat([head, payload]), true, reqMsgId);
  }

  /**
   * Queues a message for the session; everything queued in one tick leaves in one container. `answers` is the
   * client msg_id this message answers.
   */
  send(session: Session, body: Buffer, contentRelated: boolean, answers?: bigint): void {
    if (this.closed) return;
    session.queue.push({ body, contentRelated, answers });
    if (session.flushScheduled) return;
    session.flushScheduled = true;
    setImmediate(() => this.flush(session));
  }

  private flush(session: Session): void {
    session.flushScheduled = false;
    if (session.acks.length > 0) {
      const acks = session.acks.splice(0);
      const msgIds = acks.map((id) => returnBigInt(id));
      session.queue.unshift({ body: new Api.MsgsAck({ msgIds }).getBytes(), contentRelated: false, acks });
    }
    while (session.queue.length > 0 && !this.closed) {
      const batch: Outgoing[] = [];
      let size = 0;
      while (session.queue.length > 0) {
        const next = session.queue[0]!;
        if (batch.length > 0 && size + next.body.length + 16 > CONTAINER_LIMIT) break;
        batch.push(session.queue.shift()!);
        size += next.body.length + 16;
      }
      if (batch.length === 1) {
        const m = batch[0]!;
        this.sendEncrypted(session, this.envelope(session, m));
      } else {
        const inner = batch.map((m) => this.envelope(session, m));
        const head = Buffer.alloc(8);
        head.writeUInt32LE(CONTAINER, 0);
        head.writeInt32LE(inner.length, 4);
        const body = Buffer.concat([head, ...inner]);
        this.sendEncrypted(session, this.envelope(session, { body, contentRelated: false }));
      }
    }
  }

  /** msg_id, seqno, length, body; notes what the message acknowledges and answers. */
  private envelope(session: Session, m: Outgoing): Buffer {
    const msgId = this.nextMsgId(m.contentRelated);
    for (const id of m.acks ?? []) this.mark(session, id, MsgState.acknowledged);
    if (m.answers !== undefined) {
      this.mark(session, m.answers, MsgState.acknowledged | MsgState.answered);
      session.answerIds.set(msgId, m.answers);
      if (session.answerIds.size > REMEMBERED_MSG_IDS) {
        session.answerIds.delete(session.answerIds.keys().next().value!);
      }
    }
    const head = Buffer.alloc(16);
    head.writeBigInt64LE(msgId, 0);
    head.writeInt32LE(m.contentRelated ? session.seq++ * 2 + 1 : session.seq * 2, 8);
    head.writeInt32LE(m.body.length, 12);
    return Buffer.concat([head, m.body]);
  }

  private sendEncrypted(session: Session, message: Buffer): void {
    const key = this.authKey!;
    const head = Buffer.alloc(16);
    head.writeBigInt64LE(key.salt, 0);
    session.id.copy(head, 8);
    const unpadded = 16 + message.length;
    const padding = randomBytes(12 + ((16 - ((unpadded + 12) % 16)) % 16));
    const plain = Buffer.concat([head, message, padding]);
    const msgKey = sha256(key.key.subarray(96, 128), plain).subarray(8, 24);
    const { key: aesKey, iv } = messageKeys(key.key, msgKey, 8);
    const keyIdBytes = Buffer.alloc(8);
    keyIdBytes.writeBigInt64LE(BigInt(key.id), 0);
    this.writePacket(Buffer.concat([keyIdBytes, msgKey, igeEncrypt(plain, aesKey, iv)]));
  }
}

/** A bare Vector<long> (boxed with 0x1cb5c415) at `offset`, as msgs_ack and msgs_state_req carry it. */
function readLongVector(body: Buffer, offset: number): bigint[] {
  const count = body.readInt32LE(offset + 4);
  if (count < 0 || offset + 8 + count * 8 > body.length) throw new Error(`bad vector of ${count} longs`);
  return Array.from({ length: count }, (_, i) => body.readBigInt64LE(offset + 8 + i * 8));
}

/** TL results: objects serialise themselves; vectors and Bool are written by hand, as gramjs reads them. */
export function encodeResult(result: unknown): Buffer {
  if (Buffer.isBuffer(result)) return result;
  if (result === true || result === false) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(result ? 0x997275b5 : 0xbc799737, 0);
    return b;
  }
  if (Array.isArray(result)) {
    const head = Buffer.alloc(8);
    head.writeUInt32LE(0x1cb5c415, 0);
    head.writeInt32LE(result.length, 4);
    return Buffer.concat([head, ...result.map(encodeResult)]);
  }
  if (result && typeof (result as { getBytes?: unknown }).getBytes === "function") {
    return (result as { getBytes(): Buffer }).getBytes();
  }
  throw new Error(`cannot encode result ${String(result)}`);
}
