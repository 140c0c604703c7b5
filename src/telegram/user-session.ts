/**
 * The user session (a Telegram account, Premium for 4000 MiB files): signing in with phone, code and cloud
 * password (gramjs runs Telegram's SRP check), and probing a saved session. Medusa never creates an account.
 */
import fs from "node:fs/promises";
import type { TelegramConfig } from "../config.js";
import type { Db } from "../db/database.js";
import { UserError } from "../errors.js";
import { withDeadline } from "../lib/abort.js";
import type { Logger } from "../logger.js";
import { clientFromConfig } from "./bot-client.js";
import { createGateway } from "./bot-gateway.js";
import { disconnectClient } from "./connect.js";
import type { TelegramGateway } from "./gateway.js";

/** Connecting and one request: Telegram answers within seconds; this covers a slow VPS and gramjs's retries. */
const PROBE_TIMEOUT_MS = 30_000;

export interface LoginPrompts {
  phone(): Promise<string>;
  /** `retry`: the previous code was wrong. */
  code(retry: boolean): Promise<string>;
  password(hint: string | undefined, retry: boolean): Promise<string>;
}

export interface AccountSummary {
  id: number;
  name: string;
  username: string | undefined;
  premium: boolean;
}

export type SessionProbe = { ok: true; me: AccountSummary } | { ok: false; code: string; reason: string };

/** Errors Telegram gives during sign-in that the person can fix by typing again. */
const RETRYABLE = new Set(["PHONE_CODE_INVALID", "PASSWORD_HASH_INVALID", "PHONE_CODE_EMPTY"]);

const FINAL: Record<string, string> = {
  PHONE_NUMBER_INVALID: "Telegram does not accept that phone number.",
  PHONE_NUMBER_UNOCCUPIED: "That phone number has no Telegram account; Medusa does not create accounts.",
  PHONE_NUMBER_BANNED: "Telegram has banned that phone number.",
  PHONE_CODE_EXPIRED: "The code expired; run `medusa login` again.",
  PHONE_NUMBER_FLOOD: "Telegram refuses more codes for that number for now; try again later.",
};

export async function loginUser(
  config: TelegramConfig,
  prompts: LoginPrompts,
  log: Logger,
): Promise<{ session: string; me: AccountSummary }> {
  const client = clientFromConfig(config, "", log);
  let failure: unknown;
  let codes = 0;
  let passwords = 0;
  try {
    await client.start({
      phoneNumber: () => prompts.phone(),
      phoneCode: async () => {
        try {
          return await prompts.code(codes++ > 0);
        } catch (error) {
          failure = error;
          return ""; // gramjs swallows errors thrown here; an empty code ends in onError below
        }
      },
      password: async (hint) => {
        try {
          return await prompts.password(hint || undefined, passwords++ > 0);
        } catch (error) {
          failure = error;
          throw error;
        }
      },
      firstAndLastNames: async () => {
        failure = new UserError("PHONE_NUMBER_UNOCCUPIED", FINAL.PHONE_NUMBER_UNOCCUPIED ?? "");
        throw failure;
      },
      onError: async (error) => {
        if (failure) return true;
        const code = (error as { errorMessage?: string }).errorMessage ?? "";
        if (RETRYABLE.has(code)) return false;
        failure = FINAL[code] ? new UserError(code, FINAL[code] ?? code, { cause: error }) : error;
        return true;
      },
    });
    const me = summary(await client.getMe());
    return { session: String(client.session.save()), me };
  } catch (error) {
    throw failure ?? error;
  } finally {
    await disconnectClient(client).catch((error: unknown) => log.warn({ err: error }, "disconnect failed"));
  }
}

/** Does this session still work, and is the account Premium? */
export async function probeUserSession(
  config: TelegramConfig,
  session: string,
  log: Logger,
): Promise<SessionProbe> {
  const client = clientFromConfig(config, session, log);
  try {
    const me = await withDeadline(
      (async () => {
        await client.connect();
        return client.getMe();
      })(),
      PROBE_TIMEOUT_MS,
      undefined,
      () =>
        new UserError("TELEGRAM_UNREACHABLE", `No answer from Telegram within ${PROBE_TIMEOUT_MS / 1000} s.`),
    );
    if (me.bot)
      return { ok: false, code: "SESSION_IS_BOT", reason: "the session belongs to a bot, not a user" };
    return { ok: true, me: summary(me) };
  } catch (error) {
    const code =
      (error as { errorMessage?: string; code?: string }).errorMessage ?? (error as { code?: string }).code;
    if (code === "AUTH_KEY_UNREGISTERED" || code === "SESSION_REVOKED" || code === "USER_DEACTIVATED") {
      return {
        ok: false,
        code,
        reason: `Telegram no longer accepts it (${code}): it was logged out or revoked`,
      };
    }
    return { ok: false, code: code ?? "SESSION_CHECK_FAILED", reason: (error as Error).message };
  } finally {
    await disconnectClient(client).catch((error: unknown) => log.warn({ err: error }, "disconnect failed"));
  }
}

export type PremiumGateway =
  | { ok: true; gateway: TelegramGateway; me: AccountSummary }
  | { ok: false; code: string; reason: string };

/**
 * Opens the user session as a second gateway for files over the bot's limit — only when it works and the account
 * is Premium (a normal account may send no more than the bot). Its access hashes stay in gramjs's cache, apart from
 * the bot's peers table. Never throws for a session that does not work: says why instead.
 */
export async function openPremiumGateway(
  config: TelegramConfig,
  session: string,
  deps: { db: Db; log: Logger },
): Promise<PremiumGateway> {
  const client = clientFromConfig(config, session, deps.log);
  try {
    const me = await withDeadline(
      (async () => {
        await client.connect();
        return client.getMe();
      })(),
      PROBE_TIMEOUT_MS,
      undefined,
      () =>
        new UserError("TELEGRAM_UNREACHABLE", `No answer from Telegram within ${PROBE_TIMEOUT_MS / 1000} s.`),
    );
    const account = summary(me);
    const refused = me.bot
      ? { code: "SESSION_IS_BOT", reason: "the session belongs to a bot, not a user" }
      : !account.premium
        ? { code: "SESSION_NOT_PREMIUM", reason: `the account ${account.name} has no Telegram Premium` }
        : undefined;
    if (refused) {
      await disconnectClient(client).catch((error: unknown) =>
        deps.log.warn({ err: error }, "disconnect failed"),
      );
      return { ok: false, ...refused };
    }
    const gateway = await createGateway({
      client,
      db: deps.db,
      log: deps.log,
      account: "user",
      peers: "client",
    });
    return { ok: true, gateway, me: account };
  } catch (error) {
    await disconnectClient(client).catch((closeError: unknown) =>
      deps.log.warn({ err: closeError }, "disconnect failed"),
    );
    const code =
      (error as { errorMessage?: string; code?: string }).errorMessage ?? (error as { code?: string }).code;
    return {
      ok: false,
      code: code ?? "SESSION_CHECK_FAILED",
      reason: `Telegram did not accept it: ${(error as Error).message}`,
    };
  }
}

/**
 * The Premium user session for files over the bot's 2000 MiB, when one is configured and works; otherwise undefined
 * (such files are split), said once in the log with the reason. `medusa start` and `medusa upload` open it alike.
 */
export async function openConfiguredPremium(
  config: TelegramConfig,
  deps: { db: Db; log: Logger; onUnusable?: (code: string) => void },
): Promise<{ gateway: TelegramGateway } | undefined> {
  const { log } = deps;
  let session: string | undefined;
  try {
    session = await readUserSession(config);
  } catch (error) {
    log.warn(
      { err: error, file: config.sessionFile },
      "cannot read the user session file; going on with the bot alone",
    );
    return undefined;
  }
  if (!session) return undefined;
  const opened = await openPremiumGateway(config, session, {
    db: deps.db,
    log: log.child({ module: "telegram-user" }),
  });
  if (!opened.ok) {
    log.warn(
      { code: opened.code, reason: opened.reason },
      "the configured user session is not used (files over 2000 MiB will be split); going on with the bot alone",
    );
    deps.onUnusable?.(opened.code);
    return undefined;
  }
  log.info({ user: opened.me }, "Premium user session ready: files over 2000 MiB go through it");
  return { gateway: opened.gateway };
}

/** TELEGRAM_SESSION, else the file `medusa login` wrote, else none. */
export async function readUserSession(config: TelegramConfig): Promise<string | undefined> {
  if (config.userSession) return config.userSession;
  try {
    return (await fs.readFile(config.sessionFile, "utf8")).trim() || undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

function summary(me: {
  id: { toString(): string };
  firstName?: string | null;
  lastName?: string | null;
  username?: string | null;
  premium?: boolean | null;
}): AccountSummary {
  return {
    id: Number(me.id.toString()),
    name: [me.firstName, me.lastName].filter(Boolean).join(" ") || "(no name)",
    username: me.username ?? undefined,
    premium: me.premium ?? false,
  };
}
