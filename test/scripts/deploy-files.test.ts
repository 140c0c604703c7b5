/**
 * The deploy files, checked without a Docker engine or a running systemd: each by a linter that runs here and in
 * CI (dockerfile-utils for the Dockerfile, dclint with the Compose Specification schema it ships for the compose
 * file, systemd-analyze for the unit), then for what an operator would look for in them.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { parse as parseYaml } from "yaml";
import { STOP_EDIT_TIMEOUT_MS } from "../../src/bot/status.js";
import { STOP_GRACE_MS } from "../../src/jobs/runner.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");
const bin = (name: string) => path.join(ROOT, "node_modules", ".bin", name);
/** Medusa's own stop: running steps, then the live status messages' final edits, then a margin to disconnect. */
const GRACEFUL_STOP_S = (STOP_GRACE_MS + STOP_EDIT_TIMEOUT_MS) / 1000 + 5;
const LINT_TIMEOUT_MS = 60_000;

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions (continuation lines joined, comments dropped), split into build stages. */
function dockerStages(text: string): Instruction[][] {
  const joined = text
    .split("\n")
    .filter((line) => !/^\s*#/.test(line))
    .join("\n")
    .replace(/\\\n/g, " ");
  const stages: Instruction[][] = [[]];
  for (const line of joined.split("\n")) {
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const instruction = { keyword: match[1]!.toUpperCase(), args: match[2]!.trim() };
    if (instruction.keyword === "FROM") stages.push([]);
    stages.at(-1)!.push(instruction);
  }
  return stages.slice(1);
}

/** The `KEY=value` pairs of ENV instructions (the `ENV a=1 b=2` form). */
function dockerEnv(stage: Instruction[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const { keyword, args } of stage) {
    if (keyword !== "ENV") continue;
    for (const match of args.matchAll(/([A-Z_][A-Z0-9_]*)=("[^"]*"|\S+)/g))
      env.set(match[1]!, match[2]!.replace(/"/g, ""));
  }
  return env;
}

/** A unit file as section -> key -> every value given (systemd allows repeats). */
function unitFile(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const at = line.indexOf("=");
    assert.ok(current && at > 0, `unit line outside a section or without "=": ${line}`);
    const key = line.slice(0, at).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(at + 1).trim()]);
  }
  return sections;
}

/** "30s", "1min 30s", "30" (seconds) → seconds. */
function seconds(span: string): number {
  let total = 0;
  for (const match of span.matchAll(/(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h)?/g)) {
    const n = Number(match[1]);
    const unit = match[2] ?? "s";
    total += unit === "ms" ? n / 1000 : unit === "m" || unit === "min" ? n * 60 : unit === "h" ? n * 3600 : n;
  }
  return total;
}

describe("Dockerfile", () => {
  const text = read("Dockerfile");
  const stages = dockerStages(text);
  const final = stages.at(-1)!;
  const last = (keyword: string) => final.filter((i) => i.keyword === keyword).at(-1);

  it("has no problem dockerfile-utils reports", async () => {
    const run = await execa(bin("dockerfile-utils"), ["lint", "Dockerfile"], {
      cwd: ROOT,
      reject: false,
      timeout: LINT_TIMEOUT_MS,
    });
    assert.equal(`${run.stdout}${run.stderr}`.trim(), "", "dockerfile-utils lint output");
    assert.equal(run.exitCode, 0);
  });

  it("runs the final stage as a non-root user under tini, with `start` as the command", () => {
    const user = last("USER");
    assert.ok(user, "a USER in the final stage");
    assert.doesNotMatch(user.args, /^(root|0)(:|$)/);
    const entrypoint = JSON.parse(last("ENTRYPOINT")!.args) as string[];
    assert.equal(path.basename(entrypoint[0]!), "tini");
    assert.deepEqual(entrypoint.slice(-2), ["node", "dist/cli.js"]);
    assert.deepEqual(JSON.parse(last("CMD")!.args), ["start"]);
  });

  it("keeps its state in a volume at DATA_DIR and checks /healthz on HTTP_PORT", () => {
    const env = dockerEnv(final);
    const volume = JSON.parse(last("VOLUME")!.args) as string[];
    assert.deepEqual(volume, [env.get("DATA_DIR")]);
    assert.ok(
      final.some((i) => i.keyword === "RUN" && i.args.includes(`chown node:node ${env.get("DATA_DIR")}`)),
      "the data folder belongs to the service's user",
    );
    const health = last("HEALTHCHECK")!.args;
    assert.match(health, /CMD .*http:\/\/127\.0\.0\.1:.*\/healthz/);
    assert.match(health, /process\.env\.HTTP_PORT\|\|9090/);
    assert.equal(env.get("HTTP_PORT"), "9090");
    assert.equal(last("EXPOSE")!.args, "9090");
    // Inside a container the health server must listen beyond the container's own loopback.
    assert.equal(env.get("HTTP_HOST"), "0.0.0.0");
  });

  it("builds from a Node LTS slim image, ships no dev packages and takes a current yt-dlp from PyPI", () => {
    const froms = stages.map((stage) => stage[0]!.args);
    assert.ok(
      froms.every((from) => /^node:\$\{NODE_MAJOR\}-bookworm-slim\b/.test(from)),
      froms.join(", "),
    );
    assert.match(text, /^ARG NODE_MAJOR=(2[02468])$/m, "an even (LTS) Node major");
    assert.ok(stages.length >= 3, "build, yt-dlp and final stages");
    assert.ok(
      stages[0]!.some((i) => i.keyword === "RUN" && /npm prune --omit=dev/.test(i.args)),
      "dev packages pruned before node_modules is copied",
    );
    assert.ok(
      final.some((i) => i.keyword === "COPY" && /--from=build \/app\/node_modules/.test(i.args)),
      "node_modules comes from the pruned build stage",
    );
    assert.ok(!final.some((i) => i.keyword === "RUN" && /\bnpm (ci|install)\b/.test(i.args)));
    assert.match(text, /pip install .*"yt-dlp\[default\]==\$\{YTDLP_VERSION\}"/);
    assert.match(text, /^ARG YTDLP_VERSION=20\d\d\.\d\d\.\d\d$/m);
    const aptInFinal = final.filter((i) => i.keyword === "RUN" && /apt-get install/.test(i.args));
    assert.ok(
      aptInFinal.length > 0 && aptInFinal.every((i) => !/\byt-dlp\b/.test(i.args)),
      "not Debian's yt-dlp",
    );
    for (const tool of ["ffmpeg", "tini", "ca-certificates"]) {
      assert.ok(
        aptInFinal.some((i) => i.args.includes(tool)),
        `${tool} in the final image`,
      );
    }
  });

  it("leaves secrets and state out of the build context", () => {
    const ignored = read(".dockerignore")
      .split("\n")
      .map((line) => line.trim());
    for (const entry of [".env", "data", "node_modules", "*.session"])
      assert.ok(ignored.includes(entry), entry);
  });
});

describe("docker-compose.yml", () => {
  const compose = parseYaml(read("docker-compose.yml")) as {
    services: Record<string, Record<string, unknown>>;
    volumes?: Record<string, unknown>;
  };

  it("has no problem dclint reports (Compose Specification schema and its rules)", async () => {
    const run = await execa(bin("dclint"), ["docker-compose.yml"], {
      cwd: ROOT,
      reject: false,
      timeout: LINT_TIMEOUT_MS,
    });
    assert.equal(run.exitCode, 0, `${run.stdout}${run.stderr}`);
    assert.doesNotMatch(`${run.stdout}${run.stderr}`, /error|warning/i);
  });

  it("is the single-node deployment: one medusa service on .env, the data volume at DATA_DIR, loopback only", () => {
    assert.deepEqual(Object.keys(compose.services), ["medusa"]);
    const medusa = compose.services.medusa!;
    assert.equal(medusa.env_file, ".env");
    const environment = medusa.environment as Record<string, string>;
    const dockerEnvironment = dockerEnv(dockerStages(read("Dockerfile")).at(-1)!);
    assert.equal(environment.DATA_DIR, dockerEnvironment.get("DATA_DIR"));
    assert.deepEqual(medusa.volumes, [`medusa-data:${environment.DATA_DIR}`]);
    assert.ok(compose.volumes && "medusa-data" in compose.volumes, "a named volume");
    assert.deepEqual(medusa.ports, [`127.0.0.1:${environment.HTTP_PORT}:${environment.HTTP_PORT}`]);
    assert.equal(environment.HTTP_HOST, "0.0.0.0");
    assert.match(String(medusa.restart), /^(unless-stopped|always|on-failure)/);
  });

  it("checks /healthz and gives Medusa time to stop cleanly", () => {
    const medusa = compose.services.medusa!;
    const health = medusa.healthcheck as { test: string[] };
    assert.equal(health.test[0], "CMD");
    assert.match(health.test.join(" "), /http:\/\/127\.0\.0\.1:9090\/healthz/);
    assert.ok(seconds(String(medusa.stop_grace_period)) >= GRACEFUL_STOP_S, String(medusa.stop_grace_period));
  });
});

describe("docker-compose.scale.yml", () => {
  const compose = parseYaml(read("docker-compose.scale.yml"), { merge: true }) as {
    services: Record<string, Record<string, unknown>>;
  };

  it("has no problem dclint reports", async () => {
    const run = await execa(bin("dclint"), ["docker-compose.scale.yml"], {
      cwd: ROOT,
      reject: false,
      timeout: LINT_TIMEOUT_MS,
    });
    assert.equal(run.exitCode, 0, `${run.stdout}${run.stderr}`);
    assert.doesNotMatch(`${run.stdout}${run.stderr}`, /error|warning/i);
  });

  it("runs PostgreSQL, one gateway and two workers on it; only the gateway is published, on loopback", () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ["gateway", "postgres", "worker"]);
    const { gateway, worker } = compose.services as Record<string, Record<string, unknown>>;
    assert.deepEqual(gateway!.command, ["start", "--role", "gateway"]);
    assert.deepEqual(worker!.command, ["start", "--role", "worker"]);
    assert.equal((worker!.deploy as { replicas: number }).replicas, 2);
    for (const service of [gateway!, worker!]) {
      const environment = service.environment as Record<string, string>;
      assert.match(
        environment.DATABASE_URL ?? "",
        /^postgres:\/\/medusa:\$\{POSTGRES_PASSWORD\}@postgres:5432\/medusa$/,
      );
      assert.equal(service.env_file, ".env");
      assert.deepEqual(service.depends_on, { postgres: { condition: "service_healthy" } });
    }
    assert.deepEqual(gateway!.ports, ["127.0.0.1:9090:9090"]);
    assert.equal(worker!.ports, undefined, "workers take no traffic");
  });
});

describe("scripts/medusa.service", () => {
  const text = read("scripts/medusa.service");
  const unit = unitFile(text);
  const service = unit.get("Service")!;
  const one = (key: string) => {
    const values = service.get(key);
    assert.ok(values?.length === 1, `exactly one ${key}=`);
    return values[0]!;
  };
  let dir: string;
  let copy: string;
  before(() => {
    // systemd checks that ExecStart's program exists: point it at this machine's node, the rest unchanged.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "medusa-unit-"));
    copy = path.join(dir, "medusa.service");
    fs.writeFileSync(copy, text.replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("passes systemd-analyze verify with nothing to say", async () => {
    const run = await execa("systemd-analyze", ["verify", copy], { reject: false, timeout: LINT_TIMEOUT_MS });
    assert.equal(`${run.stdout}${run.stderr}`.trim(), "", "systemd-analyze verify output");
    assert.equal(run.exitCode, 0);
  });

  it('is rated "OK" or better by systemd-analyze security (exposure at most 2.0 of 10)', async () => {
    const run = await execa("systemd-analyze", ["security", "--offline=yes", "--threshold=20", copy], {
      reject: false,
      timeout: LINT_TIMEOUT_MS,
    });
    const level = /Overall exposure level for medusa\.service: (\d+\.\d+)/.exec(run.stdout);
    assert.ok(level, run.stdout.slice(-500) + run.stderr);
    assert.equal(run.exitCode, 0, `exposure ${level[1]}`);
  });

  it("runs `medusa start` as a dedicated user that may write only to its data folder", () => {
    const exec = one("ExecStart").split(/\s+/);
    assert.equal(exec.at(-1), "start");
    assert.match(exec.slice(0, -1).join(" "), /^\/usr\/bin\/node \/opt\/medusa\/dist\/cli\.js$/);
    assert.doesNotMatch(one("User"), /^(root|0)$/);
    assert.equal(one("NoNewPrivileges"), "yes");
    assert.equal(one("ProtectSystem"), "strict");
    assert.equal(one("ProtectHome"), "yes");
    assert.equal(one("PrivateTmp"), "yes");
    assert.equal(one("SystemCallFilter"), "@system-service");
    assert.deepEqual(one("RestrictAddressFamilies").split(/\s+/).sort(), ["AF_INET", "AF_INET6", "AF_UNIX"]);
    const dataDir = /(?:^|\s)DATA_DIR=(\S+)/.exec(one("Environment"))?.[1];
    assert.ok(dataDir, "DATA_DIR set in Environment=");
    assert.equal(one("ReadWritePaths"), dataDir);
    assert.equal(one("WorkingDirectory"), dataDir);
    assert.match(one("EnvironmentFile"), /^-?\/etc\/medusa\/medusa\.env$/);
    // V8's JIT writes code and then runs it: Node aborts under MemoryDenyWriteExecute.
    assert.ok(!service.has("MemoryDenyWriteExecute"));
    assert.match(text, /MemoryDenyWriteExecute= stays off: V8's JIT/);
  });

  it("restarts on failure and waits longer than Medusa's graceful stop", () => {
    assert.equal(one("Restart"), "on-failure");
    assert.ok(seconds(one("TimeoutStopSec")) >= GRACEFUL_STOP_S, one("TimeoutStopSec"));
    assert.equal(one("KillMode"), "mixed");
    assert.deepEqual(unit.get("Install")?.get("WantedBy"), ["multi-user.target"]);
  });
});
