/**
 * The real `medusa start` as a child process (with its arguments, such as `--role worker`), for tests that kill it
 * and start it again. Each launch returns the child, its exit ("SIGKILL", "0", …, rejected when it does not come
 * within the bound) and its stderr so far; every child still running is killed when the test ends.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import type { TestContext } from "node:test";

const ROOT = path.resolve(import.meta.dirname, "../..");

export interface MedusaChild {
  child: ChildProcess;
  exit: Promise<string>;
  stderr(): string;
}

export function medusaLauncher(
  t: Pick<TestContext, "after">,
  exitTimeoutMs: number,
): (env: Record<string, string>, args?: readonly string[]) => MedusaChild {
  const children: ChildProcess[] = [];
  t.after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  });
  return (env, args = []) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join(ROOT, "src/cli.ts"), "start", ...args],
      {
        cwd: ROOT, // where --import finds tsx; every path Medusa uses is absolute
        env,
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    children.push(child);
    const exit = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`medusa did not exit in time\n${stderr}`)),
        exitTimeoutMs,
      );
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        resolve(signal ?? String(code));
      });
    });
    return { child, exit, stderr: () => stderr };
  };
}
