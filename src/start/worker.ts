/**
 * The worker's part of `medusa start` (roles all and worker): the runner claims jobs, renews their leases and runs
 * the pipeline. It takes no updates: its progress, Cancel and Pause cross to the gateway through the job rows, and on
 * PostgreSQL new work and a Cancel or Pause also reach it at once through LISTEN/NOTIFY.
 */

import { SESSION_DEAD_CODES } from "../bot/owner-watch.js";
import { followJobSignals } from "../jobs/job-signals.js";
import { createRunner, type Runner } from "../jobs/runner.js";
import { createJobSteps, stepSettings } from "../jobs/steps.js";
import { createWorkCleanup } from "../jobs/work-cleanup.js";
import { openConfiguredPremium } from "../telegram/user-session.js";
import type { Core, RolePart } from "./core.js";

/** How often the work folders of jobs that ended are swept (they may hold a partial download). */
const WORK_SWEEP_MS = 60 * 60_000;

export interface WorkerPart extends RolePart {
  runner: Runner;
}

export async function openWorker(core: Core, options: { alone: boolean }): Promise<WorkerPart> {
  const { config, database, gateway, log, cleanups } = core;
  const telegram = config.telegram;
  if (!telegram) throw new Error("the worker needs the Telegram configuration");
  let sessionCode: string | undefined;
  const premium = await openConfiguredPremium(telegram, {
    db: database.db,
    log,
    onUnusable: (code) => {
      sessionCode = code;
    },
  });
  if (premium) cleanups.push(() => premium.gateway.stop());
  core.session.configured = premium !== undefined || sessionCode !== undefined;
  if (premium) void core.watch.sessionWorks();
  else if (sessionCode && SESSION_DEAD_CODES.has(sessionCode)) void core.watch.sessionStopped(sessionCode);
  // The folders of jobs that failed or were cancelled, now and whatever a crash left behind.
  const work = createWorkCleanup(database.db, config.paths.work, log.child({ module: "jobs" }));
  const swept = await work.sweep();
  if (swept > 0) log.info({ swept }, "removed the work folders of ended jobs");
  const runner = createRunner({
    db: database.db,
    log: log.child({ module: "jobs" }),
    // Downloads run side by side; one upload at a time already fills the link with its parallel connections.
    fetchConcurrency: config.limits.concurrentJobs,
    deliverConcurrency: 1,
    leaseMs: config.jobs.leaseMs,
    heartbeatMs: config.jobs.heartbeatMs,
    // Alone on the database, every lease at start is a dead process's; next to other workers only expired ones are.
    singleProcess: options.alone,
    crashPoint: core.crashPoint,
    steps: createJobSteps({
      ...stepSettings(config),
      db: database.db,
      gateway,
      logChats: core.logChats,
      ...(premium ? { premium } : {}),
      onLogRefused: core.onLogRefused,
      crashPoint: core.crashPoint,
    }),
    // The boards and batch summaries follow the rows (src/jobs/job-watch.ts); what is this host's stays here.
    onEvent: (event) => {
      core.metrics.onRunnerEvent(event);
      core.watch.onRunnerEvent(event);
      if (event.type === "failed" || event.type === "cancelled") void work.jobEnded(event.job);
    },
  });
  return {
    runner,
    async start() {
      // Resumes every unfinished job from its last step; stopped before the gateway so sends can finish.
      await runner.start();
      cleanups.push(() => runner.stop());
      // Other processes queue, cancel and pause: without this, the runner sees them on its next poll or heartbeat.
      if (database.engine === "postgres" && config.databaseUrl) {
        const signals = followJobSignals(runner, config.databaseUrl, log.child({ module: "jobs" }));
        cleanups.push(() => signals.stop());
      }
      // Partial downloads wait in their job's folder for the next attempt; the folders of jobs that ended meanwhile
      // (a cancel while waiting for a retry) go with this sweep.
      const sweeper = setInterval(() => void work.sweep(), WORK_SWEEP_MS);
      sweeper.unref();
      cleanups.push(async () => clearInterval(sweeper));
    },
  };
}
