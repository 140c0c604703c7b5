/** /healthz (alive), /readyz (connected and migrated) and /metrics (Prometheus text) on a local port. */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface HealthSource {
  /** True once the database is migrated and Telegram is connected. */
  ready(): boolean;
  /** The Prometheus text exposition. */
  metrics(): Promise<string>;
  /** Its content type (prom-client's registry says). */
  metricsContentType: string;
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
    const reply = (status: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    if (req.method !== "GET") return reply(405, "method not allowed\n");
    if (req.url === "/healthz") return reply(200, "ok\n");
    if (req.url === "/readyz") return source.ready() ? reply(200, "ready\n") : reply(503, "not ready\n");
    if (req.url === "/metrics") {
      source.metrics().then(
        (text) => reply(200, text, source.metricsContentType),
        () => reply(500, "metrics unavailable\n"),
      );
      return;
    }
    reply(404, "not found\n");
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
