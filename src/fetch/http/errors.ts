/** Every way an HTTP download fails, as a DownloadError (or CancelledError) whose messages carry no credentials. */
import { MaxRedirectsError, RequestError, TimeoutError } from "got";
import { CancelledError, DownloadError } from "../../errors.js";
import { displayUrl } from "../../logger.js";

/** Browsers stop at 20; five is plenty for CDNs and short-link services and limits bouncing around. */
export const MAX_REDIRECTS = 5;

/** The server now describes another file (size or range): resuming would mix two versions. */
export function fileChanged(): DownloadError {
  return new DownloadError(
    "HTTP_FILE_CHANGED",
    "The server answered a different size or range on reconnect",
    {
      userMessage: "The file changed on the server during the download.",
      hint: "Try again.",
    },
  );
}

/** A server that advertised ranges answered one with the whole file. */
export class RangeIgnoredError extends Error {
  readonly code = "HTTP_RANGE_IGNORED";
  constructor() {
    super("The server ignored a Range request");
  }
}

export function httpStatusError(status: number, statusText: string | undefined, url: URL): DownloadError {
  const text = `${status}${statusText ? ` ${statusText}` : ""}`;
  const hint =
    status === 403 || status === 401
      ? "The link may have expired or need a login."
      : status === 404 || status === 410
        ? "Check the link; the file may have been removed."
        : status >= 500
          ? "The site has a problem; try again later."
          : undefined;
  const key =
    status === 403 || status === 401
      ? "err.HTTP_AUTH"
      : status === 404 || status === 410
        ? "err.HTTP_GONE"
        : status >= 500
          ? "err.HTTP_SERVER"
          : "err.HTTP_STATUS";
  return new DownloadError(`HTTP_${status}`, `HTTP ${text} from ${displayUrl(url.href)}`, {
    userMessage: `The server answered ${text}.`,
    hint,
    key,
    params: { status: text },
  });
}

export function tooLarge(maxSize: number, size: number | undefined): DownloadError {
  const limit = `${Math.floor(maxSize / (1024 * 1024))} MiB`;
  return new DownloadError(
    "TOO_LARGE",
    size === undefined ? `Body exceeds ${limit}` : `File is ${size} bytes, over ${limit}`,
    { userMessage: `The file is larger than the ${limit} limit.`, params: { limit } },
  );
}

export function incomplete(url: URL, got: number, total: number | undefined): DownloadError {
  return new DownloadError(
    "HTTP_INCOMPLETE",
    `Got ${got} of ${total ?? "?"} bytes from ${displayUrl(url.href)}`,
    {
      userMessage: "The server closed the connection before sending the whole file.",
    },
  );
}

const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ERR_HTTP_CONTENT_LENGTH_MISMATCH",
  "ERR_STREAM_PREMATURE_CLOSE",
  "ERR_READING_RESPONSE_STREAM",
  "HTTP_INCOMPLETE",
  "HTTP_502",
  "HTTP_503",
  "HTTP_504",
]);

/** Network trouble and overloaded gateways are worth another try; refusals, limits and disk errors are not. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof CancelledError) return false;
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && RETRYABLE_CODES.has(code);
}

/** OpenSSL's verification failures, as Node reports them in `code`. */
const TLS_CERT_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
]);

/** One place that turns got, fs and guard errors into DownloadError (or CancelledError) without credentials. */
export function toDownloadError(error: unknown, url: URL, signal: AbortSignal | undefined): Error {
  if (signal?.aborted) {
    return error instanceof CancelledError
      ? error
      : new CancelledError("Download cancelled", { cause: error });
  }
  // Guard refusals thrown inside got's resolver or redirect hook arrive wrapped in a RequestError.
  let inner: unknown = error;
  for (let depth = 0; depth < 5 && inner; depth++) {
    if (inner instanceof DownloadError || inner instanceof CancelledError) return inner;
    inner = (inner as { cause?: unknown }).cause;
  }
  const shown = displayUrl(url.href);
  const code = (error as { code?: unknown })?.code;
  if (error instanceof MaxRedirectsError) {
    return new DownloadError("TOO_MANY_REDIRECTS", `More than ${MAX_REDIRECTS} redirects from ${shown}`, {
      cause: error,
      userMessage: `The link redirects more than ${MAX_REDIRECTS} times.`,
      params: { max: MAX_REDIRECTS },
    });
  }
  // got refuses a redirect to file:, ftp: … itself, before our redirect hook sees it.
  if (error instanceof RequestError && /^Unsupported protocol/i.test(error.message)) {
    return new DownloadError("URL_SCHEME_NOT_ALLOWED", `Redirect refused: ${error.message} (${shown})`, {
      cause: error,
      userMessage: "The link redirects to an address that is not http or https, which is not fetched.",
      key: "err.URL_REDIRECT_SCHEME",
    });
  }
  if (error instanceof TimeoutError) {
    const connecting = ["lookup", "connect", "secureConnect"].includes(error.event);
    return new DownloadError("HTTP_TIMEOUT", `Timed out (${error.event}) on ${shown}`, {
      cause: error,
      userMessage: connecting ? "The server did not answer in time." : "The server stopped sending data.",
      key: connecting ? "err.HTTP_TIMEOUT" : "err.HTTP_STALLED",
    });
  }
  if (code === "ENOSPC") {
    return new DownloadError("DISK_FULL", "Disk full while writing the download", {
      cause: error,
      userMessage: "The server ran out of disk space.",
    });
  }
  if (typeof code === "string" && (code.startsWith("ERR_TLS_") || TLS_CERT_CODES.has(code))) {
    return new DownloadError("TLS_ERROR", `TLS failed (${code}) on ${shown}`, {
      cause: error,
      userMessage: "The site's HTTPS certificate could not be verified, so nothing was downloaded.",
    });
  }
  if (code === "ECONNREFUSED") {
    return new DownloadError("CONNECTION_REFUSED", `Connection refused by ${shown}`, {
      cause: error,
      userMessage: "The server refused the connection.",
    });
  }
  if (code === "ENOTFOUND") {
    return new DownloadError("DNS_NOT_FOUND", `Cannot resolve ${url.hostname}`, {
      cause: error,
      userMessage: "The site's name could not be resolved.",
    });
  }
  if (error instanceof RequestError || isRetryable(error)) {
    return new DownloadError("CONNECTION_LOST", `Connection lost: ${(error as Error).message} (${shown})`, {
      cause: error,
      userMessage: "The connection to the server was lost and could not be resumed.",
    });
  }
  return new DownloadError("DOWNLOAD_FAILED", `Download failed: ${(error as Error)?.message} (${shown})`, {
    cause: error,
    userMessage: "The download failed.",
  });
}
