/**
 * `medusa download <url> [--out DIR] [--name NAME] [--quality Q]`: the fetch engines from a terminal, no Telegram
 * needed. Progress goes to stderr (a bar on a TTY, a line every few seconds otherwise), the saved path to stdout.
 * Exit codes: 0 saved, 1 the download failed, 2 bad input, 130 cancelled (Ctrl-C).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import type { Config } from "../config.js";
import { CancelledError, DownloadError, MedusaError, UserError } from "../errors.js";
import type { GuardOptions } from "../fetch/guard/url-guard.js";
import { httpOptionsFromConfig } from "../fetch/http/download.js";
import { fetchSource } from "../fetch/source.js";
import type { TransferProgress } from "../fetch/types.js";
import type { Quality } from "../lib/quality.js";
import { formatBytes } from "../lib/size.js";
import { displayUrl, type Logger } from "../logger.js";

const USAGE =
  "Usage: medusa download <url> [--out DIR] [--name NAME] [--quality best|1080|720|480|360|audio]";
const QUALITIES: readonly Quality[] = ["best", "1080", "720", "480", "360", "audio"];
/** A log file or CI console needs a sign of life, not four lines a second. */
const PLAIN_PROGRESS_INTERVAL_MS = 5000;
const BAR_WIDTH = 24;
/** Input problems the user can fix by typing the command differently. */
const BAD_INPUT_CODES = new Set(["URL_INVALID", "URL_SCHEME_NOT_ALLOWED"]);

export interface DownloadCommandIo {
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Stops the download (the CLI also stops on SIGINT). */
  signal?: AbortSignal;
  /** Extra guard settings (trusted origins, a resolver): for tests that need a local first hop. */
  guard?: Partial<GuardOptions>;
}

export async function downloadCommand(
  argv: string[],
  config: Config,
  log: Logger,
  io: DownloadCommandIo = {},
): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const fail = (message: string, code: number) => {
    stderr.write(`medusa download: ${message}\n`);
    return code;
  };

  let args: { url: string; out: string; name: string | undefined; quality: Quality | undefined };
  try {
    args = parse(argv);
  } catch (error) {
    if (error instanceof UserError && error.code === "HELP") {
      stdout.write(`${USAGE}\n`);
      return 0;
    }
    return fail(`${error instanceof UserError ? error.userMessage : (error as Error).message}\n${USAGE}`, 2);
  }

  try {
    await fs.mkdir(args.out, { recursive: true });
  } catch (error) {
    return fail(`cannot use ${args.out} as the output folder (${(error as NodeJS.ErrnoException).code})`, 1);
  }

  const controller = new AbortController();
  const onSigint = () => controller.abort(new CancelledError("Interrupted"));
  process.once("SIGINT", onSigint);
  const onOuterAbort = () => controller.abort(io.signal?.reason);
  io.signal?.addEventListener("abort", onOuterAbort, { once: true });
  const progress = progressPrinter(stderr);
  try {
    const base = httpOptionsFromConfig(config);
    const file = await fetchSource(args.url, {
      ...base,
      guard: { ...base.guard, ...io.guard },
      dir: args.out,
      name: args.name,
      quality: args.quality,
      signal: controller.signal,
      onProgress: progress.update,
      log: log.child({ module: "download" }),
      ytdlpPath: config.fetch.ytdlpPath,
      cookiesFile: config.fetch.ytdlpCookiesFile,
      timeoutMs: config.media.toolTimeoutMs,
      ffmpegPath: config.media.ffmpegPath,
    });
    progress.done();
    stdout.write(`${file.path}\n`);
    log.info(
      { url: displayUrl(args.url), path: file.path, size: file.size, engine: file.engine },
      "downloaded",
    );
    return 0;
  } catch (error) {
    progress.done();
    if (error instanceof CancelledError || controller.signal.aborted) return fail("cancelled", 130);
    if (error instanceof MedusaError) {
      log.debug({ err: error, url: displayUrl(args.url) }, "download failed");
      const hint = error.hint ? ` ${error.hint}` : "";
      const code = error instanceof DownloadError && BAD_INPUT_CODES.has(error.code) ? 2 : 1;
      return fail(`${error.userMessage}${hint}`, code);
    }
    log.error({ err: error, url: displayUrl(args.url) }, "download failed unexpectedly");
    return fail("something went wrong; run with LOG_LEVEL=debug for details", 1);
  } finally {
    process.off("SIGINT", onSigint);
    io.signal?.removeEventListener("abort", onOuterAbort);
  }
}

function parse(argv: string[]) {
  let parsed: ReturnType<typeof parseArgs<{ allowPositionals: true; strict: true; options: typeof OPTIONS }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // node's messages are clear ("Unknown option '--x'"), minus its advice about "--".
    throw new UserError("USAGE", (error as Error).message.split(". To specify")[0] ?? "bad arguments");
  }
  const { values, positionals } = parsed;
  if (values.help) throw new UserError("HELP", USAGE);
  if (positionals.length !== 1) {
    throw new UserError("USAGE", positionals.length === 0 ? "a link is needed" : "give one link at a time");
  }
  const quality = values.quality;
  if (quality !== undefined && !QUALITIES.includes(quality as Quality)) {
    throw new UserError("USAGE", `--quality must be one of ${QUALITIES.join(", ")}`);
  }
  if (values.name !== undefined && !values.name.trim()) throw new UserError("USAGE", "--name is empty");
  return {
    url: positionals[0] ?? "",
    out: path.resolve(values.out ?? "."),
    name: values.name,
    quality: quality as Quality | undefined,
  };
}

const OPTIONS = {
  out: { type: "string", short: "o" },
  name: { type: "string", short: "n" },
  quality: { type: "string", short: "q" },
  help: { type: "boolean", short: "h" },
} as const;

/** A bar redrawn in place on a TTY; elsewhere a plain line every few seconds. */
function progressPrinter(stream: NodeJS.WritableStream & { isTTY?: boolean }) {
  const tty = Boolean(stream.isTTY);
  let lastPlain = Number.NEGATIVE_INFINITY;
  let drawn = false;
  return {
    update(p: TransferProgress) {
      const line = describeTransfer(p);
      if (tty) {
        stream.write(`\r${line}\u001b[K`);
        drawn = true;
      } else if (performance.now() - lastPlain >= PLAIN_PROGRESS_INTERVAL_MS) {
        lastPlain = performance.now();
        stream.write(`${line}\n`);
      }
    },
    done() {
      if (drawn) stream.write("\n");
      drawn = false;
    },
  };
}

/** "[####....]  42% 5.0 MiB / 12 MiB 3.1 MiB/s": one transfer on one line. */
export function describeTransfer(p: TransferProgress): string {
  const speed = `${formatBytes(p.speed)}/s`;
  if (!p.total) return `${formatBytes(p.bytes)} ${speed}`;
  const ratio = Math.min(1, p.bytes / p.total);
  const filled = Math.round(ratio * BAR_WIDTH);
  const bar = `${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}`;
  return `[${bar}] ${(ratio * 100).toFixed(0).padStart(3)}% ${formatBytes(p.bytes)} / ${formatBytes(p.total)} ${speed}`;
}
