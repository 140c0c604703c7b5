/**
 * Builds the gramjs client. With `server`, it talks to a non-Telegram data centre (the local test server):
 * every socket — the main one, reconnects and the extra senders the uploader opens — goes to server.host:port,
 * and the server's RSA key is registered with gramjs so the auth-key exchange accepts it.
 */
import { createHash, createPublicKey } from "node:crypto";
import { TelegramClient } from "telegram";
import { PromisedNetSockets } from "telegram/extensions/index.js";
import { Logger, LogLevel } from "telegram/extensions/Logger.js";
import { StringSession } from "telegram/sessions/index.js";
import { serializeBytes } from "telegram/tl/index.js";
import { addServerKey, closeExportedSenders } from "./gramjs-internals.js";

export interface TelegramServerTarget {
  host: string;
  port: number;
  dcId: number;
  /** PKCS#1 or SPKI PEM of the server's RSA public key. */
  publicKeyPem: string;
}

/** The subset of a pino logger this module uses. */
export interface ClientLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface CreateTelegramClientOptions {
  apiId: number;
  apiHash: string;
  /** A StringSession string (user session); empty or undefined starts a new auth key. */
  session?: string;
  /** A non-Telegram data centre; undefined means Telegram itself. */
  server?: TelegramServerTarget;
  logger?: ClientLogger;
}

/** The port in a StringSession is a signed 16-bit field; the real port lives in the socket class below. */
const SESSION_PLACEHOLDER_PORT = 443;
/** Between attempts of a failed connect or auth-key exchange; gramjs's default (1 s) is for Telegram's DCs. */
const LOCAL_RETRY_DELAY_MS = 100;
/** Attempts per connect, including the auth-key exchange that fails about 1 time in 200 (see below). */
const LOCAL_CONNECTION_RETRIES = 10;

/**
 * The RSA key fingerprint gramjs matches: the low 64 bits of SHA1(TL-serialised n, e), as a signed decimal.
 */
export function rsaFingerprint(publicKeyPem: string): { fingerprint: string; n: bigint; e: number } {
  const jwk = createPublicKey(publicKeyPem).export({ format: "jwk" });
  if (!jwk.n || !jwk.e) throw new Error("Expected an RSA public key in publicKeyPem");
  const nBytes = Buffer.from(jwk.n, "base64url");
  const eBytes = Buffer.from(jwk.e, "base64url");
  const digest = createHash("sha1")
    .update(Buffer.concat([serializeBytes(nBytes), serializeBytes(eBytes)]))
    .digest();
  return {
    fingerprint: digest.readBigInt64LE(12).toString(),
    n: BigInt(`0x${nBytes.toString("hex")}`),
    e: Number(BigInt(`0x${eBytes.toString("hex")}`)),
  };
}

/** Adds the server's key to gramjs's process-wide key map (idempotent). */
export function registerServerKey(publicKeyPem: string): string {
  const { fingerprint, n, e } = rsaFingerprint(publicKeyPem);
  addServerKey(fingerprint, n, e);
  return fingerprint;
}

/** A socket class that ignores the host and port gramjs asks for (it always picks 80/443) and uses ours. */
function socketTo(host: string, port: number): typeof PromisedNetSockets {
  return class RedirectedSocket extends PromisedNetSockets {
    override connect(_port: number, _ip: string) {
      return super.connect(port, host);
    }
  };
}

class ForwardingLogger extends Logger {
  constructor(private readonly target: ClientLogger) {
    super(LogLevel.WARN);
  }
  override log(level: LogLevel, message: string): void {
    if (!this.canSend(level)) return;
    const fields = { module: "gramjs" };
    if (level === LogLevel.ERROR) this.target.error(fields, message);
    else if (level === LogLevel.WARN) this.target.warn(fields, message);
    else if (level === LogLevel.INFO) this.target.info(fields, message);
    else this.target.debug(fields, message);
  }
}

export function createTelegramClient(options: CreateTelegramClientOptions): TelegramClient {
  const session = new StringSession(options.session ?? "");
  const { server } = options;
  const baseLogger = options.logger ? new ForwardingLogger(options.logger) : new Logger(LogLevel.NONE);
  if (!server) {
    return new TelegramClient(session, options.apiId, options.apiHash, { baseLogger, connectionRetries: 5 });
  }
  registerServerKey(server.publicKeyPem);
  if (!options.session) session.setDC(server.dcId, server.host, SESSION_PLACEHOLDER_PORT);
  // gramjs builds the auth key with getByteArray(), which drops leading zero bytes: about 1 exchange in 200 ends
  // in "Invalid new nonce hash". Its sender retries the exchange on the same socket; a short delay keeps that cheap.
  return new TelegramClient(session, options.apiId, options.apiHash, {
    baseLogger,
    networkSocket: socketTo(server.host, server.port),
    connectionRetries: LOCAL_CONNECTION_RETRIES,
    retryDelay: LOCAL_RETRY_DELAY_MS,
    useWSS: false,
  });
}

/** Closes the client and the extra senders gramjs's own disconnect() leaves connected (see closeExportedSenders). */
export async function disconnectClient(client: TelegramClient): Promise<void> {
  await closeExportedSenders(client);
  await client.destroy();
}
