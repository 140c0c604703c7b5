import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Api, type TelegramClient } from "telegram";
import { computeCheck } from "telegram/Password.js";
import { type RunningTelegramServer, startTelegramServer } from "../support/telegram-server/index.js";
import { API_HASH, API_ID, clientFor, closeClient, rawError } from "./helpers.js";

type RpcErr = { code?: number; errorMessage?: string };

/** A code that is certainly not `code`. */
function wrong(code: string): string {
  return String((Number(code) + 1) % 100_000).padStart(code.length, "0");
}

function sendCode(client: TelegramClient, phoneNumber: string) {
  return client.invoke(
    new Api.auth.SendCode({
      phoneNumber,
      apiId: API_ID,
      apiHash: API_HASH,
      settings: new Api.CodeSettings({}),
    }),
  ) as Promise<Api.auth.SentCode>;
}

const getSelf = () => new Api.users.GetUsers({ id: [new Api.InputUserSelf()] });

describe("logging users in: phone, code, 2FA (SRP), log out and revoked sessions", () => {
  let srv: RunningTelegramServer;
  const clients: TelegramClient[] = [];

  function fresh(session?: string): TelegramClient {
    const c = clientFor(srv, session);
    clients.push(c);
    return c;
  }

  before(async () => {
    srv = await startTelegramServer({ control: false, decryptWorkers: 0, log: () => undefined });
  });
  after(async () => {
    for (const c of clients) await closeClient(c);
    await srv.close();
  });

  it("logs a Premium user in through gramjs's client.start: phone, the code sent to the app, the 2FA password", async () => {
    const alice = srv.server.createUser({
      phone: "+1 555 0100",
      password: "correct horse",
      passwordHint: "horse",
      premium: true,
    });
    assert.deepEqual([alice.phone, alice.hasPassword], ["15550100", true]);
    const client = fresh();
    const errors: Error[] = [];
    const hints: (string | undefined)[] = [];
    let viaApp: boolean | undefined;
    await client.start({
      phoneNumber: "+15550100",
      phoneCode: async (isCodeViaApp) => {
        viaApp = isCodeViaApp;
        return srv.server.loginCode("+1 555 0100")!.code;
      },
      password: async (hint) => {
        hints.push(hint);
        return "correct horse";
      },
      onError: async (e) => {
        errors.push(e);
        return true;
      },
    });
    assert.deepEqual(errors, []);
    assert.equal(viaApp, true);
    assert.deepEqual(hints, ["horse"]);
    const me = (await client.getMe()) as Api.User;
    assert.deepEqual([Number(me.id), me.premium, me.phone], [alice.id, true, "15550100"]);
    const full = await client.invoke(new Api.users.GetFullUser({ id: new Api.InputUserSelf() }));
    assert.equal((full.users[0] as Api.User).premium, true);
    // The session string now logs in without any of that.
    const again = fresh(String(client.session.save()));
    await again.connect();
    assert.equal(Number(((await again.getMe()) as Api.User).id), alice.id);
  });

  it("logs a user without a password in with phone and code alone", async () => {
    const bob = srv.server.createUser({ phone: "15550101" });
    const client = fresh();
    await client.start({
      phoneNumber: "15550101",
      phoneCode: async () => srv.server.loginCode("15550101")!.code,
      onError: async () => true,
    });
    assert.equal(Number(((await client.getMe()) as Api.User).id), bob.id);
  });

  it("answers a wrong code PHONE_CODE_INVALID, a superseded one PHONE_CODE_EXPIRED, an unknown phone PHONE_NUMBER_UNOCCUPIED", async () => {
    srv.server.createUser({ phone: "15550102" });
    const client = fresh();
    const errors: Error[] = [];
    await assert.rejects(
      client.start({
        phoneNumber: "15550102",
        phoneCode: async () => wrong(srv.server.loginCode("15550102")!.code),
        onError: async (e) => {
          errors.push(e);
          return true;
        },
      }),
      /AUTH_USER_CANCEL/,
    );
    assert.deepEqual(
      errors.map((e) => (e as RpcErr).errorMessage),
      ["PHONE_CODE_INVALID"],
    );

    const first = await sendCode(client, "15550102");
    const firstCode = srv.server.loginCode("15550102")!.code;
    const second = await sendCode(client, "15550102");
    assert.notEqual(first.phoneCodeHash, second.phoneCodeHash);
    const signIn = (hash: string, code: string, phoneNumber = "15550102") =>
      rawError(client, new Api.auth.SignIn({ phoneNumber, phoneCodeHash: hash, phoneCode: code }));
    const expired = await signIn(first.phoneCodeHash, firstCode);
    assert.deepEqual([expired?.code, expired?.errorMessage], [400, "PHONE_CODE_EXPIRED"]);
    assert.equal(
      (await signIn(second.phoneCodeHash, srv.server.loginCode("15550102")!.code))?.errorMessage,
      undefined,
    );

    const stranger = fresh();
    await stranger.connect();
    const sent = await sendCode(stranger, "15550199");
    const err = await rawError(
      stranger,
      new Api.auth.SignIn({
        phoneNumber: "15550199",
        phoneCodeHash: sent.phoneCodeHash,
        phoneCode: srv.server.loginCode("15550199")!.code,
      }),
    );
    assert.equal(err?.errorMessage, "PHONE_NUMBER_UNOCCUPIED");
  });

  it("answers a wrong password PASSWORD_HASH_INVALID and a stale srp_id SRP_ID_INVALID", async () => {
    const carol = srv.server.createUser({ phone: "15550103", password: "right" });
    const client = fresh();
    const errors: Error[] = [];
    await assert.rejects(
      client.start({
        phoneNumber: "15550103",
        phoneCode: async () => srv.server.loginCode("15550103")!.code,
        password: async () => "wrong",
        onError: async (e) => {
          errors.push(e);
          return true;
        },
      }),
      /AUTH_USER_CANCEL/,
    );
    assert.deepEqual(
      errors.map((e) => [(e as RpcErr).code, (e as RpcErr).errorMessage]),
      [[400, "PASSWORD_HASH_INVALID"]],
    );
    assert.equal((await rawError(client, getSelf()))?.errorMessage, "AUTH_KEY_UNREGISTERED");

    // The code was right: the key waits for the password. Each account.getPassword makes the previous srp_id stale.
    const stale = await client.invoke(new Api.account.GetPassword());
    const current = await client.invoke(new Api.account.GetPassword());
    assert.notEqual(String(stale.srpId), String(current.srpId));
    const err = await rawError(
      client,
      new Api.auth.CheckPassword({ password: await computeCheck(stale, "right") }),
    );
    assert.deepEqual([err?.code, err?.errorMessage], [400, "SRP_ID_INVALID"]);
    const ok = await client.invoke(
      new Api.auth.CheckPassword({ password: await computeCheck(current, "right") }),
    );
    assert.equal(Number(((ok as Api.auth.Authorization).user as Api.User).id), carol.id);
    assert.equal(Number(((await client.getMe()) as Api.User).id), carol.id);
  });

  it("tells a user without a password so in account.getPassword", async () => {
    srv.server.createUser({ phone: "15550104" });
    const client = fresh();
    await client.start({
      phoneNumber: "15550104",
      phoneCode: async () => srv.server.loginCode("15550104")!.code,
      onError: async () => true,
    });
    const p = await client.invoke(new Api.account.GetPassword());
    assert.equal(p.hasPassword ?? false, false);
    assert.ok(p.newAlgo instanceof Api.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow);
  });

  it("logs out with auth.logOut, and revokes every session of a user from the server: calls then answer 401", async () => {
    const dave = srv.server.createUser({ phone: "15550105" });
    const a = fresh(srv.server.createSession(dave.id));
    const b = fresh(srv.server.createSession(dave.id));
    const c = fresh(srv.server.createSession(dave.id));
    await Promise.all([a.connect(), b.connect(), c.connect()]);

    await a.invoke(new Api.auth.LogOut());
    assert.deepEqual(
      (({ code, errorMessage }) => [code, errorMessage])((await rawError(a, getSelf())) ?? {}),
      [401, "AUTH_KEY_UNREGISTERED"],
    );
    assert.equal((await rawError(b, getSelf()))?.errorMessage, undefined);

    assert.equal(srv.server.revokeSession(dave.id), 2);
    for (const client of [b, c]) {
      const err = await rawError(client, getSelf());
      assert.deepEqual([err?.code, err?.errorMessage], [401, "SESSION_REVOKED"]);
    }
    // A revoked key still reaches the server and may log in again.
    assert.ok((await b.invoke(new Api.help.GetConfig())) instanceof Api.Config);
    await b.start({
      phoneNumber: "15550105",
      phoneCode: async () => srv.server.loginCode("15550105")!.code,
      onError: async () => true,
    });
    assert.equal(Number(((await b.getMe()) as Api.User).id), dave.id);
    assert.equal((await rawError(c, getSelf()))?.errorMessage, "SESSION_REVOKED");
  });
});
