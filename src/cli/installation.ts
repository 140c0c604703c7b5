/**
 * `medusa export [--out F]` and `medusa import <F> [--legacy-env F] [--dry-run]`: an installation (users, roles,
 * chats, settings, known files, history) moved as JSON lines, or taken from another bot's .env lists.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { type Config, storeTarget } from "../config.js";
import { openStoreAndMigrate } from "../db/database.js";
import {
  exportInstallation,
  type ImportOutcome,
  type InstallationRecord,
  importInstallation,
  RECORD_ORDER,
} from "../db/installation.js";
import { UserError } from "../errors.js";
import {
  headerLine,
  legacyEnvRecords,
  MAX_IMPORT_BYTES,
  parseInstallationLines,
} from "./installation-lines.js";

export async function exportCommand(argv: string[], config: Config): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { out: { type: "string" } }, strict: true });
  const out = values.out ? path.resolve(values.out) : undefined;
  if (out && fs.existsSync(out))
    throw new UserError("EXPORT_EXISTS", `${out} already exists; choose another --out.`);
  const opened = await openStoreAndMigrate(storeTarget(config));
  // Written beside the target and renamed at the end, so a failed export never leaves half a file under its name.
  const partial = out ? `${out}.partial-${process.pid}` : undefined;
  const sink = partial ? fs.createWriteStream(partial, { mode: 0o600 }) : process.stdout;
  const counts = new Map<string, number>();
  try {
    await write(sink, `${headerLine()}\n`);
    for await (const record of exportInstallation(opened.db)) {
      counts.set(record.type, (counts.get(record.type) ?? 0) + 1);
      await write(sink, `${JSON.stringify(record)}\n`);
    }
    if (partial && out) {
      await new Promise<void>((resolve, reject) =>
        (sink as fs.WriteStream).end((e?: Error) => (e ? reject(e) : resolve())),
      );
      fs.renameSync(partial, out);
    }
  } catch (error) {
    if (partial) fs.rmSync(partial, { force: true });
    throw error;
  } finally {
    await opened.close();
  }
  const summary = RECORD_ORDER.map((type) => `${counts.get(type) ?? 0} ${type}`).join(", ");
  console.error(`Exported ${summary}${out ? ` to ${out}` : ""}`);
  return 0;
}

export async function importCommand(argv: string[], config: Config): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { "legacy-env": { type: "string" }, "dry-run": { type: "boolean" } },
    strict: true,
  });
  if (positionals.length > 1) throw new UserError("IMPORT_USAGE", "Give one export file at most.");
  const file = positionals[0];
  const legacy = values["legacy-env"];
  if (!file && !legacy) {
    throw new UserError(
      "IMPORT_USAGE",
      "Nothing to import: name an export file, or --legacy-env with another bot's .env file.",
    );
  }
  const records: InstallationRecord[] = [];
  if (file) {
    const parsed = parseInstallationLines(readBounded(file));
    if (!parsed.ok) {
      console.error(`medusa import: ${file} was not imported; nothing changed:`);
      for (const problem of parsed.problems) console.error(`  - ${problem}`);
      return 1;
    }
    records.push(...parsed.records);
  }
  if (legacy) {
    const lists = legacyEnvRecords(readBounded(legacy));
    if (lists.found.length === 0) {
      throw new UserError(
        "IMPORT_NOTHING",
        `${legacy} has none of the lists Medusa knows (AUTH_USERS, ADMINS, LOG_CHANNEL, CHANNELS …).`,
      );
    }
    console.error(`From ${legacy}: ${lists.found.join(", ")}`);
    for (const entry of lists.skipped) console.error(`  skipped ${entry}: not a numeric id`);
    records.push(...lists.records);
  }
  const opened = await openStoreAndMigrate(storeTarget(config));
  let outcome: ImportOutcome | undefined;
  try {
    await opened.db
      .transaction()
      .execute(async (trx) => {
        outcome = await importInstallation(trx, records);
        if (values["dry-run"]) throw DRY_RUN;
      })
      .catch((error: unknown) => {
        if (error !== DRY_RUN) throw error;
      });
  } finally {
    await opened.close();
  }
  if (!outcome) throw new Error("import finished without an outcome");
  for (const note of outcome.notes) console.error(`  note: ${note}`);
  for (const type of RECORD_ORDER) {
    const c = outcome.counts[type];
    if (c.added + c.updated + c.unchanged === 0) continue;
    console.log(`${type}: ${c.added} added, ${c.updated} updated, ${c.unchanged} unchanged`);
  }
  if (values["dry-run"]) console.log("Dry run: nothing was written.");
  return 0;
}

/** Thrown inside the transaction to roll a dry run back. */
const DRY_RUN = Symbol("dry run");

function readBounded(file: string): string {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    throw new UserError("IMPORT_NOT_FOUND", `${file} cannot be read.`);
  }
  if (size > MAX_IMPORT_BYTES) {
    throw new UserError("IMPORT_TOO_LARGE", `${file} is larger than an installation export can be.`);
  }
  return fs.readFileSync(file, "utf8");
}

function write(stream: NodeJS.WritableStream, chunk: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.write(chunk)) resolve();
    else {
      stream.once("drain", resolve);
      stream.once("error", reject);
    }
  });
}
