import { createServer } from "node:http";
import { InvalidArgumentError } from "commander";
import type { JobHandle } from "../api/types.js";
import { CLIError } from "./cli-error.js";
import { addressOf } from "./cli-options.js";

/** Where `sage run --metrics-port` serves. */
export interface MetricsAddress {
  host: string;
  /** 0 picks a free port. */
  port: number;
}

/** The Prometheus endpoint of a `sage run`. */
export interface RunMetrics {
  /** `http://host:port/metrics`, with the port it listens on. */
  readonly url: string;
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` for the jobs of a `sage run`: the JobManager's `sage_*` metrics, read from
 * each job's status at scrape time. It never keeps the process alive by itself (its listening
 * socket is unref'd); the run closes it once its jobs have ended.
 */
export async function serveRunMetrics(address: MetricsAddress, jobs: () => readonly JobHandle[]): Promise<RunMetrics> {
  // prom-client loads only for a run that serves metrics.
  const { createJobManagerMetrics } = await import("../jobmanager/prometheus-metrics.js");
  const metrics = createJobManagerMetrics({ jobs: () => Promise.all(jobs().map((job) => job.status())) });
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    const answer = (status: number, body: string, headers: Record<string, string> = {}) => {
      response.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers, "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
      response.end(body);
    };
    if (path !== "/metrics") return answer(404, "not found: metrics are at /metrics\n");
    if (request.method !== "GET" && request.method !== "HEAD") return answer(405, `${request.method} is not allowed on /metrics\n`, { allow: "GET, HEAD" });
    metrics.scrape().then(
      (body) => answer(200, body, { "content-type": metrics.contentType }),
      (error: unknown) => answer(500, `cannot read the jobs' status: ${error instanceof Error ? error.message : String(error)}\n`),
    );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(address.port, address.host, () => resolve());
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = addressOf(address);
    if (code === "EADDRINUSE") throw new CLIError(`cannot serve metrics on ${where}: the address is already in use`, "E_ADDRESS_IN_USE", 1);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new CLIError(`cannot serve metrics on ${where}: no such local address`, "E_BAD_ADDRESS", 1);
    throw error;
  }
  server.unref();
  const bound = server.address();
  const port = typeof bound === "object" && bound ? bound.port : address.port;
  return {
    url: `http://${addressOf({ host: address.host, port })}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Commander parser for --metrics-port: an integer 0-65535 (0 picks a free port). */
export function parseMetricsPort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError("expected an integer from 0 to 65535 (0 picks a free port).");
  return port;
}

/** The address `--metrics-port` and `--metrics-host` name; none without a port. */
export function runMetricsAddress(port: number | undefined, host: string | undefined): MetricsAddress | undefined {
  if (port === undefined) {
    if (host !== undefined) throw new CLIError("--metrics-host needs --metrics-port", "E_NO_METRICS_PORT");
    return undefined;
  }
  return { host: host ?? "127.0.0.1", port };
}
