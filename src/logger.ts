/**
 * The root pino logger. Modules take a child: `log.child({ module: "fetch" })`, jobs `log.child({ job: id })`.
 * Secrets are removed twice: by key (`redact`) and by shape (tokens, api hashes, session strings and URL credentials
 * inside any string), because a secret can hide inside an error message or a URL.
 */
import { type DestinationStream, type Logger, pino } from "pino";
import pinoPretty from "pino-pretty";

export type { Logger } from "pino";

const REDACTED = "[redacted]";

/** Keys whose values are always secret, wherever they appear in a log object. */
const SECRET_KEYS = [
  "databaseUrl",
  "DATABASE_URL",
  "botToken",
  "bot_token",
  "BOT_TOKEN",
  "token",
  "apiHash",
  "api_hash",
  "TELEGRAM_API_HASH",
  "session",
  "userSession",
  "TELEGRAM_SESSION",
  "stringSession",
  "password",
  "dashboardToken",
  "DASHBOARD_TOKEN",
  "authorization",
  "cookie",
  "cookies",
];

const PATTERNS: Array<[RegExp, string]> = [
  // Bot tokens: 123456789:AA…, also glued to a word as in Bot API URLs (".../bot123:AA…/getMe").
  [/(?<!\d)\d{6,20}:[A-Za-z0-9_-]{30,64}(?![A-Za-z0-9_-])/g, REDACTED],
  // URL credentials: scheme://user:pass@host → scheme://[redacted]@host
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+(?::[^\s/@]*)?@/gi, `$1${REDACTED}@`],
  // gramjs StringSession strings start with "1" and are long base64.
  [/\b1[A-Za-z0-9+/_-]{200,}={0,2}/g, REDACTED],
];

/** Removes secret-shaped substrings (bot tokens, URL credentials, session strings) from text. */
export function scrub(text: string, extraSecrets: readonly string[] = []): string {
  let out = text;
  for (const secret of extraSecrets) if (secret.length >= 6) out = out.split(secret).join(REDACTED);
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}

/** Strips user:password from a URL for display; returns the input unchanged when it is not a URL. */
export function displayUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (!url.username && !url.password) return raw;
    url.username = "";
    url.password = "";
    return url.toString();
  } catch {
    return scrub(raw);
  }
}

export interface LoggerOptions {
  level?: string;
  /** true: human-readable lines; "auto": pretty on a TTY. */
  pretty?: boolean | "auto";
  /** Exact secret values to strip wherever they appear (the configured token, api hash, session). */
  secrets?: readonly string[];
  /** Where lines go; tests pass a stream to capture them. Defaults to stdout. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 6);
  const pretty = options.pretty === "auto" ? Boolean(process.stdout.isTTY) : Boolean(options.pretty);
  const opts: pino.LoggerOptions = {
    level: options.level ?? "info",
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
      censor: REDACTED,
    },
    hooks: {
      // Runs on every line's message and string arguments, after redact handled known keys.
      streamWrite: (line) => scrub(line, secrets),
    },
  };
  if (options.destination) return pino(opts, options.destination);
  // In this thread, not as a pino transport: a transport's worker loads pino-pretty from node_modules by path,
  // which the single binary does not have.
  if (pretty) return pino(opts, pinoPretty({ colorize: true }));
  return pino(opts);
}
