/**
 * The operator's read-only dashboard: one server-rendered page (today and the last 7 days, the live queue with
 * progress bars, daily volume as an inline SVG chart, users and their usage, recent errors) and the queue as JSON
 * for the page's script. No external assets and a strict Content-Security-Policy: the one script and the one style
 * sheet carry a fresh nonce per response. Access (the token) is decided in server.ts before these run.
 */
import crypto from "node:crypto";
import type { ServerResponse } from "node:http";
import { type DashboardSummary, dashboardSummary, liveQueue } from "../db/dashboard.js";
import type { Db } from "../db/database.js";
import type { PeriodStats } from "../db/stats.js";
import { formatBytes, MIB } from "../lib/size.js";
import { displayUrl } from "../logger.js";
import { createQueueView, type QueueJson, type QueueRow, safeMessage, userLabel } from "./dashboard-queue.js";
import { DASHBOARD_SCRIPT } from "./dashboard-script.js";
import { escapeHtml, userText } from "./html.js";
import { type VolumeDay, volumeSvg } from "./volume-svg.js";

/** Days the volume chart covers. */
const CHART_DAYS = 30;
/** Rows of the users and errors tables: enough to see who and what, short enough to read. */
const USER_ROWS = 50;
const ERROR_ROWS = 20;
const DAY_MS = 86_400_000;

export interface DashboardOptions {
  db: Db;
  /** True once Medusa is migrated and connected (as /readyz). */
  ready: () => boolean;
  now?: () => number;
}

export interface Dashboard {
  /** Answers /dashboard and /dashboard/queue.json; false for any other path. */
  handle(path: string, res: ServerResponse): Promise<boolean>;
}

export function createDashboard(options: DashboardOptions): Dashboard {
  const now = options.now ?? Date.now;
  const queueView = createQueueView();
  const queue = async (at: number) => queueView.rows(await liveQueue(options.db, at), at);
  return {
    async handle(path, res) {
      if (path === "/dashboard/queue.json") {
        const body = JSON.stringify(await queue(now()));
        res.writeHead(200, { ...SECURITY_HEADERS, "content-type": "application/json; charset=utf-8" });
        res.end(body);
        return true;
      }
      if (path !== "/dashboard" && path !== "/dashboard/") return false;
      const at = now();
      const [summary, rows] = await Promise.all([
        dashboardSummary(options.db, { now: at, days: CHART_DAYS, users: USER_ROWS, errors: ERROR_ROWS }),
        queue(at),
      ]);
      sendPage(res, 200, (nonce) => page(nonce, { at, ready: options.ready(), summary, queue: rows }));
      return true;
    },
  };
}

const SECURITY_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/** Sends an HTML page whose inline script and style are allowed by this response's nonce, and nothing else. */
export function sendPage(
  res: ServerResponse,
  status: number,
  html: (nonce: string) => string,
  extra = {},
): void {
  const nonce = crypto.randomBytes(16).toString("base64");
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...extra,
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": csp,
  });
  res.end(html(nonce));
}

/** The page a wrong or missing token gets: how to get in, and no data. */
export function deniedPage(nonce: string): string {
  return layout(
    nonce,
    "Medusa — token needed",
    `<h1>Medusa dashboard</h1>
<p class="denied">This dashboard needs its token (DASHBOARD_TOKEN). Open <code>/dashboard?token=…</code> once, or send
<code>Authorization: Bearer …</code>.</p>`,
    false,
  );
}

interface PageData {
  at: number;
  ready: boolean;
  summary: DashboardSummary;
  queue: QueueJson;
}

function page(nonce: string, data: PageData): string {
  const { summary, queue } = data;
  const stamp = isoMinute(new Date(data.at).toISOString());
  const body = `<header>
<h1>Medusa dashboard</h1>
<p class="meta"><span class="${data.ready ? "ok" : "bad"}">${data.ready ? "ready" : "not ready"}</span> · as of ${escapeHtml(stamp)} · read-only</p>
</header>
<section id="periods" class="cards">
${periodCard("today", "Today (UTC)", summary.today)}
${periodCard("week", "Last 7 days", summary.week)}
</section>
<section id="queue">
<h2>Queue <small id="queue-counts">${queue.running} running, ${queue.waiting} waiting</small> <small id="queue-updated" class="meta">updated ${escapeHtml(queue.at.slice(11, 19))} UTC</small></h2>
<table>
<thead><tr><th>Job</th><th>User</th><th>Name</th><th>Stage</th><th>Progress</th><th>Size</th><th>Speed</th><th>ETA</th><th>Place</th></tr></thead>
<tbody id="queue-rows">${queue.jobs.length > 0 ? queue.jobs.map(rowHtml).join("\n") : '<tr class="empty"><td colspan="9">The queue is empty.</td></tr>'}</tbody>
</table>
</section>
<section id="volume">
<h2>Daily volume <small>bytes delivered, last ${CHART_DAYS} days</small></h2>
${volumeSvg(chartDays(summary, data.at))}
</section>
<section id="users">
<h2>Users</h2>
${usersTable(summary)}
</section>
<section id="errors">
<h2>Recent errors</h2>
${errorsTable(summary)}
</section>`;
  return layout(nonce, "Medusa dashboard", body, true);
}

/** The row of one queued job; the script's render() draws the same from the JSON. */
function rowHtml(j: QueueRow): string {
  const value = j.percent !== null ? ` value="${j.percent}"` : j.running ? "" : ' value="0"';
  const percent = j.percent !== null ? ` ${j.percent.toFixed(1)} %` : "";
  return `<tr data-job="${j.id}" data-stage="${j.stage}"><td class="num">#${j.id}</td><td>${userText(j.user)}</td><td class="name">${userText(j.name)}</td><td class="stage stage-${j.stage}">${j.stage}</td><td class="progress"><progress max="100"${value}></progress>${percent}</td><td class="num">${escapeHtml(j.bytes)}</td><td class="num">${escapeHtml(j.speed)}</td><td class="num">${escapeHtml(j.eta)}</td><td class="num">${j.position ?? ""}</td></tr>`;
}

function periodCard(id: string, title: string, s: PeriodStats): string {
  const ended = s.done + s.failed;
  const rate = ended > 0 ? `${((s.done / ended) * 100).toFixed(1)} %` : "—";
  const speed = (bytes: number, ms: number) =>
    ms > 0 ? `${formatBytes(Math.round((bytes * 1000) / ms))}/s` : "—";
  const stat = (name: string, label: string, value: string) =>
    `<div class="stat" data-stat="${name}"><span class="value">${escapeHtml(value)}</span><span class="label">${label}</span></div>`;
  return `<article class="card" id="${id}"><h2>${title}</h2><div class="stats">
${stat("jobs", "jobs", String(s.jobs))}
${stat("done", "done", String(s.done))}
${stat("failed", "failed", String(s.failed))}
${stat("success", "success rate", rate)}
${stat("bytes", "delivered", formatBytes(s.bytes))}
${stat("download", "avg download", speed(s.downloadBytes, s.downloadMs))}
${stat("upload", "avg upload", speed(s.uploadBytes, s.uploadMs))}
</div></article>`;
}

/** Every day of the chart, the days without jobs as zero. */
function chartDays(summary: DashboardSummary, at: number): VolumeDay[] {
  const byDay = new Map(summary.days.map((d) => [d.day, d]));
  const days: VolumeDay[] = [];
  for (let i = CHART_DAYS - 1; i >= 0; i--) {
    const day = new Date(at - i * DAY_MS).toISOString().slice(0, 10);
    const row = byDay.get(day);
    days.push({ day, jobs: row?.jobs ?? 0, bytes: Math.round((row?.mib_sent ?? 0) * MIB) });
  }
  return days;
}

function usersTable(summary: DashboardSummary): string {
  if (summary.users.length === 0) return '<p class="empty">No users yet.</p>';
  const rows = summary.users.map(
    (u) =>
      `<tr data-user="${u.id}"><td>${userText(userLabel({ userId: u.id, username: u.username, firstName: u.first_name }))}</td><td>${escapeHtml(u.role)}</td><td class="num">${u.jobs}</td><td class="num">${u.done}</td><td class="num">${u.failed}</td><td class="num">${escapeHtml(formatBytes(Math.round(u.mib_sent * MIB)))}</td><td>${escapeHtml(u.last_job_at ? isoMinute(u.last_job_at) : "")}</td><td>${escapeHtml(u.last_seen_at ? isoMinute(u.last_seen_at) : "")}</td></tr>`,
  );
  return `<table><thead><tr><th>User</th><th>Role</th><th>Jobs</th><th>Done</th><th>Failed</th><th>Delivered</th><th>Last job</th><th>Last seen</th></tr></thead>
<tbody>${rows.join("\n")}</tbody></table>`;
}

function errorsTable(summary: DashboardSummary): string {
  if (summary.errors.length === 0) return '<p class="empty">No failed jobs.</p>';
  const rows = summary.errors.map(
    (e) =>
      `<tr data-job="${e.jobId}"><td>${escapeHtml(isoMinute(e.at))}</td><td class="num">#${e.jobId}</td><td>${userText(userLabel(e))}</td><td class="name">${userText(e.name ?? displayUrl(e.sourceUrl))}</td><td><code>${escapeHtml(e.code ?? "")}</code></td><td>${userText(safeMessage(e.message ?? ""))}</td></tr>`,
  );
  return `<table><thead><tr><th>When</th><th>Job</th><th>User</th><th>Name</th><th>Code</th><th>Message</th></tr></thead>
<tbody>${rows.join("\n")}</tbody></table>`;
}

/** "2026-12-01 21:40 UTC" from ISO text. */
function isoMinute(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

function layout(nonce: string, title: string, body: string, script: boolean): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
${body}
${script ? `<script nonce="${nonce}">${DASHBOARD_SCRIPT}</script>` : ""}
</body>
</html>
`;
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #667085; --line: #e3e6ea; --card: #f6f7f9; --bar: #3478c6; --ok: #1a7f37; --bad: #c4302b; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8eb; --muted: #9aa3af; --line: #2e3440; --card: #1b1f27; --bar: #5b9be0; } body { background: #12151b; } }
body { font: 14px/1.45 system-ui, sans-serif; color: var(--fg); margin: 0 auto; padding: 16px 24px 48px; max-width: 1200px; }
h1 { font-size: 22px; margin: 0; }
h2 { font-size: 17px; margin: 24px 0 8px; }
h2 small { font-weight: normal; color: var(--muted); font-size: 13px; margin-left: 8px; }
.meta { color: var(--muted); margin: 4px 0 0; }
.ok { color: var(--ok); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; margin-top: 16px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.card h2 { margin: 0 0 8px; }
.stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(110px, 1fr)); gap: 10px; }
.stat .value { display: block; font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
.stat .label { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name { max-width: 360px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
td.progress { white-space: nowrap; font-variant-numeric: tabular-nums; }
progress { width: 140px; height: 12px; vertical-align: middle; accent-color: var(--bar); }
.stage-downloading, .stage-uploading { color: var(--bar); font-weight: 600; }
.stage-retrying, .stage-cancelling { color: var(--bad); }
tr.empty td, p.empty { color: var(--muted); }
bdi { unicode-bidi: isolate; }
.chart { width: 100%; max-width: 900px; height: auto; }
.chart .grid { stroke: var(--line); stroke-width: 1; }
.chart .bar { fill: var(--bar); }
.chart .axis { fill: var(--muted); font-size: 11px; }
code { font-size: 12px; }
.denied { max-width: 640px; }
`;
