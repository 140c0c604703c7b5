import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { parseConfig } from "../src/config.js";
import { ConfigError } from "../src/errors.js";

const TELEGRAM = {
  TELEGRAM_API_ID: "12345",
  TELEGRAM_API_HASH: "0123456789abcdef".repeat(2),
  BOT_TOKEN: `123456:${"A".repeat(35)}`,
  OWNER_ID: "777",
};

function problemsOf(env: Record<string, string>, telegram = true): string[] {
  try {
    parseConfig(env, { telegram });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return [...error.problems];
  }
  assert.fail("expected the configuration to be rejected");
}

describe("parseConfig", () => {
  it("applies defaults when only the Telegram credentials are set", () => {
    const config = parseConfig(TELEGRAM, { telegram: true });
    assert.equal(config.telegram?.apiId, 12345);
    assert.equal(config.telegram?.ownerId, "777");
    assert.equal(config.telegram?.server, undefined, "talks to Telegram itself by default");
    assert.equal(config.paths.database, path.resolve("data/medusa.db"));
    assert.equal(config.paths.work, path.resolve("data/work"));
    assert.equal(config.limits.maxDownloadSize, 4000 * 1024 * 1024);
    assert.equal(config.fetch.allowPrivateNetworks, false);
    assert.equal(config.http.port, 9090);
    assert.deepEqual(config.logChannels, []);
    assert.equal(config.limits.jobsPerHour, 200);
    assert.equal(config.limits.bytesPerDay, 100 * 1024 ** 3);
    assert.equal(config.limits.batchLines, 1000);
  });

  it("reads the per-user limits and refuses a batch limit past what a list may hold", () => {
    const config = parseConfig({
      MAX_JOBS_PER_HOUR: "30",
      MAX_BYTES_PER_DAY: "20GiB",
      MAX_BATCH_LINES: "50",
    });
    assert.deepEqual(
      [config.limits.jobsPerHour, config.limits.bytesPerDay, config.limits.batchLines],
      [30, 20 * 1024 ** 3, 50],
    );
    assert.throws(
      () => parseConfig({ MAX_BATCH_LINES: "5000", MAX_BYTES_PER_DAY: "lots" }),
      (error: Error) => {
        assert.match(error.message, /MAX_BATCH_LINES/);
        assert.match(error.message, /MAX_BYTES_PER_DAY/);
        return true;
      },
    );
  });

  it("does not ask for Telegram credentials when the command needs none", () => {
    const config = parseConfig({});
    assert.equal(config.telegram, undefined);
  });

  it("names every missing Telegram variable at once, with a hint", () => {
    const problems = problemsOf({});
    assert.deepEqual(
      problems.map((p) => p.split(":")[0]),
      ["BOT_TOKEN", "OWNER_ID", "TELEGRAM_API_HASH", "TELEGRAM_API_ID"],
    );
    for (const p of problems) assert.match(p, /missing \(.+\)/);
  });

  it("treats empty values as unset", () => {
    const problems = problemsOf({ ...TELEGRAM, BOT_TOKEN: "" });
    assert.deepEqual(problems, ["BOT_TOKEN: missing (create a bot with @BotFather and copy its token)"]);
  });

  it("rejects malformed credentials without echoing them", () => {
    const secret = "not-a-token-SECRETVALUE";
    const problems = problemsOf({
      TELEGRAM_API_ID: "abc",
      TELEGRAM_API_HASH: "xyz-SECRETVALUE",
      BOT_TOKEN: secret,
      OWNER_ID: "-5",
    });
    assert.equal(problems.length, 4);
    assert.ok(
      problems.every((p) => !p.includes("SECRETVALUE")),
      problems.join("\n"),
    );
    assert.match(problems.find((p) => p.startsWith("BOT_TOKEN"))!, /@BotFather/);
  });

  it("reports every bad setting together with the Telegram ones", () => {
    const problems = problemsOf({
      HTTP_PORT: "70000",
      MAX_CONCURRENT_JOBS: "0",
      MAX_DOWNLOAD_SIZE: "lots",
      ALLOW_PRIVATE_NETWORKS: "maybe",
      LOG_LEVEL: "chatty",
      LOG_CHANNELS: "-100123,@name",
      TELEGRAM_SERVER: "no-port",
      UPLOAD_CONNECTIONS: "2.5",
    });
    const keys = problems.map((p) => p.split(":")[0]);
    for (const key of [
      "HTTP_PORT",
      "MAX_CONCURRENT_JOBS",
      "MAX_DOWNLOAD_SIZE",
      "ALLOW_PRIVATE_NETWORKS",
      "LOG_LEVEL",
      "LOG_CHANNELS",
      "TELEGRAM_SERVER",
      "UPLOAD_CONNECTIONS",
      "BOT_TOKEN",
    ]) {
      assert.ok(keys.includes(key), `${key} should be reported; got:\n${problems.join("\n")}`);
    }
    assert.match(problems.find((p) => p.startsWith("HTTP_PORT"))!, /from 0 to 65535/);
  });

  it("reads sizes, booleans, lists and the local server address", () => {
    const config = parseConfig(
      {
        ...TELEGRAM,
        MAX_DOWNLOAD_SIZE: "2GB",
        MIN_FREE_DISK: "512MiB",
        ALLOW_PRIVATE_NETWORKS: "yes",
        LOG_CHANNELS: " -1001, -1002 ",
        TELEGRAM_SERVER: "127.0.0.1:4430",
        TELEGRAM_SERVER_KEY_FILE: "/tmp/key.pem",
        TELEGRAM_DC_ID: "1",
        DATA_DIR: "/srv/medusa",
      },
      { telegram: true },
    );
    assert.equal(config.limits.maxDownloadSize, 2_000_000_000);
    assert.equal(config.limits.minFreeDisk, 512 * 1024 * 1024);
    assert.equal(config.fetch.allowPrivateNetworks, true);
    assert.deepEqual(config.logChannels, ["-1001", "-1002"]);
    assert.deepEqual(config.telegram?.server, {
      host: "127.0.0.1",
      port: 4430,
      dcId: 1,
      publicKeyFile: "/tmp/key.pem",
    });
    assert.equal(config.paths.database, "/srv/medusa/medusa.db");
    assert.equal(config.telegram?.sessionFile, "/srv/medusa/user.session");
  });

  it("reads the status edit interval, 5 s by default, and refuses one Telegram would answer with FLOOD_WAIT", () => {
    assert.equal(parseConfig(TELEGRAM).status.editIntervalMs, 5000);
    assert.equal(parseConfig({ ...TELEGRAM, STATUS_EDIT_INTERVAL_MS: "8000" }).status.editIntervalMs, 8000);
    assert.deepEqual(problemsOf({ ...TELEGRAM, STATUS_EDIT_INTERVAL_MS: "200" }), [
      "STATUS_EDIT_INTERVAL_MS: expected a whole number from 1000 to 600000",
    ]);
  });

  it("reads the job lease and heartbeat, and refuses a beat that could let the lease lapse", () => {
    const config = parseConfig(TELEGRAM);
    assert.deepEqual(config.jobs, { leaseMs: 60_000, heartbeatMs: 2000 });
    assert.equal(config.status.pollMs, 1000);
    assert.deepEqual(parseConfig({ ...TELEGRAM, JOB_LEASE_MS: "3000", JOB_HEARTBEAT_MS: "500" }).jobs, {
      leaseMs: 3000,
      heartbeatMs: 500,
    });
    assert.deepEqual(problemsOf({ ...TELEGRAM, JOB_LEASE_MS: "3000", JOB_HEARTBEAT_MS: "2000" }), [
      "JOB_HEARTBEAT_MS: at most half of JOB_LEASE_MS, so one late beat does not lose the lease",
    ]);
  });

  it("refuses a server key without a server", () => {
    const problems = problemsOf({ ...TELEGRAM, TELEGRAM_SERVER_KEY_FILE: "/tmp/k.pem" });
    assert.deepEqual(problems, ["TELEGRAM_SERVER_KEY_FILE: set only together with TELEGRAM_SERVER"]);
  });
});

describe(".env.example", () => {
  it("documents every variable, each with a comment above it", async () => {
    const { readFile } = await import("node:fs/promises");
    const { CONFIG_KEYS } = await import("../src/config.js");
    const lines = (await readFile(new URL("../.env.example", import.meta.url), "utf8")).split("\n");
    const listed = lines.map((l) => /^([A-Z_]+)=/.exec(l)?.[1]).filter(Boolean);
    assert.deepEqual([...listed].sort(), [...CONFIG_KEYS]);
    for (const [i, line] of lines.entries()) {
      if (!/^[A-Z_]+=/.test(line)) continue;
      let j = i - 1;
      while (j >= 0 && /^[A-Z_]+=/.test(lines[j] ?? "")) j--;
      assert.match(lines[j] ?? "", /^# \S/, `${line} has a comment above it`);
    }
  });

  it("contains no secret values", async () => {
    const { readFile } = await import("node:fs/promises");
    const text = await readFile(new URL("../.env.example", import.meta.url), "utf8");
    for (const key of ["TELEGRAM_API_ID", "TELEGRAM_API_HASH", "BOT_TOKEN", "OWNER_ID", "TELEGRAM_SESSION"]) {
      assert.match(text, new RegExp(`^${key}=$`, "m"));
    }
  });
});
