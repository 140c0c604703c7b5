/**
 * `npm run demo -- --keep`, the README's first command: the whole product offline, ending in one JSON line. While it
 * plays and once it is done, Debian's chromium looks at the dashboard it prints, as a person would.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

const ROOT = path.resolve(import.meta.dirname, "../..");
const ARTIFACTS = path.join(ROOT, "test-artifacts");
const CHROMIUM = "/usr/bin/chromium";
/** The README says 1-2 minutes; a loaded machine gets room (within the runner's 600 s), a hang does not. */
const DEMO_TIMEOUT_MS = 540_000;
/** Without these, chromium on a machine with no internet waits on background connections. */
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

describe("npm run demo", () => {
  it("plays the conversation, shows it on the dashboard, delivers every direct file byte for byte and ends in its JSON line", async (t) => {
    const demo = startDemo();
    t.after(() => demo.kill());

    // The dashboard while the demo plays: a job moving, with its progress bar.
    const url = (await demo.line(/^Dashboard \(live while the demo plays\): (\S+)$/m))[1] ?? "";
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/dashboard\?token=/);
    const browser = await launchChromium(t);
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const problems = watch(page);
    await page.goto(url, { waitUntil: "load" });
    assert.match(page.url(), /\/dashboard$/, "the token leaves the address bar");
    const moving =
      '#queue-rows tr[data-stage="downloading"] progress, #queue-rows tr[data-stage="uploading"] progress';
    const kept = demo.line(/^Press Ctrl-C to end the demo\.$/m);
    await Promise.race([
      page.waitForSelector(moving, { timeout: DEMO_TIMEOUT_MS }),
      kept.then(() => {
        throw new Error("every job ended before the page showed one moving");
      }),
    ]);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-live.png"), fullPage: true });
    // A blank page while the rest plays: a headless browser painting moving bars takes CPU the uploads need here.
    await page.goto("about:blank");

    // Once every job has ended: the demo's jobs, users and errors, by a fresh load (the cookie lets it in).
    await kept;
    await page.goto(url.replace(/\?token=.*$/, ""), { waitUntil: "load" });
    const stat = (card: string, name: string) =>
      page.$eval(`#${card} [data-stat="${name}"] .value`, (e) => e.textContent ?? "");
    // The week, not today: a run across midnight UTC splits today's numbers.
    assert.equal(await stat("week", "jobs"), "7");
    assert.equal(await stat("week", "done"), "5");
    assert.equal(await stat("week", "failed"), "1");
    assert.equal(await stat("week", "success"), "83.3 %");
    assert.match(await stat("week", "bytes"), /^2\.\d GiB$/, "the big file counts");
    assert.match(await stat("week", "upload"), /^\d+(\.\d)? [KMG]iB\/s$/);
    assert.match(await stat("today", "jobs"), /^\d+$/);
    const text = (selector: string) =>
      page.$eval(selector, (e) => (e as unknown as { innerText: string }).innerText);
    assert.match(await text("#queue"), /The queue is empty\./);
    assert.match(await text("#users"), /@olivia \(\d+\)\s+owner\s+1\s+1\s+0/);
    assert.match(await text("#users"), /@uma \(\d+\)\s+user\s+6\s+4\s+1/);
    assert.match(await text("#errors"), /#\d+\s+@uma \(\d+\)\s+\S*missing\.mp4\s+\S+/, "the dead link");
    assert.ok((await page.$$eval('#volume rect.bar:not([height="0"])', (bars) => bars.length)) >= 1);
    // The script refreshes the queue under the page's CSP: its stamp moves on.
    const stamp = await text("#queue-updated");
    await page.waitForFunction(
      `document.querySelector("#queue-updated")?.textContent !== ${JSON.stringify(stamp)}`,
      { timeout: 30_000 },
    );
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard.png"), fullPage: true });
    await browser.close();
    assert.deepEqual(problems, [], "console errors or failed requests");

    // Ctrl-C, as a person at the terminal would: the whole foreground group gets SIGINT.
    const run = await demo.interrupt();
    // npm itself ends by the signal (a terminal shows 130), the demo inside it by finishing its cleanup.
    const output = `${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`;
    assert.ok(run.exitCode === 0 || run.signal === "SIGINT", `exit ${run.exitCode ?? run.signal}\n${output}`);
    assert.doesNotMatch(run.stderr, /demo failed|cleanup:/, output);
    const last = run.stdout.trim().split("\n").at(-1) ?? "";
    const summary = JSON.parse(last) as Record<string, number | boolean>;
    assert.deepEqual(Object.keys(summary), [
      "jobs",
      "done",
      "failed",
      "canceled",
      "uploaded_bytes",
      "sha256_ok",
      "seconds",
    ]);
    assert.equal(summary.sha256_ok, true);
    assert.equal(summary.jobs, 7);
    assert.equal(summary.done, 5);
    assert.equal(summary.failed, 1, "the dead link");
    assert.equal(summary.canceled, 1, "the job cancelled from the live status");
    assert.ok(Number(summary.uploaded_bytes) > 2000 * 1024 * 1024, "the big file went up, split");
    assert.match(run.stdout, /Uma → presses Cancel on job #\d+\n {3}bot: \(answer\) Cancelled\./);
    assert.match(run.stdout, /\[video index\.mp4, .*thumbnail\]/, "the HLS stream arrives as a video");
    assert.match(run.stdout, /Log channel: 6 copies/);
    assert.match(run.stdout, /^Still running\. Dashboard: http:\/\/127\.0\.0\.1:\d+\/dashboard\?token=\S+$/m);
  });
});

interface DemoRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `npm run demo -- --keep` in its own process group, as a terminal runs a foreground command. */
function startDemo() {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: "true" };
  delete env.DASHBOARD_TOKEN;
  const child: ChildProcess = spawn("npm", ["run", "--silent", "demo", "--", "--keep"], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const check of waiters) check();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<DemoRun>((resolve) => {
    child.once("exit", (code, signal) => {
      for (const check of waiters) check();
      resolve({ exitCode: code, signal, stdout, stderr });
    });
  });
  const deadline = Date.now() + DEMO_TIMEOUT_MS;
  return {
    /** The first match of `pattern` in what the demo printed; rejects if it exits first or time runs out. */
    line(pattern: RegExp): Promise<RegExpExecArray> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`no ${pattern} in time`)), deadline - Date.now());
        const done = (error?: Error, match?: RegExpExecArray) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (match) resolve(match);
          else reject(new Error(`${error?.message}\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`));
        };
        const check = () => {
          const match = pattern.exec(stdout);
          if (match) done(undefined, match);
          else if (child.exitCode !== null || child.signalCode !== null)
            done(new Error(`the demo exited (${child.exitCode ?? child.signalCode}) before ${pattern}`));
        };
        waiters.add(check);
        check();
      });
    },
    async interrupt(): Promise<DemoRun> {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGINT");
      return exited;
    },
    /** Leaves nothing behind when the test failed half-way. */
    async kill(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      process.kill(-child.pid, "SIGINT");
      const timer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, "SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function launchChromium(t: { after(fn: () => Promise<void>): void }): Promise<Browser> {
  const profile = await mkdtemp(path.join(os.tmpdir(), "medusa-chromium-"));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`],
  });
  t.after(async () => {
    await browser.close().catch(() => {});
    await rm(profile, { recursive: true, force: true });
  });
  return browser;
}

/** Every console error, page error, failed request and error status the page meets. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${String(e)}`));
  page.on("requestfailed", (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText ?? ""}`));
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return problems;
}
