/**
 * What every connection shares: the world, the uploads, faults and counters; the RPC entry point (unwrapping
 * invokeWithLayer / initConnection, enforcing authorisation and injected faults) and update delivery to each
 * user's connections.
 */
import { Api } from "telegram";
import { LAYER } from "telegram/tl/AllTLObjects.js";
import type { Connection, Session } from "./connection.js";
import type { ServerRsaKey } from "./crypto.js";
import type { DecryptPool } from "./decrypt-pool.js";
import type { Faults } from "./faults.js";
import { LoginCodes } from "./login-codes.js";
import { type CallContext, METHODS, UNAUTHORIZED_METHODS } from "./methods.js";
import { RpcFailure } from "./rpc-error.js";
import type { UploadStore } from "./uploads.js";
import type { World } from "./world.js";

export interface Counters {
  connectionsOpen: number;
  connectionsTotal: number;
  /** Completed auth-key exchanges. */
  handshakes: number;
  bytesIn: number;
  bytesOut: number;
  rpcs: Record<string, number>;
  errors: Record<string, number>;
  unknownMethods: Record<string, number>;
  /** Requests that did not decode, by the constructor id that failed ("0x…"); answered INPUT_CONSTRUCTOR_INVALID. */
  undecodable: Record<string, number>;
  /** invokeWithLayer calls refused with CONNECTION_LAYER_INVALID, by the layer asked for. */
  layersRefused: Record<string, number>;
  /** Connections an outage reset at once, or black-holed. */
  connectionsReset: number;
  connectionsBlackholed: number;
}

/** What a call whose connection a fault closed "answers": nothing reaches the client (the connection is gone). */
const DROPPED = new RpcFailure(500, "CONNECTION_DROPPED_BY_FAULT");

/** invokeWithLayer#da9b0d0d layer:int query:!X */
const INVOKE_WITH_LAYER = 0xda9b0d0d;

export class ServerCore {
  readonly connections = new Set<Connection>();
  readonly counters: Counters = {
    connectionsOpen: 0,
    connectionsTotal: 0,
    handshakes: 0,
    bytesIn: 0,
    bytesOut: 0,
    rpcs: {},
    errors: {},
    unknownMethods: {},
    undecodable: {},
    layersRefused: {},
    connectionsReset: 0,
    connectionsBlackholed: 0,
  };
  readonly loginCodes = new LoginCodes();

  /** random_ids already used per sender ("userId:randomId"). */
  readonly usedRandomIds = new Set<string>();
  /** Callback queries waiting for the bot's messages.setBotCallbackAnswer, by query id. */
  readonly callbackQueries = new Map<
    string,
    { botId: number; answer: (a: { message: string | undefined; alert: boolean }) => void }
  >();

  /** Worker threads for big packets; undefined decrypts everything on the main thread. */
  decryptPool: DecryptPool | undefined;

  constructor(
    readonly world: World,
    readonly uploads: UploadStore,
    readonly faults: Faults,
    readonly rsa: ServerRsaKey,
    readonly dcId: number,
    readonly host: string,
    readonly port: () => number,
    readonly log: (line: string) => void,
  ) {}

  onConnectionClosed(conn: Connection): void {
    if (this.connections.delete(conn)) this.counters.connectionsOpen--;
  }

  onSession(_conn: Connection, _session: Session): void {}

  async call(conn: Connection, session: Session, request: unknown): Promise<unknown> {
    let query = request as { className?: string; query?: unknown };
    // Wrappers carry the real method in `query`.
    for (;;) {
      if (query instanceof Api.InvokeWithLayer && query.layer !== LAYER)
        throw this.refuseLayer(conn, query.layer);
      if (
        query instanceof Api.InvokeWithLayer ||
        query instanceof Api.InitConnection ||
        query instanceof Api.InvokeWithoutUpdates ||
        query instanceof Api.InvokeAfterMsg ||
        query instanceof Api.InvokeAfterMsgs
      ) {
        query = query.query as typeof query;
        continue;
      }
      break;
    }
    const name = query.className ?? "unknown";
    this.counters.rpcs[name] = (this.counters.rpcs[name] ?? 0) + 1;
    try {
      const handler = METHODS[name];
      if (!handler) {
        this.counters.unknownMethods[name] = (this.counters.unknownMethods[name] ?? 0) + 1;
        this.log(`method not implemented: ${name}`);
        throw new RpcFailure(400, `METHOD_NOT_IMPLEMENTED_${name.replace(/\./g, "_").toUpperCase()}`);
      }
      const user = conn.userId !== undefined ? this.world.users.get(conn.userId) : undefined;
      if (!user && !UNAUTHORIZED_METHODS.has(name)) {
        throw new RpcFailure(401, conn.authKey?.revoked ? "SESSION_REVOKED" : "AUTH_KEY_UNREGISTERED");
      }
      this.faults.beforeCall(name);
      const drop = this.faults.dropPointForCall(name);
      if (drop === "before") {
        this.log(`connection ${conn.id}: dropped before ${name} (fault)`);
        conn.close();
        throw DROPPED;
      }
      const ctx: CallContext = { core: this, conn, session, user };
      const result = await handler(ctx, query as never);
      if (drop === "after") {
        this.log(`connection ${conn.id}: dropped after ${name} ran, its answer lost (fault)`);
        conn.close();
      }
      return result;
    } catch (e) {
      if (e !== DROPPED) this.count(e instanceof RpcFailure ? e.errorMessage : "INTERNAL");
      throw e;
    }
  }

  /**
   * The server reads and writes gramjs's own `Api` layer only: objects of another layer would be misread or
   * misunderstood, so a client asking for one is refused as Telegram refuses a layer it does not know.
   */
  refuseLayer(conn: Connection, asked: number): RpcFailure {
    this.counters.layersRefused[asked] = (this.counters.layersRefused[asked] ?? 0) + 1;
    this.count("CONNECTION_LAYER_INVALID");
    this.log(
      `connection ${conn.id}: invokeWithLayer asked for layer ${asked}; this server speaks layer ${LAYER} only`,
    );
    return new RpcFailure(400, "CONNECTION_LAYER_INVALID");
  }

  /** A request that does not decode with gramjs's schema: logged, counted, answered INPUT_CONSTRUCTOR_INVALID. */
  undecodable(conn: Connection, body: Buffer, error: unknown): RpcFailure {
    const outer = body.length >= 4 ? body.readUInt32LE(0) : 0;
    if (outer === INVOKE_WITH_LAYER && body.length >= 8 && body.readInt32LE(4) !== LAYER) {
      return this.refuseLayer(conn, body.readInt32LE(4));
    }
    const failed = (error as { invalidConstructorId?: number }).invalidConstructorId;
    const ctor = hex(failed ?? outer);
    this.counters.undecodable[ctor] = (this.counters.undecodable[ctor] ?? 0) + 1;
    this.count("INPUT_CONSTRUCTOR_INVALID");
    const where = failed !== undefined && failed !== outer ? ` inside ${hex(outer)}` : "";
    this.log(
      `connection ${conn.id}: undecodable request: constructor ${ctor}${where}, ${body.length} bytes` +
        (failed === undefined ? ` (${(error as Error).message})` : ""),
    );
    return new RpcFailure(400, "INPUT_CONSTRUCTOR_INVALID");
  }

  private count(errorMessage: string): void {
    this.counters.errors[errorMessage] = (this.counters.errors[errorMessage] ?? 0) + 1;
  }

  /**
   * Pushes an Updates object to every connection of the user, except those of the auth key that caused it (it has
   * the update in its answer). gramjs dispatches updates from its main sender only and drops them on extra
   * senders, and after a reconnect its main connection sends no initConnection, so "every connection" is the one
   * rule that reaches the main sender exactly once.
   */
  pushUpdates(userId: number, updates: Api.TypeUpdates, exceptAuthKeyId?: string): number {
    let sent = 0;
    const body = updates.getBytes();
    for (const conn of this.connections) {
      if (conn.closed || conn.userId !== userId || conn.authKey?.id === exceptAuthKeyId) continue;
      for (const session of conn.sessions.values()) {
        conn.send(session, body, true);
        sent++;
      }
    }
    return sent;
  }
}

function hex(ctor: number): string {
  return `0x${(ctor >>> 0).toString(16).padStart(8, "0")}`;
}
