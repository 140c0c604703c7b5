/**
 * The local Telegram data-centre for tests, benchmarks and the offline demo. See README.md in this folder.
 */
import { TelegramServer, type TelegramServerOptions } from "./server.js";

export type { ChatSpec, MediaView, MessageView, TelegramServerOptions, UserView } from "./server.js";
export { TelegramServer } from "./server.js";

export interface RunningTelegramServer {
  server: TelegramServer;
  /** TCP port of the MTProto endpoint on 127.0.0.1. */
  mtprotoPort: number;
  /** Base URL of the JSON control API (undefined with `control: false`). */
  controlUrl: string | undefined;
  publicKeyPem: string;
  /** The RSA key fingerprint as gramjs's `_serverKeys` keys it (signed 64-bit decimal). */
  fingerprint: string;
  dcId: number;
  close(): Promise<void>;
}

export async function startTelegramServer(
  options: TelegramServerOptions & { control?: boolean; controlPort?: number } = {},
): Promise<RunningTelegramServer> {
  const server = await TelegramServer.start(options);
  let controlUrl: string | undefined;
  let closeControl = async () => {};
  if (options.control !== false) {
    const { startControlApi } = await import("./control-api.js");
    const api = await startControlApi(server, options.controlPort);
    controlUrl = api.url;
    closeControl = api.close;
  }
  return {
    server,
    mtprotoPort: server.port,
    controlUrl,
    publicKeyPem: server.rsa.publicKeyPem,
    fingerprint: server.rsa.fingerprint,
    dcId: server.dcId,
    async close() {
      await closeControl();
      await server.close();
    },
  };
}
