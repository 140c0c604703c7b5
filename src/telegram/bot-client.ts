/**
 * The bot's own connection: builds the client for Telegram or the configured data centre, logs in with the bot
 * token, and gives back a narrow handle. Every step has a deadline so a wrong address or token fails clearly
 * instead of retrying forever.
 */
import fs from "node:fs";
import type { TelegramClient } from "telegram";
import type { TelegramConfig } from "../config.js";
import type { Db } from "../db/database.js";
import { UserError } from "../errors.js";
import type { Logger } from "../logger.js";
import { createGateway } from "./bot-gateway.js";
import { createTelegramClient, disconnectClient } from "./connect.js";
import type { TelegramGateway } from "./gateway.js";

/** Telegram answers a login within seconds; a minute covers a slow VPS and gramjs's own retries. */
const LOGIN_TIMEOUT_MS = 60_000;

export interface BotConnection {
  me: { id: string; username: string | undefined };
  disconnect(): Promise<void>;
}

export async function connectBot(config: TelegramConfig, log: Logger): Promise<BotConnection> {
  const { client, me } = await loginBot(config, log);
  return { me, disconnect: () => disconnectClient(client) };
}

/** Logs the bot in and hands back the gateway the rest of Medusa uses. */
export async function openBotGateway(
  config: TelegramConfig,
  deps: {
    db: Db;
    log: Logger;
    crashPoint?: (name: string) => void;
    onFloodWait?: (method: string, seconds: number) => void;
  },
): Promise<TelegramGateway> {
  const { client } = await loginBot(config, deps.log);
  try {
    return await createGateway({ client, account: "bot", ...deps });
  } catch (error) {
    await disconnectClient(client).catch(() => undefined);
    throw error;
  }
}

/** A client for Telegram, or for the configured data centre; `session` empty starts a new auth key. */
export function clientFromConfig(config: TelegramConfig, session: string, log: Logger): TelegramClient {
  const server = config.server
    ? {
        host: config.server.host,
        port: config.server.port,
        dcId: config.server.dcId,
        publicKeyPem: readServerKey(config.server.publicKeyFile),
      }
    : undefined;
  // connect.ts tags the log lines with module: "gramjs"
  return createTelegramClient({ apiId: config.apiId, apiHash: config.apiHash, session, server, logger: log });
}

async function loginBot(
  config: TelegramConfig,
  log: Logger,
): Promise<{ client: TelegramClient; me: BotConnection["me"] }> {
  const client = clientFromConfig(config, "", log);
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new UserError(
              "TELEGRAM_UNREACHABLE",
              `No answer from Telegram within ${LOGIN_TIMEOUT_MS / 1000} s.`,
              {
                hint: config.server
                  ? `Check TELEGRAM_SERVER (${config.server.host}:${config.server.port}).`
                  : "Check the network.",
              },
            ),
          ),
        LOGIN_TIMEOUT_MS,
      );
    });
    await Promise.race([
      client.start({
        botAuthToken: config.botToken,
        onError: (error) => {
          throw error;
        },
      }),
      deadline,
    ]);
    const me = await Promise.race([client.getMe(), deadline]);
    return { client, me: { id: me.id.toString(), username: me.username ?? undefined } };
  } catch (error) {
    await disconnectClient(client).catch((closeError) => log.warn({ err: closeError }, "disconnect failed"));
    throw loginError(error);
  } finally {
    clearTimeout(timer);
  }
}

function readServerKey(file: string | undefined): string {
  if (!file) {
    throw new UserError(
      "CONFIG_SERVER_KEY",
      "TELEGRAM_SERVER needs TELEGRAM_SERVER_KEY_FILE (the server's RSA public key).",
    );
  }
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new UserError(
      "CONFIG_SERVER_KEY",
      `Cannot read TELEGRAM_SERVER_KEY_FILE: ${(error as NodeJS.ErrnoException).code}`,
      {
        cause: error,
      },
    );
  }
}

/** Telegram's login errors, in words an operator can act on. */
function loginError(error: unknown): unknown {
  const message = (error as { errorMessage?: string }).errorMessage ?? "";
  if (message === "ACCESS_TOKEN_INVALID" || message === "ACCESS_TOKEN_EXPIRED") {
    return new UserError("BOT_TOKEN_REJECTED", "Telegram rejected BOT_TOKEN.", {
      hint: "Copy the token again from @BotFather (/token).",
      cause: error,
    });
  }
  if (message === "API_ID_INVALID" || message === "API_ID_PUBLISHED_FLOOD") {
    return new UserError("API_ID_REJECTED", "Telegram rejected TELEGRAM_API_ID / TELEGRAM_API_HASH.", {
      hint: "Check them at https://my.telegram.org/apps.",
      cause: error,
    });
  }
  return error;
}
