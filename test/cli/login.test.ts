/**
 * `medusa login` against the local Telegram server, answering its prompts the way a person would: the code comes
 * from the server (the user's Telegram app), the cloud password is checked with Telegram's SRP.
 */
import assert from "node:assert/strict";
import { stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { describe, it, type TestContext } from "node:test";
import { runChecks } from "../../src/cli/doctor.js";
import { loginCommand } from "../../src/cli/login.js";
import { type Config, parseConfig, type TelegramConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { installGramjsPatches } from "../../src/telegram/gramjs-patches.js";
import { readUserSession } from "../../src/telegram/user-session.js";
import { type RunningTelegramServer, startTelegramServer } from "../support/telegram-server/index.js";
import { tempDir } from "../support/temp-dir.js";
import { API_HASH, API_ID } from "../telegram-server/helpers.js";

const PHONE = "+447700900123";
const log = createLogger({ level: "silent" });

async function world(t: TestContext, user: { password?: string; premium?: boolean } = {}) {
  installGramjsPatches();
  const dir = tempDir(t, "medusa-login-");
  const srv = await startTelegramServer();
  t.after(() => srv.close());
  const keyFile = join(dir, "server-key.pem");
  await writeFile(keyFile, srv.publicKeyPem);
  const alice = srv.server.createUser({ firstName: "Alice", username: "alice", phone: PHONE, ...user });
  const config: TelegramConfig = {
    apiId: API_ID,
    apiHash: API_HASH,
    botToken: "",
    ownerId: String(alice.id),
    userSession: undefined,
    sessionFile: join(dir, "data", "user.session"),
    server: { host: "127.0.0.1", port: srv.mtprotoPort, dcId: srv.dcId, publicKeyFile: keyFile },
  };
  return { srv, dir, alice, config };
}

/** Answers each prompt as it appears: `answers` picks the reply from the prompt text. */
function conversation(answer: (prompt: string) => string | undefined) {
  const input = new PassThrough();
  let transcript = "";
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString();
      transcript += text;
      const reply = answer(text);
      if (reply !== undefined) input.write(`${reply}\n`);
      done();
    },
  });
  return { io: { input, output }, transcript: () => transcript };
}

function codeFor(srv: RunningTelegramServer, phone = PHONE): string {
  const code = srv.server.loginCode(phone);
  if (!code) throw new Error("no login code was sent");
  return code.code;
}

describe("medusa login", () => {
  it("signs in with phone, code and cloud password, and saves the session readable by its owner only", async (t) => {
    const { srv, config } = await world(t, { password: "correct horse", premium: true });
    const chat = conversation((prompt) => {
      if (prompt.startsWith("Phone")) return PHONE;
      if (prompt.startsWith("The code")) return codeFor(srv);
      if (prompt.startsWith("Your cloud password")) return "correct horse";
      return undefined;
    });
    assert.equal(await loginCommand(config, log, chat.io), 0);
    assert.match(chat.transcript(), /Logged in as Alice \(@alice\), Premium: files up to 4000 MiB/);
    const mode = (await stat(config.sessionFile)).mode & 0o777;
    assert.equal(mode.toString(8), "600");
    const session = await readUserSession(config);
    assert.ok(session && session.length > 100, "a StringSession was saved");
  });

  it("asks again after a wrong code and a wrong password, then succeeds", async (t) => {
    const { srv, config } = await world(t, { password: "right" });
    let codes = 0;
    let passwords = 0;
    const chat = conversation((prompt) => {
      if (prompt.startsWith("Phone")) return PHONE;
      if (prompt.startsWith("The code")) return codes++ === 0 ? "00000" : codeFor(srv);
      if (prompt.startsWith("Your cloud password")) return passwords++ === 0 ? "wrong" : "right";
      return undefined;
    });
    assert.equal(await loginCommand(config, log, chat.io), 0);
    assert.match(chat.transcript(), /That code was wrong\./);
    assert.match(chat.transcript(), /That password was wrong\./);
    assert.equal(codes, 2);
    assert.equal(passwords, 2);
  });

  it("gives up after three wrong passwords and saves nothing", async (t) => {
    const { srv, config } = await world(t, { password: "right" });
    const chat = conversation((prompt) => {
      if (prompt.startsWith("Phone")) return PHONE;
      if (prompt.startsWith("The code")) return codeFor(srv);
      if (prompt.startsWith("Your cloud password")) return "wrong";
      return undefined;
    });
    await assert.rejects(loginCommand(config, log, chat.io), { code: "LOGIN_PASSWORD_INVALID" });
    assert.equal(await readUserSession(config), undefined);
  });

  it("refuses a phone number with no account instead of creating one", async (t) => {
    const { srv, config } = await world(t);
    const chat = conversation((prompt) => {
      if (prompt.startsWith("Phone")) return "+15550000000";
      if (prompt.startsWith("The code")) return codeFor(srv, "+15550000000");
      return undefined;
    });
    await assert.rejects(loginCommand(config, log, chat.io), { code: "PHONE_NUMBER_UNOCCUPIED" });
    assert.equal(await readUserSession(config), undefined);
  });

  it("lets doctor report a working session, then one the server revoked", async (t) => {
    const { srv, alice, config } = await world(t);
    const chat = conversation((prompt) => {
      if (prompt.startsWith("Phone")) return PHONE;
      if (prompt.startsWith("The code")) return codeFor(srv);
      return undefined;
    });
    assert.equal(await loginCommand(config, log, chat.io), 0);
    const base: Config = parseConfig({ DATA_DIR: join(config.sessionFile, "..") });
    const sessionRow = async () =>
      (await runChecks({ ...base, telegram: config }, log)).find((c) => c.name === "user session");
    assert.deepEqual(await sessionRow(), {
      name: "user session",
      ok: true,
      detail: "@alice, not Premium: files up to 2000 MiB",
    });
    srv.server.revokeSession(alice.id);
    const revoked = await sessionRow();
    assert.equal(revoked?.ok, false);
    assert.match(
      revoked?.detail ?? "",
      /no longer accepts it \((AUTH_KEY_UNREGISTERED|SESSION_REVOKED)\).*medusa login/,
    );
  });
});
