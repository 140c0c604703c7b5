/**
 * `medusa download` end to end, without Telegram credentials. The SSRF cases run with a connect wrapper that
 * throws on any non-loopback target, so even a broken guard could not send a packet to 10.0.0.1 or
 * 169.254.169.254; the local server counts its connections to show that refused links never reached it.
 */
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { downloadCommand } from "../../src/cli/download.js";
import { type Config, parseConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import {
  randomBody,
  recordConnections,
  redirectTo,
  serveBody,
  startHttpServer,
  type TestHttpServer,
} from "../support/http-server.js";

let server: TestHttpServer;
let root: string;
let out: string;
let connections: ReturnType<typeof recordConnections>;
const body = randomBody(300_000);
const log = createLogger({ level: "silent", destination: new PassThrough() });

function config(allowPrivate: boolean): Config {
  // No TELEGRAM_* at all: the command must not need them.
  return parseConfig({
    DATA_DIR: path.join(root, "data"),
    ALLOW_PRIVATE_NETWORKS: allowPrivate ? "true" : "false",
    MIN_FREE_DISK: "0",
    HTTP_IDLE_TIMEOUT_MS: "2000",
    HTTP_CONNECT_TIMEOUT_MS: "2000",
  });
}

function capture() {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

async function run(argv: string[], allowPrivate = false, guard = {}) {
  const stdout = capture();
  const stderr = capture();
  const code = await downloadCommand(argv, config(allowPrivate), log, {
    stdout: stdout.stream,
    stderr: stderr.stream,
    guard,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "medusa-cli-dl-"));
  server = await startHttpServer();
  server.route("/file.bin", (req, res) => serveBody(req, res, body));
  server.route("/missing", (_req, res) => res.writeHead(404).end());
  server.route("/to-metadata", redirectTo("http://169.254.169.254/latest/meta-data/iam/"));
  server.route("/to-ten", redirectTo("http://10.0.0.1/"));
});
after(async () => {
  await server.close();
  await fs.rm(root, { recursive: true, force: true });
});
let n = 0;
beforeEach(async () => {
  out = path.join(root, `out${++n}`);
  connections = recordConnections();
});
afterEach(() => connections.restore());

async function outFiles(): Promise<string[]> {
  return fs.readdir(out).catch(() => []);
}

function assertPlain(stderr: string) {
  assert.match(stderr, /^medusa download: /);
  assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
  assert.equal(stderr.trim().split("\n").length <= 2, true, stderr);
}

describe("medusa download", () => {
  it("saves a file with --out and --name and prints its path", async () => {
    const result = await run([`${server.origin}/file.bin`, "--out", out, "--name", "My file.bin"], true);
    assert.equal(result.code, 0, result.stderr);
    const saved = path.join(out, "My file.bin");
    assert.equal(result.stdout.trim(), saved);
    assert.deepEqual(await fs.readFile(saved), body.read(0, body.size));
  });

  const refused: Array<[string, string]> = [
    ["http://127.0.0.1:PORT/file.bin", "private or reserved"],
    ["http://169.254.169.254/latest/meta-data/", "private or reserved"],
    ["http://10.0.0.1/x", "private or reserved"],
    ["http://[::1]:PORT/file.bin", "private or reserved"],
    ["http://user:hunter2@10.0.0.1/x", "private or reserved"],
  ];
  for (const [template, message] of refused) {
    it(`refuses ${template} without opening a socket`, async () => {
      const before = server.connections;
      const result = await run([template.replace("PORT", String(server.port)), "--out", out]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(message));
      assert.doesNotMatch(result.stderr + result.stdout, /hunter2/);
      assertPlain(result.stderr);
      assert.deepEqual(connections.attempts, []);
      assert.equal(server.connections, before);
      assert.deepEqual(await outFiles(), []);
    });
  }

  for (const route of ["/to-metadata", "/to-ten"]) {
    it(`refuses a redirect from the local server (${route}) to a private address, never connecting to it`, async () => {
      const result = await run([`${server.origin}${route}`, "--out", out], false, {
        trustedOrigins: [server.origin],
      });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /private or reserved/);
      assertPlain(result.stderr);
      // Only the trusted first hop was contacted.
      assert.deepEqual(connections.attempts, [`127.0.0.1:${server.port}`]);
      assert.deepEqual(await outFiles(), []);
    });
  }

  it("refuses file:///etc/passwd as bad input", async () => {
    const result = await run(["file:///etc/passwd", "--out", out]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Only http and https links/);
    assertPlain(result.stderr);
    assert.deepEqual(connections.attempts, []);
  });

  it("reports an HTTP error in one line with exit code 1 and leaves nothing", async () => {
    const result = await run([`${server.origin}/missing`, "--out", out], true);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /404/);
    assertPlain(result.stderr);
    assert.deepEqual(await outFiles(), []);
  });

  for (const argv of [[], ["a", "b"], ["https://example.com/x", "--quality", "9000"], ["--bogus", "x"]]) {
    it(`rejects bad arguments ${JSON.stringify(argv)} with exit code 2 and the usage`, async () => {
      const result = await run(argv);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /Usage: medusa download <url>/);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
      assert.deepEqual(connections.attempts, []);
    });
  }
});
