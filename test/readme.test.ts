/**
 * The README stays true: its configuration table names every variable Medusa reads (with the default .env.example
 * gives), its command table every bot command with who may run it, and its SQL recipes run on a real database.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { ADMINS, type Command, EVERYONE, OWNER } from "../src/bot/command.js";
import { COMMANDS } from "../src/bot/commands/index.js";
import { CONFIG_KEYS } from "../src/config.js";
import { openAndMigrate } from "../src/db/database.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

/** The text under `## title`, up to the next heading of that level. */
function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `README has no "## ${title}" section`);
  const end = README.indexOf("\n## ", start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

/** The body rows of the first table in `text`, each as its cells (`\|` inside a cell is not a border). */
function tableRows(text: string): string[][] {
  const lines = text.split("\n").filter((line) => line.startsWith("|"));
  return lines.slice(2).map((line) =>
    line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim()),
  );
}

const backticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

function envExampleValues(): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of fs.readFileSync(path.join(ROOT, ".env.example"), "utf8").split("\n")) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) values.set(match[1]!, match[2]!.trim());
  }
  return values;
}

describe("README", () => {
  it("lists every configuration variable once, with the default .env.example gives", () => {
    const rows = tableRows(section("Configuration"));
    const named = rows.map((cells) => backticked(cells[0] ?? ""));
    assert.ok(
      named.every((names) => names.length === 1),
      "one variable per row",
    );
    const listed = named.map((names) => names[0]!);
    assert.deepEqual([...listed].sort(), [...CONFIG_KEYS].sort());

    const examples = envExampleValues();
    const wrong: string[] = [];
    for (const [i, name] of listed.entries()) {
      const example = examples.get(name);
      const fallback = rows[i]![1] ?? "";
      if (example && !backticked(fallback).includes(example)) {
        wrong.push(`${name}: README says "${fallback}", .env.example "${example}"`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it("lists every bot command once, with its aliases and who may run it", () => {
    const rows = tableRows(section("Telegram commands"));
    const who = (command: Command) =>
      sameRoles(command.roles, EVERYONE)
        ? "everyone"
        : sameRoles(command.roles, ADMINS)
          ? "admins"
          : sameRoles(command.roles, OWNER)
            ? "owner"
            : `unexpected roles ${command.roles.join(",")}`;
    const byName = new Map(rows.map((cells) => [backticked(cells[0] ?? "")[0] ?? "", cells]));
    assert.deepEqual(
      [...byName.keys()].sort(),
      COMMANDS.map((c) => `/${c.name}`).sort(),
      "one row per command, named first",
    );
    for (const command of COMMANDS) {
      const cells = byName.get(`/${command.name}`)!;
      assert.deepEqual(
        backticked(cells[0]!).slice(1).sort(),
        (command.aliases ?? []).map((a) => `/${a}`).sort(),
        `aliases of /${command.name}`,
      );
      assert.equal(cells[1], who(command), `who may run /${command.name}`);
      assert.ok((cells[2] ?? "").length > 0, `what /${command.name} does`);
    }
  });

  describe("SQL recipes", () => {
    let dir: string;
    let dbFile: string;
    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "medusa-readme-"));
      dbFile = path.join(dir, "medusa.db");
      const opened = await openAndMigrate(dbFile);
      await opened.close();
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    const sqlite = (input: string) =>
      execa("sqlite3", ["-bail", "-batch", "-header", dbFile], { input, reject: false, timeout: 30_000 });

    it("every sqlite3 one-liner and scripts/inspect.sql run without an error", async () => {
      const text = section("Looking inside the database");
      const oneLiners = [...text.matchAll(/^sqlite3 .*?data\/medusa\.db '([^']+)'/gm)].map((m) => m[1]!);
      assert.ok(oneLiners.length >= 3, "the one-liners are found");
      assert.match(text, /< scripts\/inspect\.sql/);
      for (const sql of [...oneLiners, fs.readFileSync(path.join(ROOT, "scripts/inspect.sql"), "utf8")]) {
        const run = await sqlite(sql);
        assert.equal(run.exitCode, 0, `${sql.slice(0, 80)}: ${run.stderr}`);
        assert.equal(run.stderr, "", sql.slice(0, 80));
      }
    });

    it("every query in the sql block runs without an error", async () => {
      const block = /```sql\n([\s\S]*?)```/.exec(section("Looking inside the database"));
      assert.ok(block, "the sql block is found");
      const queries = block[1]!
        .replace(/^\s*--.*$/gm, "")
        .split(";")
        .map((q) => q.trim())
        .filter(Boolean);
      assert.ok(queries.length >= 5, "the queries are found");
      for (const query of queries) {
        const run = await sqlite(`${query};`);
        assert.equal(run.exitCode, 0, `${query.slice(0, 80)}: ${run.stderr}`);
        assert.equal(run.stderr, "", query.slice(0, 80));
      }
    });
  });
});

function sameRoles(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((role) => b.includes(role));
}
