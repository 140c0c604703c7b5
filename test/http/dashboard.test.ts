/**
 * The dashboard on the real HTTP server over a real database: what it shows, that hostile names stay text, and
 * who gets in (the token rules). Seconds; the browser test in test/scripts/demo.test.ts looks at it with real jobs.
 */
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { describe, it, type TestContext } from "node:test";
import { parseConfig } from "../../src/config.js";
import type { Db } from "../../src/db/database.js";
import { createJob } from "../../src/db/jobs.js";
import { setRole, touchUser } from "../../src/db/users.js";
import { ConfigError } from "../../src/errors.js";
import { tokensEqual } from "../../src/http/access.js";
import { createDashboard } from "../../src/http/dashboard.js";
import { startHttpServer } from "../../src/http/server.js";
import { testDatabase } from "../db/support.js";

const MIB = 1024 * 1024;
const TOKEN = "s3cret-dashboard-token-0123456789";
/** A name that is markup, with a right-to-left override in it. */
const HOSTILE = `<img src=x onerror=alert(1)>\u202eevil\u202c</td>`;

async function seed(db: Db) {
  await touchUser(db, { id: 501, username: "uma", firstName: "Uma" });
  await setRole(db, 501, "user", null);
  await touchUser(db, { id: 502, firstName: HOSTILE });
  await setRole(db, 502, "user", null);
  const job = (user: number, extra: Record<string, unknown>) =>
    createJob(db, {
      user_id: user,
      request_chat_id: user,
      destination_chat_id: user,
      source_url: "https://user:pw@example.com/file.mp4",
      ...extra,
    });
  await job(501, {
    status: "done",
    name: "sunrise.mp4",
    bytes_total: 40 * MIB,
    bytes_done: 40 * MIB,
    download_ms: 2000,
    upload_ms: 4000,
  });
  await job(502, {
    status: "failed",
    name: HOSTILE,
    error_code: "HTTP_404",
    error_message: "the server answered 404 for https://user:pw@example.com/x",
  });
  // Downloading now: a live lease, half of its bytes.
  await job(501, {
    status: "downloading",
    name: "archive.bin",
    bytes_total: 64 * MIB,
    bytes_done: 32 * MIB,
    locked_by: "w-1",
    locked_until: "2999-01-01T00:00:00.000Z",
  });
  await job(502, { status: "queued", name: "waiting.iso" });
}

async function serve(t: TestContext, token: string | undefined) {
  const { db } = await testDatabase(t);
  await seed(db);
  const server = await startHttpServer("127.0.0.1", 0, {
    ready: () => true,
    metrics: async () => "medusa_ready 1\n",
    metricsContentType: "text/plain",
    dashboard: createDashboard({ db, ready: () => true }),
    token,
  });
  t.after(() => server.close());
  const base = `http://127.0.0.1:${server.port}`;
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { headers, redirect: "manual" });
  return { get };
}

/** Nothing of the seeded data in a refused answer. */
function assertNoData(body: string) {
  for (const secret of ["sunrise", "archive.bin", "uma", "HTTP_404", "evil", "waiting.iso"]) {
    assert.ok(!body.includes(secret), `a refused answer shows "${secret}"`);
  }
}

describe("dashboard", () => {
  it("shows today, the week, the live queue, the chart, users and errors, with hostile names as inert text", async (t) => {
    const { get } = await serve(t, undefined);
    const res = await get("/dashboard");
    assert.equal(res.status, 200);
    const html = await res.text();
    for (const id of ["today", "week", "queue", "volume", "users", "errors"])
      assert.match(html, new RegExp(`id="${id}"`));
    assert.match(html, /data-stat="jobs"><span class="value">4</, "4 jobs today");
    assert.match(html, /data-stat="success"><span class="value">50\.0 %/, "1 done of 2 ended");
    assert.match(html, /data-stat="bytes"><span class="value">40\.0 MiB/);
    assert.match(html, /data-stat="upload"><span class="value">10\.0 MiB\/s/);
    // The queue: the running job with its bar at 50 %, the waiting one at place 1.
    assert.match(
      html,
      /data-stage="downloading">.*<progress max="100" value="50"><\/progress> 50\.0 %.*32\.0 MiB \/ 64\.0 MiB/,
    );
    assert.match(html, /waiting\.iso.*data-stage|data-stage="queued".*waiting\.iso/s);
    assert.match(
      html,
      /<rect class="bar" data-day="\d{4}-\d\d-\d\d" x="\d+" y="\d+" width="\d+" height="[1-9]\d*"><title>[^<]*4 jobs, 40\.0 MiB delivered/,
    );
    assert.match(html, /@uma \(501\)/);
    assert.match(html, /<code>HTTP_404<\/code>/);
    // Escaped, the override dropped, each run isolated; no credentials from the link or the message.
    assert.ok(!html.includes("<img"), "markup from a name reached the page");
    assert.ok(!html.includes("\u202e"), "a right-to-left override reached the page");
    assert.match(html, /<bdi>&lt;img src=x onerror=alert\(1\)&gt;evil&lt;\/td&gt;/);
    assert.ok(!html.includes("user:pw"), "credentials from a link reached the page");

    // One nonce allows the one script and the one style sheet; nothing else may load.
    const csp = res.headers.get("content-security-policy") ?? "";
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce, csp);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'self'/);
    assert.equal(html.match(/<script/g)?.length, 1);
    assert.ok(html.includes(`<script nonce="${nonce}">`));
    assert.ok(!/\ssrc=["']?https?:|href=["']?https?:/.test(html), "no external asset");

    const json = await get("/dashboard/queue.json");
    assert.equal(json.status, 200);
    const queue = (await json.json()) as {
      running: number;
      waiting: number;
      jobs: Array<Record<string, unknown>>;
    };
    assert.equal(queue.running, 1);
    assert.equal(queue.waiting, 1);
    assert.deepEqual(
      queue.jobs.map((j) => [j.name, j.stage, j.percent, j.position]),
      [
        ["archive.bin", "downloading", 50, null],
        ["waiting.iso", "queued", null, 1],
      ],
    );
  });

  it("refuses a wrong or missing token with a 401 and no data, and takes the right one by header or ?token= once", async (t) => {
    const { get } = await serve(t, TOKEN);
    for (const [path, headers] of [
      ["/dashboard", {}],
      ["/dashboard", { authorization: "Bearer wrong" }],
      ["/dashboard", { authorization: `Bearer ${TOKEN}x` }],
      ["/dashboard?token=wrong", {}],
      ["/dashboard", { cookie: `medusa_dashboard=${TOKEN}` }],
      ["/dashboard/queue.json", {}],
      ["/metrics", {}],
      ["/", {}],
    ] as const) {
      const res = await get(path, headers);
      assert.equal(res.status, 401, `${path} ${JSON.stringify(headers)}`);
      assert.equal(res.headers.get("set-cookie"), null);
      assertNoData(await res.text());
    }
    // The probes stay open: a supervisor needs no secret.
    assert.equal((await get("/healthz")).status, 200);
    assert.equal((await get("/readyz")).status, 200);

    const byHeader = await get("/dashboard", { authorization: `Bearer ${TOKEN}` });
    assert.equal(byHeader.status, 200);
    assert.match(await byHeader.text(), /@uma \(501\)/);
    assert.equal((await get("/metrics", { authorization: `Bearer ${TOKEN}` })).status, 200);

    // ?token= once: a cookie (HttpOnly, SameSite=Strict, not the token itself) and a redirect without it.
    const once = await get(`/dashboard?token=${encodeURIComponent(TOKEN)}`);
    assert.equal(once.status, 303);
    assert.equal(once.headers.get("location"), "/dashboard");
    const setCookie = once.headers.get("set-cookie") ?? "";
    assert.match(setCookie, /^medusa_dashboard=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    assert.ok(!setCookie.includes(TOKEN), "the cookie holds the token itself");
    const cookie = setCookie.split(";")[0] ?? "";
    const withCookie = await get("/dashboard", { cookie: `other=1; ${cookie}` });
    assert.equal(withCookie.status, 200);
    assert.match(await withCookie.text(), /archive\.bin/);
    assert.equal((await get("/dashboard/queue.json", { cookie })).status, 200);
    assert.equal((await get("/", { cookie })).headers.get("location"), "/dashboard");
  });

  it("compares tokens in constant time over SHA-256 digests, whatever their lengths", (t) => {
    const spy = t.mock.method(crypto, "timingSafeEqual");
    assert.equal(tokensEqual(TOKEN, TOKEN), true);
    assert.equal(tokensEqual("short", TOKEN), false);
    assert.equal(tokensEqual(`${TOKEN}-and-longer`, TOKEN), false);
    assert.equal(tokensEqual("", TOKEN), false);
    assert.equal(spy.mock.callCount(), 4);
    for (const call of spy.mock.calls) {
      const [a, b] = call.arguments as unknown as [Buffer, Buffer];
      assert.deepEqual([a.length, b.length], [32, 32], "digests, not the texts");
    }
  });

  it("is refused by the configuration on a non-loopback host without a token, and needs a strong one", () => {
    const problems = (env: Record<string, string>) => {
      try {
        parseConfig(env);
        return [];
      } catch (error) {
        assert.ok(error instanceof ConfigError);
        return [...error.problems];
      }
    };
    for (const host of ["0.0.0.0", "::", "192.168.1.10", "medusa.example.com"]) {
      const found = problems({ HTTP_HOST: host });
      assert.equal(found.length, 1, host);
      assert.match(
        found[0] ?? "",
        /^DASHBOARD_TOKEN: missing, and required because HTTP_HOST is not a loopback address/,
      );
    }
    assert.match(
      problems({ HTTP_HOST: "0.0.0.0", DASHBOARD_TOKEN: "short" })[0] ?? "",
      /at least 16 characters/,
    );
    assert.deepEqual(problems({ HTTP_HOST: "0.0.0.0", HTTP_PORT: "0" }), [], "no server, nothing to guard");
    for (const host of ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"]) {
      assert.deepEqual(problems({ HTTP_HOST: host }), [], host);
    }
    const config = parseConfig({ HTTP_HOST: "0.0.0.0", DASHBOARD_TOKEN: TOKEN });
    assert.equal(config.http.dashboardToken, TOKEN);
    assert.equal(parseConfig({}).http.dashboardToken, undefined);
  });
});
