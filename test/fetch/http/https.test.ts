/**
 * HTTPS through the guarded resolver: the certificate must match the host name the user gave while the socket
 * goes to the address the guard checked. A throwaway CA is made with openssl; the download runs in a child process
 * because Node reads extra CA certificates (NODE_EXTRA_CA_CERTS) only at start-up.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { randomBody, serveBody, startHttpServer, type TestHttpServer } from "../../support/http-server.js";

const execFileAsync = promisify(execFile);
/** Far above what key generation and a 1 MiB download take; only a wedged run hits it. */
const TIMEOUT_MS = 60_000;
const HOST = "files.test";
const REPO = path.resolve(import.meta.dirname, "..", "..", "..");

let server: TestHttpServer;
let dir: string;
let cert: string;
const body = randomBody(1024 * 1024 + 17);

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "medusa-https-"));
  cert = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
  await execFileAsync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"].concat([
      "-keyout",
      key,
      "-out",
      cert,
      "-subj",
      `/CN=${HOST}`,
      "-addext",
      `subjectAltName=DNS:${HOST}`,
    ]),
    { timeout: TIMEOUT_MS },
  );
  server = await startHttpServer({ tls: { key: await fs.readFile(key), cert: await fs.readFile(cert) } });
  server.route("/file.bin", (req, res) => serveBody(req, res, body, { contentType: "application/zip" }));
  // The child: resolves files.test to 127.0.0.1 through the guard's resolver option, downloads, prints the result.
  const http = pathToFileURL(path.join(REPO, "src", "fetch", "http", "download.ts")).href;
  await fs.writeFile(
    path.join(dir, "child.mts"),
    `import { downloadHttp } from ${JSON.stringify(http)};
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
const out = process.argv[2];
await fs.mkdir(out, { recursive: true });
try {
  const file = await downloadHttp(process.argv[3], {
    dir: out, maxSize: 1e9, minFreeDisk: 0, connectTimeoutMs: 5000, idleTimeoutMs: 5000,
    guard: { allowPrivateNetworks: true, resolve: async () => [{ address: "127.0.0.1", family: 4 }] },
  });
  const sha = createHash("sha256").update(await fs.readFile(file.path)).digest("hex");
  console.log(JSON.stringify({ ok: true, name: file.name, sha }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, code: error.code, userMessage: error.userMessage, files: await fs.readdir(out) }));
}
`,
  );
});
after(async () => {
  await server?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

async function child(out: string, env: Record<string, string>) {
  const { stdout } = await execFileAsync(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(dir, "child.mts"),
      path.join(dir, out),
      `https://${HOST}:${server.port}/file.bin`,
    ],
    { cwd: REPO, env: { ...process.env, ...env }, timeout: TIMEOUT_MS },
  );
  return JSON.parse(stdout.trim().split("\n").pop() ?? "{}");
}

describe("HTTPS downloads", () => {
  it("verify the certificate against the host name while connecting to the checked address", async () => {
    const result = await child("trusted", { NODE_EXTRA_CA_CERTS: cert });
    assert.deepEqual(result, {
      ok: true,
      name: "file.bin",
      sha: createHash("sha256").update(body.read(0, body.size)).digest("hex"),
    });
  });

  it("refuse a certificate nobody vouches for with TLS_ERROR, leaving nothing", async () => {
    const result = await child("untrusted", { NODE_EXTRA_CA_CERTS: "" });
    assert.equal(result.ok, false);
    assert.equal(result.code, "TLS_ERROR");
    assert.match(result.userMessage, /certificate/);
    assert.deepEqual(result.files, []);
  });
});
