/**
 * `medusa login`: signs a Telegram user in (phone, the code Telegram sends, the cloud password when 2FA is on) or
 * takes TELEGRAM_SESSION as it is, checks the session works, and writes it to the session file with mode 0600.
 * With a Premium account, uploads go up to 4000 MiB per file.
 */
import fs from "node:fs/promises";
import path from "node:path";
import readline from "node:readline/promises";
import type { Readable, Writable } from "node:stream";
import type { TelegramConfig } from "../config.js";
import { UserError } from "../errors.js";
import type { Logger } from "../logger.js";
import { type LoginPrompts, loginUser, probeUserSession } from "../telegram/user-session.js";

/** Wrong codes or passwords in a row before login gives up (Telegram itself bans after a few more). */
const MAX_ATTEMPTS = 3;

export interface LoginIo {
  input: Readable;
  output: Writable;
}

export async function loginCommand(config: TelegramConfig, log: Logger, io: LoginIo): Promise<number> {
  const { session, me } = config.userSession
    ? await useGivenSession(config, log)
    : await interactiveLogin(config, log, io);
  await writeSessionFile(config.sessionFile, session);
  io.output.write(
    `Logged in as ${me.name}${me.username ? ` (@${me.username})` : ""}, ${me.premium ? "Premium: files up to 4000 MiB" : "not Premium: files up to 2000 MiB"}.\n` +
      `Session saved to ${config.sessionFile} (readable by this user only).\n`,
  );
  return 0;
}

async function useGivenSession(config: TelegramConfig, log: Logger) {
  const probe = await probeUserSession(config, config.userSession ?? "", log);
  if (!probe.ok) {
    throw new UserError("SESSION_INVALID", `TELEGRAM_SESSION does not work: ${probe.reason}`, {
      hint: "Unset TELEGRAM_SESSION and run `medusa login` to sign in with your phone number.",
    });
  }
  return { session: config.userSession ?? "", me: probe.me };
}

async function interactiveLogin(config: TelegramConfig, log: Logger, io: LoginIo) {
  const rl = readline.createInterface({ input: io.input, output: io.output, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  const ask = async (question: string): Promise<string> => {
    io.output.write(question);
    const next = await lines.next();
    if (next.done) throw new UserError("LOGIN_ABORTED", "Login stopped: no more input.");
    return next.value.trim();
  };
  let codeAttempts = 0;
  let passwordAttempts = 0;
  const prompts: LoginPrompts = {
    phone: () => ask("Phone number (international format, e.g. +44 7700 900123): "),
    code: async (retry) => {
      if (retry) io.output.write("That code was wrong.\n");
      if (++codeAttempts > MAX_ATTEMPTS) throw new UserError("LOGIN_CODE_INVALID", "Too many wrong codes.");
      return ask("The code Telegram sent you (in the Telegram app): ");
    },
    password: async (hint, retry) => {
      if (retry) io.output.write("That password was wrong.\n");
      if (++passwordAttempts > MAX_ATTEMPTS) {
        throw new UserError("LOGIN_PASSWORD_INVALID", "Too many wrong passwords.");
      }
      return ask(`Your cloud password (two-step verification${hint ? `, hint: ${hint}` : ""}): `);
    },
  };
  try {
    return await loginUser(config, prompts, log);
  } finally {
    rl.close();
  }
}

/** Writes atomically, readable by the owner only: the session is as good as the account's password. */
export async function writeSessionFile(file: string, session: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  try {
    await fs.writeFile(temp, `${session}\n`, { mode: 0o600, flag: "wx" });
    await fs.chmod(temp, 0o600); // a umask cannot widen it, but an existing ACL default might
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}
