/**
 * `medusa upload <file|url> --to <chat> [--name NAME] [--quality Q] [--as-document]`: the bot's own pipeline from a
 * terminal. One job goes into the database and the job runner runs it with the real steps and the bot's gateway,
 * exactly as `medusa start` would (log channels get their copy too); this process runs that job and no other, so it
 * may run next to the bot. The destination is checked before anything is fetched.
 *
 * A local file becomes a job whose source is its file: URL, made at the terminal (TERMINAL_CHAT_ID): the fetch step
 * hard-links it into the job's folder (no copy of gigabytes) and refuses such a source from anywhere else.
 *
 * Progress goes to stderr (a bar on a TTY, one line per stage otherwise), the message link to stdout.
 * Exit codes: 0 delivered, 1 failed (with the reason), 2 bad arguments, 130 interrupted (Ctrl-C cancels the job).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { parseConfig, storeTarget } from "../config.js";
import { openStoreAndMigrate } from "../db/database.js";
import { listDeliveries } from "../db/deliveries.js";
import { enqueueJobs, requestCancel } from "../db/job-queue.js";
import { getJob } from "../db/jobs.js";
import { FINISHED_STATUSES, type Job, type JobStatus } from "../db/schema.js";
import { ensureOwner } from "../db/users.js";
import { MedusaError, UserError } from "../errors.js";
import { parseHttpUrl } from "../fetch/guard/url-guard.js";
import { isLocalSource } from "../fetch/local-file.js";
import { ProgressMeter } from "../fetch/progress-meter.js";
import type { TransferProgress } from "../fetch/types.js";
import { type JobOptions, TERMINAL_CHAT_ID } from "../jobs/job-options.js";
import { createLogChats } from "../jobs/log-chats.js";
import { createRunner, type Runner } from "../jobs/runner.js";
import { createJobSteps, stepSettings } from "../jobs/steps.js";
import { QUALITIES, type Quality } from "../lib/quality.js";
import { formatBytes } from "../lib/size.js";
import { createLogger, displayUrl } from "../logger.js";
import { openBotGateway } from "../telegram/bot-client.js";
import { messageLink, usernameOf } from "../telegram/chat-ref.js";
import type { ChatInfo, TelegramGateway } from "../telegram/gateway.js";
import { installGramjsPatches } from "../telegram/gramjs-patches.js";
import { openConfiguredPremium } from "../telegram/user-session.js";
import { describeTransfer } from "./download.js";

const USAGE =
  "Usage: medusa upload <file|url> --to <@channel|t.me/channel|chat id|me> [--name NAME]\n" +
  `                     [--quality ${QUALITIES.join("|")}] [--as-document]`;
/** How often the job's row is read for progress: a bar redrawn a few times a second, no more. */
const POLL_MS = 250;
/** After Ctrl-C, how long to wait for a job another process holds (the bot) to stop. */
const CANCEL_WAIT_MS = 15_000;
/** `--to me` or `--to owner`: the OWNER_ID's private chat with the bot. */
const OWNER_ALIASES = new Set(["me", "owner"]);
const EXIT = { done: 0, failed: 1, usage: 2 } as const;
/** 128 + the signal's number, as shells report a process a signal ended. */
const SIGNAL_EXIT: Record<"SIGINT" | "SIGTERM", number> = { SIGINT: 130, SIGTERM: 143 };

export interface UploadCommandIo {
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

interface UploadArgs {
  /** An http(s) link, or the file: URL of a local file. */
  source: string;
  to: string;
  name: string | undefined;
  quality: Quality | undefined;
  asDocument: boolean;
}

export async function uploadCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: UploadCommandIo = {},
): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const say = (message: string) => stderr.write(`medusa upload: ${message}\n`);

  let args: UploadArgs;
  try {
    args = await parse(argv);
  } catch (error) {
    if (error instanceof UserError && error.code === "HELP") {
      stdout.write(`${USAGE}\n`);
      return EXIT.done;
    }
    say(`${error instanceof MedusaError ? error.userMessage : (error as Error).message}\n${USAGE}`);
    return EXIT.usage;
  }

  // Arguments first, so a typo is told without credentials; a ConfigError goes up to cli.ts, which lists them.
  const config = parseConfig(env, { telegram: true });
  const telegram = config.telegram;
  if (!telegram) throw new Error("unreachable: the Telegram configuration is required above");
  installGramjsPatches();
  const log = createLogger({
    // Job failures are logged with their stack at "warn"; here the reason is printed in words instead.
    level: env.LOG_LEVEL ? config.log.level : "error",
    destination: process.stderr,
    secrets: [telegram.botToken, telegram.apiHash, telegram.userSession].filter((s): s is string =>
      Boolean(s),
    ),
  });

  const ownerId = Number(telegram.ownerId);
  const database = await openStoreAndMigrate(storeTarget(config));

  let progress: ReturnType<typeof stageReporter> | undefined;
  // First Ctrl-C: cancel the job and clean up. A second one: leave at once.
  let interrupted: "SIGINT" | "SIGTERM" | undefined;
  const wakeUps = new Set<() => void>();
  const onSignal = (signal: "SIGINT" | "SIGTERM") => {
    if (interrupted) process.exit(SIGNAL_EXIT[signal]);
    interrupted = signal;
    progress?.endLine();
    say("cancelling…");
    for (const wake of wakeUps) wake();
  };
  const onSigint = () => onSignal("SIGINT");
  const onSigterm = () => onSignal("SIGTERM");
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);

  let gateway: TelegramGateway | undefined;
  let premium: { gateway: TelegramGateway } | undefined;
  let runner: Runner | undefined;
  try {
    await database.db.transaction().execute((trx) => ensureOwner(trx, ownerId));
    gateway = await openBotGateway(telegram, {
      db: database.db,
      log: log.child({ module: "telegram" }),
    });
    if (interrupted) return SIGNAL_EXIT[interrupted];

    const chat = await destination(gateway, args.to, ownerId);
    const check = await gateway.canPost(chat.id);
    if (!check.ok) {
      say(refusal(chat, check.reason));
      return EXIT.failed;
    }
    if (interrupted) return SIGNAL_EXIT[interrupted];

    const options: JobOptions = {
      ...(args.quality ? { quality: args.quality } : {}),
      ...(args.asDocument ? { asDocument: true } : {}),
    };
    const [job] = await database.db.transaction().execute((trx) =>
      enqueueJobs(
        trx,
        [
          {
            user_id: ownerId,
            request_chat_id: TERMINAL_CHAT_ID,
            destination_chat_id: chat.id,
            source_url: args.source,
            name: args.name ?? null,
            options: JSON.stringify(options),
          },
        ],
        // The operator at the machine is the owner: no queue caps.
        { perUserQueued: Number.POSITIVE_INFINITY, totalQueued: Number.POSITIVE_INFINITY },
      ),
    );
    if (!job) throw new Error("enqueueJobs returned no job");
    log.info({ job: job.id, chat: chat.id }, "job enqueued");

    // Files over the bot's limit go whole through a working Premium session, as under `medusa start`.
    premium = await openConfiguredPremium(telegram, {
      db: database.db,
      log: log.child({ module: "telegram" }),
    });
    const reporter = stageReporter(stderr, args.source, chat);
    progress = reporter;
    runner = createRunner({
      db: database.db,
      log: log.child({ module: "jobs" }),
      steps: createJobSteps({
        ...stepSettings(config),
        db: database.db,
        gateway,
        logChats: createLogChats(database.db, gateway, config.logChannels, log),
        ...(premium ? { premium } : {}),
        onLogRefused: (chatId, code) => {
          reporter.endLine();
          say(`the log chat ${chatId} refused its copy (${code}); skipped`);
        },
      }),
      fetchConcurrency: 1,
      deliverConcurrency: 1,
      onlyJobs: [job.id],
      // A bot may be running on this database: its leases are alive, not a dead process's.
      singleProcess: false,
      // Stages as they happen; the rows read every POLL_MS add the bytes (and stand in when the bot runs the job).
      onEvent: (event) => {
        if (["claimed", "advanced", "fetched", "done"].includes(event.type)) reporter.update(event.job);
      },
    });
    await runner.start();

    let settled = await watch(database.db, job.id, reporter, () => interrupted !== undefined, wakeUps);
    if (!settled) {
      // Interrupted: cancel. A job no one holds is cancelled at once; ours stops when the runner stops (it hands
      // the job back, and a job with a cancel requested is finished as cancelled); one the bot holds, on its next
      // heartbeat.
      await requestCancel(database.db, job.id);
      await runner.stop();
      settled = await watch(database.db, job.id, reporter, () => false, wakeUps, CANCEL_WAIT_MS);
    }
    const row = settled ?? (await getJob(database.db, job.id));
    reporter.done(row);
    if (row && (row.status === "cancelled" || row.status === "failed") && row.work_dir) {
      await fs.rm(row.work_dir, { recursive: true, force: true });
    }
    if (interrupted) {
      say(row?.status === "cancelled" ? "cancelled" : "cancel requested; the running bot stops the job");
      return SIGNAL_EXIT[interrupted];
    }
    if (row?.status !== "done") {
      say(
        row?.status === "cancelled" ? "the job was cancelled" : (row?.error_message ?? "the upload failed"),
      );
      return EXIT.failed;
    }
    const sent = (await listDeliveries(database.db, job.id)).filter(
      (d) => d.target === "destination" && d.message_id !== null,
    );
    for (const delivery of sent) {
      const id = delivery.message_id ?? 0;
      stdout.write(`${messageLink(chat, id) ?? `chat ${chat.id} message ${id}`}\n`);
    }
    return EXIT.done;
  } catch (error) {
    if (error instanceof MedusaError) {
      log.debug({ err: error }, "upload failed");
      say(`${error.userMessage}${error.hint ? ` ${error.hint}` : ""}`);
      return error.code === "CHAT_REF_INVALID" ? EXIT.usage : EXIT.failed;
    }
    log.error({ err: error }, "upload failed unexpectedly");
    say("something went wrong; run with LOG_LEVEL=debug for details");
    return EXIT.failed;
  } finally {
    await runner?.stop();
    await premium?.gateway.stop().catch((error: unknown) => log.warn({ err: error }, "disconnect failed"));
    await gateway?.stop().catch((error: unknown) => log.warn({ err: error }, "disconnect failed"));
    await database.close();
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
  }
}

async function parse(argv: string[]): Promise<UploadArgs> {
  let parsed: ReturnType<typeof parseArgs<{ allowPositionals: true; strict: true; options: typeof OPTIONS }>>;
  try {
    parsed = parseArgs({
      args: joinNegativeIds(argv),
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    // node's messages are clear ("Unknown option '--x'"), minus its advice about "--".
    throw new UserError("USAGE", (error as Error).message.split(". To specify")[0] ?? "bad arguments");
  }
  const { values, positionals } = parsed;
  if (values.help) throw new UserError("HELP", USAGE);
  if (positionals.length !== 1) {
    throw new UserError(
      "USAGE",
      positionals.length === 0 ? "a file or a link is needed" : "give one file or link at a time",
    );
  }
  const to = values.to?.trim();
  if (!to) throw new UserError("USAGE", "--to is needed: @channel, t.me/channel, a chat id or me");
  if (!OWNER_ALIASES.has(to.toLowerCase()) && !/^-?\d+$/.test(to) && usernameOf(to) === undefined) {
    throw new UserError("USAGE", `--to ${to} is not @channel, t.me/channel, a chat id or me`);
  }
  const quality = values.quality;
  if (quality !== undefined && !QUALITIES.includes(quality as Quality)) {
    throw new UserError("USAGE", `--quality must be one of ${QUALITIES.join(", ")}`);
  }
  if (values.name !== undefined && !values.name.trim()) throw new UserError("USAGE", "--name is empty");
  return {
    source: await sourceOf(positionals[0] ?? ""),
    to,
    name: values.name?.trim(),
    quality: quality as Quality | undefined,
    asDocument: values["as-document"] ?? false,
  };
}

const OPTIONS = {
  to: { type: "string", short: "t" },
  name: { type: "string", short: "n" },
  quality: { type: "string", short: "q" },
  "as-document": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** `--to -100123` as `--to=-100123`: parseArgs takes a value that starts with a dash for another option. */
function joinNegativeIds(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const next = argv[i + 1];
    if ((arg === "--to" || arg === "-t") && next !== undefined && /^-\d+$/.test(next)) {
      out.push(`--to=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** A link (the same guard as everywhere: http and https only) or a readable, non-empty local file. */
async function sourceOf(arg: string): Promise<string> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) return parseHttpUrl(arg).href;
  const file = path.resolve(arg);
  let info: Awaited<ReturnType<typeof fs.stat>>;
  try {
    info = await fs.stat(file);
    await fs.access(file, fs.constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError("USAGE", code === "ENOENT" ? `no such file: ${arg}` : `cannot read ${arg} (${code})`);
  }
  if (!info.isFile()) throw new UserError("USAGE", `${arg} is not a file`);
  if (info.size === 0) throw new UserError("USAGE", `${arg} is empty; Telegram takes no empty files`);
  return pathToFileURL(file).href;
}

async function destination(gateway: TelegramGateway, to: string, ownerId: number): Promise<ChatInfo> {
  if (OWNER_ALIASES.has(to.toLowerCase())) {
    return { id: ownerId, kind: "user", title: "the owner", username: undefined };
  }
  return gateway.resolveChat(to);
}

function refusal(chat: ChatInfo, reason: "not_member" | "no_rights" | "unknown_chat"): string {
  const name = chat.username ? `@${chat.username}` : `"${chat.title}" (${chat.id})`;
  switch (reason) {
    case "not_member":
      return `the bot is not a member of ${name}. Add it as an admin that may post messages, then try again.`;
    case "no_rights":
      return `the bot may not post in ${name}. Make it an admin with the right to post messages, then try again.`;
    case "unknown_chat":
      return `the bot has not met ${name} yet. Add it there (or, for a person, send it /start), then try again.`;
  }
}

/** Where the message is: a t.me link for channels and supergroups, else the chat and message ids. */

/**
 * Reads the job's row every POLL_MS until it is finished (returns it), `stop()` turns true (returns undefined), or
 * `timeoutMs` passes (undefined). The row is the truth whichever process runs the job.
 */
async function watch(
  db: Parameters<typeof getJob>[0],
  jobId: number,
  progress: ReturnType<typeof stageReporter>,
  stop: () => boolean,
  wakeUps: Set<() => void>,
  timeoutMs = Number.POSITIVE_INFINITY,
): Promise<Job | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await getJob(db, jobId);
    if (!row) throw new Error(`job ${jobId} disappeared from the database`);
    progress.update(row);
    if (FINISHED_STATUSES.includes(row.status)) return row;
    if (stop() || Date.now() >= deadline) return undefined;
    await new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        wakeUps.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, POLL_MS);
      wakeUps.add(wake);
    });
  }
}

/** The stages in the order a job goes through them, with what the terminal calls them. */
const STAGES: ReadonlyArray<[JobStatus, string]> = [
  ["downloading", "downloading"],
  ["processing", "preparing"],
  ["uploading", "uploading"],
  ["sending", "sending"],
];

/**
 * Stage lines and, on a TTY, a bar redrawn as the job moves. A consumer of the job's row (read by the caller, or
 * handed over by the runner as it moves the job), not of the engine. Stages only go forward: a row read before an
 * event may arrive after it.
 */
function stageReporter(stream: NodeJS.WritableStream & { isTTY?: boolean }, source: string, chat: ChatInfo) {
  const tty = Boolean(stream.isTTY);
  const started = performance.now();
  let rank = -1;
  let stage = "";
  let meter: ProgressMeter | undefined;
  /** bytes_done when the stage began: what the previous stage left there, until this one writes its own. */
  let startBytes = 0;
  let lastBytes = 0;
  let total: number | undefined;
  let stageStarted = started;
  let latest: TransferProgress | undefined;
  let drawn = false;
  let retryNoted: string | undefined;
  const draw = () => {
    if (!tty || !stage) return;
    stream.write(`\r${stage.padEnd(11)} ${latest ? describeTransfer(latest) : ""}\u001b[K`);
    drawn = true;
  };
  const endLine = () => {
    if (drawn) stream.write("\n");
    drawn = false;
  };
  const newMeter = () => {
    latest = undefined;
    meter = new ProgressMeter((p) => {
      latest = p;
      draw();
    }, total);
  };
  return {
    update(row: Job) {
      if (row.error_message && !FINISHED_STATUSES.includes(row.status) && row.run_at !== retryNoted) {
        // A failed attempt with a retry scheduled: say why and when.
        retryNoted = row.run_at;
        const seconds = Math.max(0, Math.round((Date.parse(row.run_at) - Date.now()) / 1000));
        endLine();
        stream.write(`${row.error_message} Trying again in ${seconds} s.\n`);
      }
      const index = STAGES.findIndex(([status]) => status === row.status);
      if (index > rank) {
        // The stage before is over: a transfer it showed ends at its whole size.
        if (latest && total !== undefined) {
          const seconds = (performance.now() - stageStarted) / 1000;
          latest = { bytes: total, total, speed: seconds > 0 ? total / seconds : 0 }; // the stage's average
          draw();
        }
        endLine();
        rank = index;
        stage =
          row.status === "downloading" && isLocalSource(source) ? "importing" : (STAGES[index]?.[1] ?? "");
        stageStarted = performance.now();
        startBytes = lastBytes = row.bytes_done;
        total = row.bytes_total ?? undefined;
        newMeter();
        if (!tty) stream.write(`${describeStage(row, stage, source, chat)}\n`);
        draw();
        return;
      }
      if (index !== rank || !meter || row.bytes_done === lastBytes) return;
      total = row.bytes_total ?? undefined;
      meter.setTotal(total);
      if (row.bytes_done < lastBytes && lastBytes !== startBytes) {
        // The next part's upload started from 0: measure it from here.
        lastBytes = row.bytes_done;
        newMeter();
        return;
      }
      lastBytes = row.bytes_done;
      meter.set(row.bytes_done);
    },
    /** Ends a drawn bar, so that a message can follow on its own line. */
    endLine,
    done(row: Job | undefined) {
      endLine();
      if (!tty && row?.status === "done") {
        stream.write(`done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
      }
    },
  };
}

function describeStage(row: Job, label: string, source: string, chat: ChatInfo): string {
  const size = row.bytes_total ? ` (${formatBytes(row.bytes_total)})` : "";
  switch (row.status) {
    case "downloading":
      return `${label} ${isLocalSource(source) ? fileURLToPath(source) : displayUrl(source)}`;
    case "processing":
    case "uploading":
      return `${label} ${row.name ?? ""}${size}`;
    case "sending":
      return `${label} to ${chat.username ? `@${chat.username}` : chat.title}`;
    default:
      return label;
  }
}
