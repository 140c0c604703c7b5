/**
 * /healthz (alive), /readyz (connected and migrated), /metrics (Prometheus text) and the read-only dashboard on a
 * local port. With a DASHBOARD_TOKEN set, the dashboard and /metrics need it; the probes never do, so a supervisor
 * or a load balancer can check liveness without a secret.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { decideAccess } from "./access.js";
import { type Dashboard, deniedPage, sendPage } from "./dashboard.js";

export interface HealthSource {
  /** True once the database is migrated and Telegram is connected. */
  ready(): boolean;
  /** The Prometheus text exposition. */
  metrics(): Promise<string>;
  /** Its content type (prom-client's registry says). */
  metricsContentType: string;
  /** The dashboard; absent: /dashboard is not found. */
  dashboard?: Dashboard;
  /** Guards the dashboard and /metrics; undefined: open (config allows that on loopback only). */
  token?: string | undefined;
}

export interface RunningHttpServer {
  port: number;
  close(): Promise<void>;
}

export async function startHttpServer(
  host: string,
  port: number,
  source: HealthSource,
): Promise<RunningHttpServer> {
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: string, type = "text/plain; charset=utf-8", extra = {}) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store", ...extra });
      res.end(body);
    };
    if (req.method !== "GET") return reply(405, "method not allowed\n");
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/healthz") return reply(200, "ok\n");
    if (url.pathname === "/readyz") return source.ready() ? reply(200, "ready\n") : reply(503, "not ready\n");

    const guarded =
      url.pathname === "/metrics" || url.pathname === "/" || url.pathname.startsWith("/dashboard");
    if (!guarded) return reply(404, "not found\n");
    const access = decideAccess(req, url, source.token);
    if (access.kind === "denied") {
      const challenge = { "www-authenticate": 'Bearer realm="medusa"' };
      if (url.pathname === "/metrics" || url.pathname.endsWith(".json"))
        return reply(401, "a token is needed\n", undefined, challenge);
      return sendPage(res, 401, deniedPage, challenge);
    }
    if (access.kind === "redirect") {
      res.writeHead(303, {
        location: access.location,
        "set-cookie": access.setCookie,
        "cache-control": "no-store",
      });
      return res.end();
    }
    if (url.pathname === "/metrics") {
      source.metrics().then(
        (text) => reply(200, text, source.metricsContentType),
        () => reply(500, "metrics unavailable\n"),
      );
      return;
    }
    const dashboard = source.dashboard;
    if (!dashboard) return reply(404, "not found\n");
    if (url.pathname === "/") {
      res.writeHead(302, { location: "/dashboard", "cache-control": "no-store" });
      return res.end();
    }
    dashboard.handle(url.pathname, res).then(
      (handled) => {
        if (!handled) reply(404, "not found\n");
      },
      () => {
        if (!res.headersSent) reply(500, "dashboard unavailable\n");
        else res.destroy();
      },
    );
  });
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
