/**
 * `npm run demo`: the whole product offline. It starts the local Telegram server and a local web site with media
 * it makes (videos, an HLS stream, a file over the bot's 2000 MiB limit), runs the real `medusa start` against them,
 * and plays a user and the owner in Telegram. It prints what they would see, the operator's views, and one JSON
 * line. `--keep` leaves everything running for a look around (Ctrl-C ends it). Nothing leaves 127.0.0.1.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, open, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { makeClip, makeHls, serveDirectory } from "../test/support/media-fixtures.js";
import { startTelegramServer } from "../test/support/telegram-server/index.js";
import type { MessageView } from "../test/support/telegram-server/server.js";
import { API_HASH, API_ID } from "../test/telegram-server/helpers.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const MIB = 1024 * 1024;
/** Just over what a bot may send in one file: Medusa splits it. */
const BIG_FILE_BYTES = 2000 * MIB + 3 * MIB;
/** The slow link's pace, so that it is still downloading when the user cancels it. */
const SLOW_BYTES_PER_SECOND = 256 * 1024;
/** Bounds on what another process does; only a wedged run reaches them. */
const START_TIMEOUT_MS = 90_000;
const REPLY_TIMEOUT_MS = 60_000;
// The 2 GB upload is CPU-bound: ~80 s on an idle 2-core machine, over 5 min on one shared by many processes.
const ALL_DONE_TIMEOUT_MS = 420_000;

const { values: flags } = parseArgs({ options: { keep: { type: "boolean" } } });
const started = Date.now();
const dir = await mkdtemp(path.join(os.tmpdir(), "medusa-demo-"));
const cleanups: Array<() => Promise<unknown> | unknown> = [() => rm(dir, { recursive: true, force: true })];
let medusa: ChildProcess | undefined;

const say = (line: string) => process.stdout.write(`${line}\n`);

try {
  say("Medusa demo: everything runs on this machine; no Telegram account is needed.\n");
  // ---- the world: Telegram, a bot, its owner, a user, a log channel ----
  const srv = await startTelegramServer({ control: true });
  cleanups.unshift(() => srv.close());
  const keyFile = path.join(dir, "server-key.pem");
  await writeFile(keyFile, srv.publicKeyPem);
  const bot = srv.server.createBot({ firstName: "Medusa", username: "medusa_demo_bot" });
  const owner = srv.server.createUser({ firstName: "Olivia", username: "olivia" });
  const uma = srv.server.createUser({ firstName: "Uma", username: "uma" });
  const log = srv.server.createChat({
    kind: "channel",
    title: "Uploads log",
    username: "medusa_demo_log",
    creatorId: owner.id,
    admins: [bot.id],
  });

  // ---- the web: files Medusa will fetch ----
  const site = path.join(dir, "site");
  await mkdir(path.join(site, "hls"), { recursive: true });
  say("Making sample media with ffmpeg …");
  const files: Record<string, string> = {
    clip: await makeClip(path.join(site, "sunrise.mp4"), {
      seconds: 4,
      width: 640,
      height: 360,
      faststart: true,
    }),
    trailer: await makeClip(path.join(site, "trailer.mp4"), {
      seconds: 6,
      width: 1280,
      height: 720,
      faststart: true,
    }),
    notes: await writeText(
      path.join(site, "notes.pdf"),
      "%PDF-1.4\n% not a real PDF, but bytes to deliver\n",
    ),
    slow: await writePattern(path.join(dir, "slow", "archive.bin"), 64 * MIB),
    big: await writePattern(path.join(site, "dataset.bin"), BIG_FILE_BYTES),
  };
  await makeHls(await makeClip(path.join(dir, "stream-source.mp4"), { seconds: 4 }), path.join(site, "hls"));
  const web = await serveDirectory(site);
  cleanups.unshift(() => web.close());
  const slowWeb = await serveDirectory(path.join(dir, "slow"), { bytesPerSecond: SLOW_BYTES_PER_SECOND });
  cleanups.unshift(() => slowWeb.close());

  // ---- the real Medusa process ----
  const dataDir = path.join(dir, "data");
  const env = {
    PATH: process.env.PATH ?? "",
    TELEGRAM_API_ID: String(API_ID),
    TELEGRAM_API_HASH: API_HASH,
    BOT_TOKEN: bot.botToken ?? "",
    OWNER_ID: String(owner.id),
    TELEGRAM_SERVER: `127.0.0.1:${srv.mtprotoPort}`,
    TELEGRAM_SERVER_KEY_FILE: keyFile,
    TELEGRAM_DC_ID: String(srv.dcId),
    DATA_DIR: dataDir,
    HTTP_PORT: String(await freePort()),
    // The demo's web site is on 127.0.0.1; a real installation keeps this off.
    ALLOW_PRIVATE_NETWORKS: "true",
    LOG_LEVEL: "info",
    LOG_PRETTY: "false",
    MIN_FREE_DISK: "64MiB",
    // The dashboard's token: yours from DASHBOARD_TOKEN, or a fresh one, so the demo shows the guarded dashboard.
    DASHBOARD_TOKEN: process.env.DASHBOARD_TOKEN || randomBytes(18).toString("base64url"),
  };
  const dashboardUrl = `http://127.0.0.1:${env.HTTP_PORT}/dashboard?token=${encodeURIComponent(env.DASHBOARD_TOKEN)}`;
  say("Starting medusa …");
  medusa = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "src/cli.ts"), "start"], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logLines: string[] = [];
  const child = medusa;
  const running = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`medusa did not start within ${START_TIMEOUT_MS / 1000} s`)),
      START_TIMEOUT_MS,
    );
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n").filter(Boolean)) {
        logLines.push(line);
        if (line.includes('"medusa is running"')) {
          clearTimeout(timer);
          resolve();
        }
      }
    };
    child.stdout?.on("data", onLine);
    child.stderr?.on("data", onLine);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`medusa exited with ${code} while starting:\n${logLines.slice(-20).join("\n")}`));
    });
  });
  cleanups.unshift(() => stopChild(child));
  await running;
  say(`Dashboard (live while the demo plays): ${dashboardUrl}`);

  // ---- the conversation ----
  const transcript: string[] = [];
  const chatOf = (user: { id: number }) => ({ user: user.id, peer: bot.id });
  const names = new Map([
    [owner.id, "Olivia (owner)"],
    [uma.id, "Uma"],
  ]);
  const seen = new Map<number, number>();
  /** The live status message (one per chat, edited in place) is not a reply to what was just sent. */
  const isBoard = (m: MessageView) =>
    /^(<b>)?(Your jobs:|All jobs finished)/.test(m.text) ||
    (m.buttons ?? []).some((row) => row.some((b) => b.data?.startsWith("st:")));
  /** Sends as `user`, then waits for the bot's next new message in that chat. */
  const send = async (user: { id: number }, text: string) => {
    transcript.push(`${names.get(user.id)} → ${text}`);
    const sent = srv.server.sendText(user.id, chatOf(user), text);
    return replyAfter(user, sent.id);
  };
  const replyAfter = async (user: { id: number }, afterId: number) => {
    const reply = await srv.server.waitForMessage(
      chatOf(user),
      (m) =>
        m.fromId === bot.id && !m.media && !isBoard(m) && m.id > afterId && m.id > (seen.get(user.id) ?? 0),
      REPLY_TIMEOUT_MS,
    );
    seen.set(user.id, reply.id);
    transcript.push(`   bot: ${oneLine(reply)}`);
    return reply;
  };

  say("Playing the conversation …\n");
  await send(owner, "/start");
  await send(owner, "/addlog @medusa_demo_log");
  await send(owner, `/allow ${uma.id}`);
  await send(uma, "/start");
  await send(uma, `${web.origin}/sunrise.mp4 | Sunrise over the hills`);
  await send(uma, `${web.origin}/hls/index.m3u8`);
  const list = [
    `${web.origin}/trailer.mp4`,
    "this line is not a link",
    `notes: ${web.origin}/notes.pdf`,
    `${web.origin}/missing.mp4`,
  ].join("\n");
  transcript.push("Uma → (a .txt list of 4 lines, one of them not a link)");
  const doc = await srv.server.sendDocument(uma.id, chatOf(uma), {
    name: "links.txt",
    mimeType: "text/plain",
    content: Buffer.from(list),
  });
  await replyAfter(uma, doc.id);
  const slowReply = await send(uma, `${slowWeb.origin}/archive.bin`);
  const slowJob = /#(\d+)/.exec(slowReply.text)?.[1];
  if (!slowJob) throw new Error(`no job number in the reply: ${slowReply.text}`);
  // Uma changes her mind: the Cancel button of that job on her live status message.
  const board = await srv.server.waitForMessage(
    chatOf(uma),
    (m) =>
      m.fromId === bot.id && (m.buttons ?? []).some((row) => row.some((b) => b.data === `st:c:${slowJob}`)),
    REPLY_TIMEOUT_MS,
  );
  transcript.push(`   bot: (live status) ${oneLine(board)}`);
  transcript.push(`Uma → presses Cancel on job #${slowJob}`);
  const pressed = await srv.server.pressButton(
    uma.id,
    chatOf(uma),
    board.id,
    { data: `st:c:${slowJob}` },
    REPLY_TIMEOUT_MS,
  );
  transcript.push(`   bot: (answer) ${pressed.message ?? ""}`);
  await send(owner, `${web.origin}/dataset.bin`);

  // ---- wait for the queue to drain ----
  const dbFile = path.join(dataDir, "medusa.db");
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  cleanups.unshift(() => db.close());
  const unfinished = db.prepare(
    "SELECT count(*) AS n FROM jobs WHERE status NOT IN ('done', 'failed', 'cancelled')",
  );
  const deadline = Date.now() + ALL_DONE_TIMEOUT_MS;
  say("Waiting for every job to end (the 2 GB file takes a while) …");
  while ((unfinished.get() as { n: number }).n > 0) {
    if (Date.now() > deadline) throw new Error("jobs did not end in time");
    await new Promise((resolve) => setTimeout(resolve, 500));
  }

  // The live status messages show their final state within one edit interval (5 s); wait for it, bounded.
  const settled = Date.now() + 30_000;
  const boardsDone = () =>
    [owner, uma].every((user) => {
      const last = srv.server
        .messages(chatOf(user), false)
        .filter((m) => m.fromId === bot.id && isBoard(m))
        .at(-1);
      return !last || /All jobs finished/.test(last.text);
    });
  while (!boardsDone() && Date.now() < settled) await new Promise((resolve) => setTimeout(resolve, 250));

  // ---- what the people saw ----
  for (const user of [owner, uma]) {
    for (const m of srv.server.messages(chatOf(user), false)) {
      if (m.fromId === bot.id && m.media) transcript.push(`   bot → ${names.get(user.id)}: ${oneLine(m)}`);
    }
  }
  for (const user of [owner, uma]) {
    const boards = srv.server.messages(chatOf(user), false).filter((m) => m.fromId === bot.id && isBoard(m));
    const last = boards.at(-1);
    if (last)
      transcript.push(
        `   bot → ${names.get(user.id)} (live status, edited ${last.edits.length} times): ${oneLine(last)}`,
      );
  }
  const logPosts = srv.server.messages({ chat: log.id }, false).filter((m) => m.media);
  transcript.push(
    `Log channel: ${logPosts.length} copies (${logPosts.map((m) => m.media?.name).join(", ")})`,
  );
  say("—— What the users saw ——");
  for (const line of transcript) say(line);

  say("\n—— sqlite3 data/medusa.db 'SELECT * FROM v_daily' ——");
  say(table(db.prepare("SELECT * FROM v_daily").all() as Record<string, unknown>[]));
  say("\n—— sqlite3 data/medusa.db 'SELECT * FROM v_users' ——");
  say(
    table(
      db.prepare("SELECT id, username, role, jobs, done, failed, mib_sent FROM v_users").all() as Record<
        string,
        unknown
      >[],
    ),
  );

  // ---- the numbers ----
  const counts = db
    .prepare(
      `SELECT count(*) AS jobs,
              sum(CASE WHEN status = 'done' THEN 1 ELSE 0 END) AS done,
              sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed,
              sum(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END) AS canceled
         FROM jobs`,
    )
    .get() as { jobs: number; done: number; failed: number; canceled: number };
  const delivered = [
    ...srv.server.messages(chatOf(uma), false),
    ...srv.server.messages(chatOf(owner), false),
  ].filter((m) => m.fromId === bot.id && m.media);
  const uploadedBytes = delivered.reduce((sum, m) => sum + (m.media?.size ?? 0), 0);
  const sha256Ok = await checkDirectFiles(delivered, files);
  if (flags.keep) {
    const port = env.HTTP_PORT;
    say(`\nStill running. Dashboard: ${dashboardUrl}`);
    say(
      `Metrics (Authorization: Bearer <the token>): http://127.0.0.1:${port}/metrics · health: http://127.0.0.1:${port}/readyz`,
    );
    say(`Local Telegram control API: ${srv.controlUrl ?? "(off)"} · data: ${dataDir}`);
    say("Press Ctrl-C to end the demo.");
    // Listeners stay on: Ctrl-C reaches every process of the terminal's group (npm, tsx, this one, medusa), and a
    // second signal while cleaning up must not cut the cleanup short.
    await new Promise<void>((resolve) => {
      process.on("SIGINT", () => resolve());
      process.on("SIGTERM", () => resolve());
    });
  }
  say(
    JSON.stringify({
      jobs: counts.jobs,
      done: counts.done,
      failed: counts.failed,
      canceled: counts.canceled,
      uploaded_bytes: uploadedBytes,
      sha256_ok: sha256Ok,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    }),
  );
  process.exitCode = sha256Ok && counts.done === counts.jobs - counts.failed - counts.canceled ? 0 : 1;
} catch (error) {
  process.stderr.write(`demo failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
} finally {
  for (const cleanup of cleanups) {
    try {
      await cleanup();
    } catch (error) {
      process.stderr.write(`cleanup: ${(error as Error).message}\n`);
    }
  }
}

/**
 * Each file fetched as it is (the plain files and the faststart videos) must arrive byte for byte; the big file as
 * its parts in order. The HLS stream is remuxed by yt-dlp, so it has no original to compare with.
 */
async function checkDirectFiles(delivered: MessageView[], files: Record<string, string>): Promise<boolean> {
  const byName = (name: string) => delivered.filter((m) => m.media?.name.startsWith(name));
  const expectations: Array<[string, string]> = [
    ["Sunrise over the hills", files.clip ?? ""],
    ["trailer", files.trailer ?? ""],
    ["notes", files.notes ?? ""],
  ];
  for (const [name, file] of expectations) {
    const [message] = byName(name);
    if (!message || message.media?.sha256 !== (await sha256(file))) {
      process.stderr.write(`sha256 mismatch or missing: ${name}\n`);
      return false;
    }
  }
  const parts = byName("dataset").sort((a, b) => a.id - b.id);
  if (parts.length < 2) {
    process.stderr.write(`the big file arrived in ${parts.length} part(s), not split\n`);
    return false;
  }
  let offset = 0;
  for (const part of parts) {
    const size = part.media?.size ?? 0;
    if (part.media?.sha256 !== (await sha256(files.big ?? "", offset, size))) {
      process.stderr.write(`sha256 mismatch: ${part.media?.name}\n`);
      return false;
    }
    offset += size;
  }
  return offset === BIG_FILE_BYTES;
}

async function sha256(file: string, start = 0, length?: number): Promise<string> {
  const hash = createHash("sha256");
  const end = length === undefined ? undefined : start + length - 1;
  for await (const chunk of createReadStream(file, {
    start,
    ...(end === undefined ? {} : { end }),
    highWaterMark: MIB,
  })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest("hex");
}

async function writePattern(file: string, size: number): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  const block = Buffer.alloc(MIB);
  const handle = await open(file, "w");
  try {
    for (let offset = 0, index = 0; offset < size; offset += MIB, index++) {
      createHash("sha256").update(`demo-${index}`).digest().copy(block, 0);
      block.writeUInt32LE(index, MIB / 2);
      const length = Math.min(MIB, size - offset);
      await handle.write(block, 0, length, offset);
    }
  } finally {
    await handle.close();
  }
  return file;
}

async function writeText(file: string, text: string): Promise<string> {
  await writeFile(file, text);
  return file;
}

async function freePort(): Promise<number> {
  const net = await import("node:net");
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

function oneLine(m: MessageView): string {
  const text = m.text
    .replace(/<[^>]+>/g, "")
    .replace(/\s+/g, " ")
    .trim();
  const media = m.media
    ? `[${m.media.kind === "photo" ? "photo" : m.media.mimeType.startsWith("video/") ? "video" : "file"} ${m.media.name}, ${(m.media.size / MIB).toFixed(1)} MiB${m.media.hasThumb ? ", thumbnail" : ""}] `
    : "";
  const clipped = text.length > 160 ? `${text.slice(0, 157)}…` : text;
  return `${media}${clipped}`;
}

function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return "(no rows)";
  const columns = Object.keys(rows[0] ?? {});
  const cell = (v: unknown) => (v === null || v === undefined ? "" : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i] ?? 0)).join("  ");
  return [
    line(columns),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map((r) => line(columns.map((c) => cell(r[c])))),
  ].join("\n");
}
