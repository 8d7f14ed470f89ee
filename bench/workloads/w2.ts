/**
 * W2: an I/O-bound async map. Each record becomes one HTTP GET to the harness's loopback server,
 * which answers after 5 ms; 64 requests in flight, over a keep-alive agent with 64 sockets.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

/** Input records of a full run. */
export const W2_RECORDS = 20_000;
/** Requests in flight. */
export const W2_CONCURRENCY = 64;
/** How long the server waits before answering, ms. */
export const W2_DELAY_MS = 5;

/** What the async map returns: the input and the server's answer for it. */
export interface W2Reply {
  x: number;
  value: number;
}

/** The value the server answers for `x`. */
export const w2Answer = (x: number): number => (x * 7919) % 1_000_003;

/** The source as a generator: 0..n-1. */
export function* w2Source(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

/** The keep-alive agent every peer uses. */
export function createW2Agent(): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: W2_CONCURRENCY });
}

/** One GET `/v/<x>` to the delayed server; resolves with its answer. */
export function fetchW2(agent: http.Agent, port: number, x: number): Promise<W2Reply> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: "127.0.0.1", port, path: `/v/${x}`, agent }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => {
        if (response.statusCode !== 200) reject(new Error(`GET /v/${x}: HTTP ${response.statusCode}`));
        else resolve({ x, value: Number(body) });
      });
      response.on("error", reject);
    });
    request.on("error", reject);
  });
}

/** Folds replies into a checksum and notes whether they arrived in input order. */
export class W2Sink {
  #next = 0;
  inOrder = true;
  count = 0;
  acc = 0;

  /** Consumes one reply. */
  add(reply: W2Reply): void {
    if (reply.x !== this.#next++) this.inOrder = false;
    this.count++;
    this.acc = (this.acc + reply.value) | 0;
  }

  /** `count:sum`, comparable across peers. */
  get checksum(): string {
    return `${this.count}:${this.acc >>> 0}`;
  }
}

/** The loopback server started by the harness (in the orchestrating process). */
export interface DelayServer {
  port: number;
  /** Requests answered so far. */
  readonly served: number;
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1 and a free port; it answers `GET /v/<x>` after `delayMs`. */
export async function startDelayServer(delayMs = W2_DELAY_MS): Promise<DelayServer> {
  let served = 0;
  const server = http.createServer((request, response) => {
    const x = Number((request.url ?? "").slice(3));
    setTimeout(() => {
      if (!Number.isInteger(x)) {
        response.writeHead(400).end();
        return;
      }
      const body = String(w2Answer(x));
      response.writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(body) });
      response.end(body);
      served++;
    }, delayMs);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    get served() {
      return served;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
