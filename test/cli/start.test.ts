import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { tempDir } from "../support/temp-dir.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");

/** The local Telegram server in its own process, as `npm run local-telegram` runs it. */
async function startLocalTelegram(): Promise<{ child: ChildProcess; env: Record<string, string> }> {
  const child = spawn(process.execPath, ["--import", "tsx", "test/support/telegram-server/cli.ts"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("local-telegram printed nothing in 30 s")), 30_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("\n")) {
        clearTimeout(timer);
        resolve(out.slice(0, out.indexOf("\n")));
      }
    });
    child.once("exit", (code) => reject(new Error(`local-telegram exited with ${code}`)));
  });
  return { child, env: (JSON.parse(line) as { env: Record<string, string> }).env };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls until the URL answers 200, at most `timeoutMs`. */
async function waitFor200(url: string, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`medusa exited early with ${child.exitCode}`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms`);
}

describe("medusa start against the local Telegram server", () => {
  let telegram: Awaited<ReturnType<typeof startLocalTelegram>>;
  before(async () => {
    telegram = await startLocalTelegram();
  });
  after(() => {
    telegram.child.kill("SIGTERM");
  });

  it("logs in as the bot, reports ready, and stops cleanly on SIGTERM", async (t) => {
    const dir = tempDir(t);
    const port = await freePort();
    const medusa = spawn(TSX, [path.join(ROOT, "src/cli.ts"), "start"], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        ...telegram.env,
        DATA_DIR: path.join(dir, "data"),
        HTTP_PORT: String(port),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    medusa.stdout.on("data", (c: Buffer) => (output += c.toString()));
    medusa.stderr.on("data", (c: Buffer) => (output += c.toString()));
    t.after(() => {
      if (medusa.exitCode === null) medusa.kill("SIGKILL");
    });

    await waitFor200(`http://127.0.0.1:${port}/readyz`, 30_000, medusa).catch((error) => {
      throw new Error(`${(error as Error).message}\n${output}`);
    });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /^medusa_ready 1$/m);
    assert.match(output, /"msg":"logged in to Telegram"/);
    assert.ok(!output.includes(telegram.env.BOT_TOKEN!), "the token is never logged");

    const exited = new Promise<number | null>((resolve) => medusa.once("exit", (code) => resolve(code)));
    medusa.kill("SIGTERM");
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r("timeout"), 15_000))]);
    assert.equal(code, 0, output);
    const owner = await execa("sqlite3", [path.join(dir, "data/medusa.db"), "SELECT id, role FROM users"], {
      timeout: 10_000,
    });
    assert.equal(owner.stdout.trim(), `${telegram.env.OWNER_ID}|owner`);
  });

  it("exits 1 with a clear message when Telegram rejects the token", async (t) => {
    const dir = tempDir(t);
    const wrongToken = `${telegram.env.BOT_TOKEN!.split(":")[0]}:${"x".repeat(35)}`;
    const result = await execa(TSX, [path.join(ROOT, "src/cli.ts"), "start"], {
      cwd: dir,
      env: { PATH: process.env.PATH, ...telegram.env, BOT_TOKEN: wrongToken, DATA_DIR: dir, HTTP_PORT: "0" },
      extendEnv: false,
      reject: false,
      timeout: 90_000,
    });
    assert.equal(result.exitCode, 1, result.stderr);
    assert.match(result.stderr, /Telegram rejected BOT_TOKEN/);
    assert.ok(!(result.stderr + result.stdout).includes(wrongToken), "the token is never echoed");
  });
});
