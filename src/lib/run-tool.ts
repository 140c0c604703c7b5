/**
 * Runs an external program (ffmpeg, ffprobe, yt-dlp) through execa with an argument array, never a shell.
 * Every run has a timeout; abort or timeout kills the whole process group (yt-dlp starts ffmpeg, ffmpeg may start
 * helpers), so the child is started detached as the leader of its own group.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import path from "node:path";
import { execa } from "execa";
import { ToolError } from "../errors.js";
import { abortReason, throwIfAborted } from "./abort.js";

export interface RunToolOptions {
  /** Hard limit for the whole run, in milliseconds. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Name used in errors. @default the program's base name */
  tool?: string;
  /** Called with each complete stdout line; stdout is then not collected. */
  onStdoutLine?: (line: string) => void;
  /** Called with each complete stderr line (stderr is always kept as a tail too). */
  onStderrLine?: (line: string) => void;
  /** Stop collecting stdout past this many characters (ffprobe and `yt-dlp -J` print JSON). @default 64 MiB */
  maxStdoutChars?: number;
  cwd?: string;
  env?: Record<string, string>;
}

/**
 * Told about every process group started and ended inside it: a job records them, so that a start after a crash
 * can end the groups a killed Medusa left running.
 */
export interface ToolGroupWatcher {
  started(pid: number): void;
  ended(pid: number): void;
}

/** The job a tool runs for; the job runner sets it around each step. */
export const toolGroups = new AsyncLocalStorage<ToolGroupWatcher>();

export interface ToolResult {
  stdout: string;
  /** The last STDERR_KEEP_CHARS characters of stderr. */
  stderr: string;
}

/** Time a killed group gets to exit on SIGTERM before SIGKILL; ffmpeg uses it to close its output. */
const KILL_GRACE_MS = 2000;
/** How long to wait for every process of a killed group to be gone before giving up on it. */
const GROUP_EXIT_WAIT_MS = 3000;
const GROUP_EXIT_POLL_MS = 20;
/** Enough stderr to map yt-dlp's last ERROR lines and to show why ffmpeg failed. */
const STDERR_KEEP_CHARS = 64 * 1024;
const DEFAULT_MAX_STDOUT_CHARS = 64 * 1024 * 1024;

export async function runTool(
  file: string,
  args: readonly string[],
  options: RunToolOptions,
): Promise<ToolResult> {
  const tool = options.tool ?? path.basename(file);
  if (!(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
    throw new TypeError(`Expected timeoutMs to be a positive number, got ${options.timeoutMs}`);
  }
  throwIfAborted(options.signal, tool);

  const child = execa(file, args, {
    detached: true, // own process group: see killGroup
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    buffer: false,
    reject: false,
    cleanup: false,
    cwd: options.cwd,
    env: options.env,
    extendEnv: true,
  });

  let stdout = "";
  let stdoutPending = "";
  let stderr = "";
  let stderrPending = "";
  const maxStdout = options.maxStdoutChars ?? DEFAULT_MAX_STDOUT_CHARS;
  child.stdout?.setEncoding("utf8");
  child.stderr?.setEncoding("utf8");
  // A throwing line callback must not become an uncaught exception: it stops the run and is rethrown after.
  let callbackError: { error: unknown } | undefined;
  const guard = (fn: () => void) => {
    if (callbackError) return;
    try {
      fn();
    } catch (error) {
      callbackError = { error };
      stop("abort");
    }
  };
  child.stdout?.on("data", (chunk: string) => {
    const onLine = options.onStdoutLine;
    if (onLine) guard(() => (stdoutPending = emitLines(stdoutPending + chunk, onLine)));
    else if (stdout.length < maxStdout) stdout += chunk;
  });
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP_CHARS);
    const onLine = options.onStderrLine;
    if (onLine) guard(() => (stderrPending = emitLines(stderrPending + chunk, onLine)));
  });

  let stopReason: "timeout" | "abort" | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  const pid = child.pid;
  const watcher = toolGroups.getStore();
  if (pid !== undefined) watcher?.started(pid);
  const stop = (reason: "timeout" | "abort") => {
    if (stopReason || pid === undefined) return;
    stopReason = reason;
    killGroup(pid, "SIGTERM");
    graceTimer = setTimeout(() => killGroup(pid, "SIGKILL"), KILL_GRACE_MS);
  };
  const timer = setTimeout(() => stop("timeout"), options.timeoutMs);
  const onAbort = () => stop("abort");
  options.signal?.addEventListener("abort", onAbort, { once: true });

  try {
    const result = await child;
    const { onStdoutLine, onStderrLine } = options;
    if (stdoutPending && onStdoutLine) guard(() => onStdoutLine(stdoutPending));
    if (stderrPending && onStderrLine) guard(() => onStderrLine(stderrPending));
    if (stopReason && pid !== undefined) {
      // The leader is gone; children that ignored SIGTERM (or were mid-write) must not outlive the run.
      killGroup(pid, "SIGKILL");
      await waitGroupGone(pid);
    }
    if (callbackError) throw callbackError.error;
    if (stopReason === "abort" && options.signal) throw abortReason(options.signal, tool);
    if (stopReason === "timeout") {
      throw new ToolError("TOOL_TIMEOUT", tool, `${tool} timed out after ${options.timeoutMs} ms`, {
        stderr,
        userMessage: "A processing step took too long and was stopped.",
      });
    }
    const spawnCode = (result as { code?: string }).code;
    if (spawnCode === "ENOENT" || spawnCode === "EACCES") {
      throw new ToolError("TOOL_NOT_FOUND", tool, `${tool} could not be started (${spawnCode}): ${file}`, {
        cause: result.cause,
        userMessage: "A program Medusa needs is missing on the server. The operator has the details.",
      });
    }
    if (result.failed) {
      const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
      throw new ToolError("TOOL_FAILED", tool, `${tool} ${how}`, {
        exitCode: result.exitCode,
        stderr,
        userMessage: "A processing step failed. The operator has the details.",
      });
    }
    return { stdout, stderr };
  } finally {
    clearTimeout(timer);
    clearTimeout(graceTimer);
    options.signal?.removeEventListener("abort", onAbort);
    if (pid !== undefined) watcher?.ended(pid);
  }
}

/** Sends a signal to every process in the group led by `pid`; a group that is already gone is fine. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** True while any process of the group led by `pid` is alive. */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function waitGroupGone(pid: number): Promise<void> {
  for (let waited = 0; waited < GROUP_EXIT_WAIT_MS && groupAlive(pid); waited += GROUP_EXIT_POLL_MS) {
    await new Promise((resolve) => setTimeout(resolve, GROUP_EXIT_POLL_MS));
  }
}

/** Calls `onLine` for each complete line of `text` and returns the unfinished rest. */
function emitLines(text: string, onLine: (line: string) => void): string {
  const lines = text.split(/\r\n|\n|\r/);
  const rest = lines.pop() ?? "";
  for (const line of lines) onLine(line);
  return rest;
}
