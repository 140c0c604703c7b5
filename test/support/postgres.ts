/**
 * A throwaway PostgreSQL cluster for the tests: initdb into a temp dir, started on 127.0.0.1 and a free port with
 * its socket in that dir, one fresh database per caller, stopped and removed when the test process exits (also
 * when a test failed). Never a system or shared cluster. initdb and postgres refuse to run as root, and CI runs as
 * root: then every command runs as the `postgres` OS user, in a temp dir it owns.
 *
 * Without PostgreSQL (no /usr/lib/postgresql/<version>/bin/initdb) the PostgreSQL variants of the tests are skipped
 * with a message locally, and fail in CI (CI=true), where scripts/setup.sh installs it.
 */
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

/** Where Debian puts each major version's binaries. */
const PG_ROOT = "/usr/lib/postgresql";
const OS_USER = "postgres";

export interface PostgresCluster {
  port: number;
  /** The URL of `database` on this cluster. */
  url(database: string): string;
  /** A new, empty database: its URL. */
  createDatabase(template?: string): Promise<string>;
}

/** The newest installed version's bin directory, or undefined. */
export function findPostgresBin(): string | undefined {
  if (!fs.existsSync(PG_ROOT)) return undefined;
  const versions = fs
    .readdirSync(PG_ROOT)
    .filter((v) => fs.existsSync(path.join(PG_ROOT, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(PG_ROOT, versions[0], "bin") : undefined;
}

/** Why the PostgreSQL variants cannot run here, or undefined when they can. Throws in CI: there they must run. */
export function postgresMissing(): string | undefined {
  if (findPostgresBin()) return undefined;
  const why = `PostgreSQL is not installed (no ${PG_ROOT}/<version>/bin/initdb): apt-get install -y postgresql`;
  if (process.env.CI === "true") throw new Error(`${why}; CI must run the PostgreSQL tests`);
  return why;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

let started: Promise<PostgresCluster> | undefined;

/** The cluster of this test process, started on first use. */
export function postgresCluster(): Promise<PostgresCluster> {
  started ??= startCluster();
  return started;
}

async function startCluster(): Promise<PostgresCluster> {
  const bin = findPostgresBin();
  if (!bin) throw new Error(postgresMissing() ?? "PostgreSQL is not installed");
  const asRoot = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "medusa-pg-"));
  const data = path.join(dir, "data");
  const as = (file: string, args: string[]) =>
    asRoot ? ["runuser", ["-u", OS_USER, "--", file, ...args]] : [file, args];
  const exec = async (file: string, args: string[]) => {
    const [cmd, argv] = as(file, args) as [string, string[]];
    await run(cmd, argv, { cwd: dir, timeout: 120_000 });
  };
  let running = false;
  const stop = () => {
    try {
      if (running) {
        const [cmd, argv] = as(path.join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]) as [
          string,
          string[],
        ];
        execFileSync(cmd, argv, { cwd: os.tmpdir(), stdio: "ignore", timeout: 60_000 });
      }
    } catch {
      // Already gone: the removal below is what matters.
    } finally {
      running = false;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  // Synchronous, so it runs on every exit of the test process, passed or failed.
  process.once("exit", stop);
  try {
    if (asRoot) {
      const uid = Number(execFileSync("id", ["-u", OS_USER]).toString().trim());
      const gid = Number(execFileSync("id", ["-g", OS_USER]).toString().trim());
      fs.chownSync(dir, uid, gid);
    }
    await exec(path.join(bin, "initdb"), [
      "-D",
      data,
      "-U",
      "postgres",
      "-A",
      "trust",
      "-E",
      "UTF8",
      "--no-sync",
    ]);
    const port = await freePort();
    // Durability settings off: a test cluster lives for one test file.
    const options = `-k ${dir} -h 127.0.0.1 -p ${port} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    await exec(path.join(bin, "pg_ctl"), [
      "-D",
      data,
      "-l",
      path.join(dir, "log"),
      "-w",
      "-o",
      options,
      "start",
    ]);
    running = true;
    const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
    return {
      port,
      url,
      async createDatabase(template?: string) {
        const name = `t_${randomBytes(6).toString("hex")}`;
        const client = new pg.Client({ connectionString: url("postgres") });
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ""}`);
        } finally {
          await client.end();
        }
        return url(name);
      },
    };
  } catch (error) {
    const log = path.join(dir, "log");
    const tail = fs.existsSync(log) ? fs.readFileSync(log, "utf8").slice(-2000) : "";
    stop();
    process.removeListener("exit", stop);
    throw new Error(`could not start a throwaway PostgreSQL cluster: ${String(error)}\n${tail}`);
  }
}
