/**
 * The error hierarchy. Every error carries a stable string `code` (for logs, the jobs table and tests), an optional
 * `cause`, and `userMessage`: English text that is safe to show (no paths, tokens or stack traces), for the CLI and
 * the logs. A chat sees the catalog text `key` (default `err.<code>`, src/bot/i18n) filled with `params`, in the
 * user's language; the bot words errors in one place (src/bot/error-text.ts).
 */
/** Values for a catalog text's {placeholders}: plain text or numbers, escaped when filled in. */
export type ErrorParams = Readonly<Record<string, string | number>>;

export interface MedusaErrorOptions {
  cause?: unknown;
  /** Text for the user; defaults to the message. */
  userMessage?: string;
  /** A short suggestion shown under the message ("Send a smaller file", "Try /login"). */
  hint?: string;
  /** Telegram or a site asked us to wait this long (FLOOD_WAIT_X, Retry-After) before trying again. */
  retryAfterSeconds?: number;
  /** The catalog text a chat sees. @default `err.${code}` */
  key?: string;
  /** Its {placeholders}. */
  params?: ErrorParams;
}

export class MedusaError extends Error {
  readonly code: string;
  readonly userMessage: string;
  readonly hint: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly key: string;
  readonly params: ErrorParams;

  constructor(code: string, message: string, options: MedusaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.userMessage = options.userMessage ?? message;
    this.hint = options.hint;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.key = options.key ?? `err.${code}`;
    this.params = options.params ?? {};
  }
}

/** Bad input from a user or operator: always safe to show as it is. */
export class UserError extends MedusaError {}

/** Configuration that cannot run; `problems` holds one line per variable. */
export class ConfigError extends MedusaError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super("CONFIG_INVALID", `Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.problems = problems;
  }
}

/** A download failed (HTTP status, network, size limit, blocked address, yt-dlp refusal). */
export class DownloadError extends MedusaError {}

/** An upload to Telegram failed after retries, or cannot start (too many parts, empty file). */
export class UploadError extends MedusaError {}

/** An external program (ffmpeg, ffprobe, yt-dlp) failed: exit code and the tail of stderr are kept. */
export class ToolError extends MedusaError {
  readonly tool: string;
  readonly exitCode: number | undefined;
  readonly stderrTail: string;
  constructor(
    code: string,
    tool: string,
    message: string,
    details: { exitCode?: number; stderr?: string } & MedusaErrorOptions = {},
  ) {
    const stderrTail = tail(details.stderr ?? "", STDERR_TAIL_CHARS);
    super(code, stderrTail ? `${message}\n${stderrTail}` : message, details);
    this.tool = tool;
    this.exitCode = details.exitCode;
    this.stderrTail = stderrTail;
  }
}

/** The work was cancelled on purpose (Cancel button, shutdown). Not a failure. */
export class CancelledError extends MedusaError {
  constructor(message = "Cancelled", options: MedusaErrorOptions = {}) {
    super("CANCELLED", message, options);
  }
}

/** Enough stderr to see why a tool failed without flooding the log. */
const STDERR_TAIL_CHARS = 2000;

function tail(text: string, max: number): string {
  const trimmed = text.trim();
  return trimmed.length <= max ? trimmed : `…${trimmed.slice(-max)}`;
}

export interface UserFacing {
  code: string;
  /** English, for the CLI and the jobs table. */
  text: string;
  hint: string | undefined;
  /** The catalog text and its params, for a chat. */
  key: string;
  params: ErrorParams;
}

/** A generic, safe reply for anything that is not one of ours (a bug): never echo its message to the user. */
export function userFacing(error: unknown): UserFacing {
  if (error instanceof MedusaError) {
    return {
      code: error.code,
      text: error.userMessage,
      hint: error.hint,
      key: error.key,
      params: error.params,
    };
  }
  return {
    code: "INTERNAL",
    text: "Something went wrong on our side. The operator has the details.",
    hint: undefined,
    key: "error.internal.short",
    params: {},
  };
}

export function isCancelled(error: unknown): boolean {
  return error instanceof CancelledError || (error instanceof Error && error.name === "AbortError");
}
