/**
 * `npm run local-telegram`: runs the local Telegram server until SIGINT/SIGTERM. Prints one JSON line with the
 * MTProto address, the control API URL and the environment a Medusa process needs to connect as the bot this
 * server created (its owner is a user it created too). Temp files (the PEM, uploads) are removed on exit.
 */
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { startTelegramServer } from "./index.js";

const USAGE = `usage: local-telegram [--port N] [--control-port N] [--dc-id N] [--bandwidth BYTES_PER_S] [--latency MS]
                      [--flood-wait-share 0..1] [--drop-share 0..1] [--premium-owner]`;

function numberArg(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new Error(`Expected --${name} from ${min} to ${max}, got ${JSON.stringify(value)}\n${USAGE}`);
  }
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      "control-port": { type: "string" },
      "dc-id": { type: "string" },
      bandwidth: { type: "string" },
      latency: { type: "string" },
      "flood-wait-share": { type: "string" },
      "drop-share": { type: "string" },
      "premium-owner": { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const srv = await startTelegramServer({
    port: numberArg("port", values.port, 0, 65535),
    controlPort: numberArg("control-port", values["control-port"], 0, 65535),
    dcId: numberArg("dc-id", values["dc-id"], 1, 5),
    conditions: {
      bandwidth: numberArg("bandwidth", values.bandwidth, 0, 1e12),
      latencyMs: numberArg("latency", values.latency, 0, 60_000),
    },
    faults: {
      floodWaitShare: numberArg("flood-wait-share", values["flood-wait-share"], 0, 1),
      dropShare: numberArg("drop-share", values["drop-share"], 0, 1),
      // From the command line a drop share applies to every connection, not only the first.
      dropLimit: values["drop-share"] ? 0 : undefined,
    },
    control: true,
  });
  const keyFile = path.join(srv.server.tempDir, "server-key.pem");
  await writeFile(keyFile, srv.publicKeyPem, { mode: 0o600 });
  const owner = srv.server.createUser({
    firstName: "Owner",
    username: "owner",
    premium: values["premium-owner"],
  });
  const bot = srv.server.createBot({ firstName: "Medusa", username: "medusa_local_bot" });
  const mtproto = `127.0.0.1:${srv.mtprotoPort}`;
  const line = {
    mtproto,
    control: srv.controlUrl,
    env: {
      TELEGRAM_API_ID: "12345",
      TELEGRAM_API_HASH: randomBytes(16).toString("hex"),
      BOT_TOKEN: bot.botToken,
      OWNER_ID: String(owner.id),
      TELEGRAM_SERVER: mtproto,
      TELEGRAM_SERVER_KEY_FILE: keyFile,
      TELEGRAM_DC_ID: String(srv.dcId),
    },
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    srv.close().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`local-telegram: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`local-telegram: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
