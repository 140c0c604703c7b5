/**
 * Nothing a user sends while Medusa is down is lost, and nothing is handled twice: restarts, kill -9 between
 * handling and saving the state, differences longer than a slice, dropped connections and outages.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { IncomingMessage } from "../../src/telegram/gateway.js";
import { startGatewayWorld } from "./support/gateway-world.js";

const CHILD = join(import.meta.dirname, "support", "gateway-child.ts");
/** Bounds for waits on another process; only a wedged run reaches them. */
const CHILD_TIMEOUT_MS = 60_000;

function texts(received: readonly { kind: string }[]): string[] {
  return received.map((r) => (r as IncomingMessage).text);
}

describe("catching up on missed updates", () => {
  it("hands over, once each and in order, three messages sent while the bot was stopped", async (t) => {
    const world = await startGatewayWorld(t);
    const chat = { user: world.alice.id, peer: world.bot.id };
    const first = await world.open();
    world.srv.server.sendText(world.alice.id, chat, "before");
    await world.waitForReceived(1);
    await first.stop();
    for (const text of ["one", "two", "three"]) world.srv.server.sendText(world.alice.id, chat, text);
    await world.open();
    await world.waitForReceived(4);
    world.srv.server.sendText(world.alice.id, chat, "live");
    await world.waitForReceived(5);
    assert.deepEqual(texts(world.received), ["before", "one", "two", "three", "live"]);
    assert.equal(new Set(world.received.map((r) => r.key)).size, 5, "no update twice");
  });

  it("goes on past an update its handler throws on, handing that one over once only", async (t) => {
    const world = await startGatewayWorld(t);
    const chat = { user: world.alice.id, peer: world.bot.id };
    let poisoned = 0;
    await world.open(async (incoming) => {
      if (incoming.kind === "message" && incoming.text === "poison") {
        poisoned++;
        throw new Error("the handler cannot take this one");
      }
    });
    for (const text of ["before", "poison", "after", "and after"])
      world.srv.server.sendText(world.alice.id, chat, text);
    await world.waitForReceived(4);
    assert.deepEqual(texts(world.received), ["before", "poison", "after", "and after"]);
    assert.equal(poisoned, 1);
  });

  it("consumes a difference longer than one slice", async (t) => {
    const world = await startGatewayWorld(t, { updateLog: { sliceSize: 4 } });
    const chat = { user: world.alice.id, peer: world.bot.id };
    const first = await world.open();
    world.srv.server.sendText(world.alice.id, chat, "m0");
    await world.waitForReceived(1);
    await first.stop();
    const sent = Array.from({ length: 11 }, (_, i) => `m${i + 1}`);
    for (const text of sent) world.srv.server.sendText(world.alice.id, chat, text);
    const before = world.srv.server.counters().rpcs["updates.GetDifference"] ?? 0;
    await world.open();
    await world.waitForReceived(12);
    assert.deepEqual(texts(world.received), ["m0", ...sent]);
    const calls = (world.srv.server.counters().rpcs["updates.GetDifference"] ?? 0) - before;
    assert.ok(calls >= 3, `11 updates in slices of 4 take at least 3 calls, took ${calls}`);
  });

  it("catches up after the server drops every connection, and after an outage", async (t) => {
    const world = await startGatewayWorld(t);
    const chat = { user: world.alice.id, peer: world.bot.id };
    const gateway = await world.open();
    world.srv.server.sendText(world.alice.id, chat, "first");
    await world.waitForReceived(1);
    world.srv.server.dropConnections();
    world.srv.server.sendText(world.alice.id, chat, "while reconnecting");
    await world.waitForReceived(2, 60_000);
    await world.srv.server.startOutage({ mode: "refuse" });
    await waitFor(
      () => gateway.connectionState() !== "connected",
      60_000,
      "the gateway to notice the outage",
    );
    world.srv.server.sendText(world.alice.id, chat, "during the outage");
    await world.srv.server.endOutage();
    await world.waitForReceived(3, 90_000);
    await waitFor(() => gateway.connectionState() === "connected", 60_000, "the gateway to reconnect");
    assert.deepEqual(texts(world.received), ["first", "while reconnecting", "during the outage"]);
  });

  it("comes back after a server restart on the same port and after a minute without a network", async (t) => {
    const world = await startGatewayWorld(t);
    const chat = { user: world.alice.id, peer: world.bot.id };
    const gateway = await world.open();
    world.srv.server.sendText(world.alice.id, chat, "first");
    await world.waitForReceived(1);
    await world.srv.server.restart({ downMs: 2_000 });
    world.srv.server.sendText(world.alice.id, chat, "after the restart");
    await world.waitForReceived(2, 90_000);
    // Long enough for gramjs to spend all its own reconnect attempts: from then on the gateway reconnects.
    await world.srv.server.startOutage({ mode: "refuse", durationMs: 65_000 });
    world.srv.server.sendText(world.alice.id, chat, "during a minute offline");
    await waitFor(
      () => gateway.connectionState() !== "connected",
      60_000,
      "the gateway to notice the outage",
    );
    await world.waitForReceived(3, 180_000);
    await waitFor(() => gateway.connectionState() === "connected", 60_000, "the gateway to reconnect");
    assert.deepEqual(texts(world.received), ["first", "after the restart", "during a minute offline"]);
    const { messageId } = await gateway.sendText(world.alice.id, "still here");
    assert.ok(messageId > 0);
  });

  it("does not hand an update over twice after kill -9 between handling it and saving the state", async (t) => {
    const world = await startGatewayWorld(t);
    const chat = { user: world.alice.id, peer: world.bot.id };
    const out = join(world.dir, "handled.txt");
    const db = join(world.dir, "child.db");
    const crashing = startChild(world.config, db, out, 2);
    t.after(() => crashing.child.kill("SIGKILL"));
    await crashing.ready;
    for (const text of ["one", "two", "three"]) world.srv.server.sendText(world.alice.id, chat, text);
    assert.equal(await crashing.exit, "SIGKILL", "the child killed itself after the second update");
    world.srv.server.sendText(world.alice.id, chat, "four");
    const healthy = startChild(world.config, db, out, 0);
    t.after(() => healthy.child.kill("SIGKILL"));
    await healthy.ready;
    await waitFor(() => lines(out).length >= 4, CHILD_TIMEOUT_MS, "four handled updates");
    healthy.child.kill("SIGTERM");
    await healthy.exit;
    assert.deepEqual(
      lines(out).map((l) => l.split(" ")[1]),
      ["one", "two", "three", "four"],
      "each once, in order",
    );
  });
});

function lines(file: string): string[] {
  try {
    return readFileSync(file, "utf8").split("\n").filter(Boolean);
  } catch {
    return []; // not written yet
  }
}

function startChild(config: unknown, db: string, out: string, crashAfter: number) {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", CHILD], {
    env: {
      ...process.env,
      GATEWAY_CONFIG: JSON.stringify(config),
      DB_FILE: db,
      OUT_FILE: out,
      CRASH_AFTER: String(crashAfter),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the child never said ready")), CHILD_TIMEOUT_MS);
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", () => {
      clearTimeout(timer);
      reject(new Error("the child exited before it was ready"));
    });
  });
  const exit = new Promise<NodeJS.Signals | number | null>((resolve) => {
    child.on("exit", (code, signal) => resolve(signal ?? code));
  });
  return { child, ready, exit };
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
