/**
 * whole-containers.ts on the main connection: when the server answers several requests in one container and an
 * early answer is an RPC error, stock gramjs 2.26.22 loses every answer after it (their promises never settle);
 * with the replacement each request gets its own answer. Runs in its own process, so gramjs starts stock.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Api, errors, type TelegramClient } from "telegram";
import { mainSender } from "../../src/telegram/gramjs-internals.js";
import { installGramjsPatches } from "../../src/telegram/gramjs-patches.js";
import {
  installWholeContainers,
  uninstallWholeContainers,
  wholeContainersInstalled,
} from "../../src/telegram/whole-containers.js";
import { type RunningTelegramServer, startTelegramServer } from "../support/telegram-server/index.js";
import { botClient, closeClient } from "../telegram-server/helpers.js";

/** Longer than the local server takes to answer by two orders of magnitude. */
const SETTLE_MS = 2_000;

type Outcome = "resolved" | "rejected" | "pending";

function outcome(promise: Promise<unknown>): Promise<{ outcome: Outcome; value: unknown }> {
  return Promise.race([
    promise.then(
      (value) => ({ outcome: "resolved" as const, value }),
      (value: unknown) => ({ outcome: "rejected" as const, value }),
    ),
    new Promise<{ outcome: Outcome; value: unknown }>((resolve) =>
      setTimeout(() => resolve({ outcome: "pending", value: undefined }), SETTLE_MS).unref(),
    ),
  ]);
}

/**
 * Sends three requests in one go (gramjs packs them into one container) whose first fails: the server answers all
 * three in one container, the error first.
 */
async function errorThenAnswers(srv: RunningTelegramServer, client: TelegramClient) {
  srv.server.faults.setFaults({
    methodFaults: [{ method: "help.GetNearestDc", code: 420, message: "FLOOD_WAIT_1", times: 1 }],
  });
  const sender = mainSender(client);
  assert.ok(sender, "connected");
  const failing = sender.send(new Api.help.GetNearestDc());
  const state = sender.send(new Api.updates.GetState());
  const me = sender.send(new Api.users.GetUsers({ id: [new Api.InputUserSelf()] }));
  return Promise.all([outcome(failing), outcome(state), outcome(me)]);
}

describe("whole containers", () => {
  let srv: RunningTelegramServer;
  let client: TelegramClient | undefined;

  it("shows the loss in stock gramjs: answers after an error in the same container never arrive", async (t) => {
    srv = await startTelegramServer({ control: false });
    t.after(async () => {
      await closeClient(client);
      client = undefined;
      await srv.close();
    });
    installGramjsPatches();
    uninstallWholeContainers();
    assert.equal(wholeContainersInstalled(), false);
    ({ client } = await botClient(srv));
    const [failing, state, me] = await errorThenAnswers(srv, client);
    assert.equal(failing.outcome, "rejected");
    assert.ok(failing.value instanceof errors.FloodWaitError, String(failing.value));
    assert.deepEqual(
      [state.outcome, me.outcome],
      ["pending", "pending"],
      "stock gramjs dropped the rest of the container (if this fails, gramjs or the server changed)",
    );
  });

  it("delivers every answer of the container once installed, on a connection that already exists", async (t) => {
    srv = await startTelegramServer({ control: false });
    t.after(async () => {
      await closeClient(client);
      client = undefined;
      await srv.close();
    });
    ({ client } = await botClient(srv));
    installWholeContainers(); // after the connection: the replacement is looked up at each message
    assert.equal(wholeContainersInstalled(), true);
    const [failing, state, me] = await errorThenAnswers(srv, client);
    assert.equal(failing.outcome, "rejected");
    assert.ok(failing.value instanceof errors.FloodWaitError, String(failing.value));
    assert.equal(state.outcome, "resolved");
    assert.ok(state.value instanceof Api.updates.State);
    assert.equal(me.outcome, "resolved");
    assert.equal((me.value as Api.User[])[0]?.username, "medusa_bot");
    // The connection carries on: a later request is answered as usual.
    assert.ok((await client.getMe()).bot);
  });

  it("is part of installGramjsPatches", () => {
    uninstallWholeContainers();
    assert.equal(installGramjsPatches().containers, "whole");
    assert.equal(wholeContainersInstalled(), true);
  });
});
