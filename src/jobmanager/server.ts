import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { timingSafeEqual } from "node:crypto";
import { transform } from "esbuild";
import { WebSocketServer, type WebSocket } from "ws";
import { createJsonLog, jsonLogger } from "../api/json-logger.js";
import { parseLogFormat, type LogFormat } from "../api/log-format.js";
import { createLogger } from "../api/logger.js";
import type { JobEvent, Logger } from "../api/types.js";
import { DASHBOARD_MISSING, defaultDashboardDir, readDashboardFile } from "./dashboard-files.js";
import { HttpError } from "./http-errors.js";
import type { LogLimits } from "./job-log.js";
import { JobStore } from "./job-store.js";
import { JobSupervisor } from "./job-supervisor.js";
import { singleLineLogger } from "./log-sanitizer.js";
import { startHeartbeat } from "./socket-heartbeat.js";
import { dataPaths, ensureDataDir, lockDataDir } from "./paths.js";
import type { ErrorBody } from "./protocol.js";
import { readJsonObject } from "./request-body.js";
import { validateStop, validateSubmit } from "./request-validation.js";
import type { Retention } from "./retention.js";
import { TERMINAL_STATES } from "../api/job-state.js";
import type { ClusterAddress } from "../cluster/connect.js";
import { CLUSTER_ENV_NAMES, openClusterLink } from "./cluster-link.js";
import { createJobManagerMetrics } from "./prometheus-metrics.js";
import type { ServerInfo } from "./server-info.js";
import { chooseProtocol, protocolToken } from "./socket-auth.js";

/** Settings of a JobManager server. */
export interface JobManagerServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  token: string;
  dataDir: string;
  version: string;
  /** Largest request body (default 32 MiB: job bundles can be large). */
  maxBodyBytes?: number;
  /** How long a stop waits for a job process before killing it (default 10 s). */
  stopGraceMs?: number;
  /** Interval of the pings on event streams; a peer that misses one is disconnected (default 5 s). */
  heartbeatMs?: number;
  /** What is kept of each job's log: line length, bytes and lines (defaults 16 KiB, 8 MiB, 50,000). */
  logLimits?: Partial<LogLimits>;
  /** How many ended jobs are kept, and for how long (defaults 1000 jobs, 7 days). */
  retention?: Partial<Retention>;
  /** The largest report a job process may send, in bytes; larger ones are skipped and logged (default 4 MiB). */
  maxReportBytes?: number;
  /**
   * The cluster jobs place their remote parts on (passed to each job process as SAGE_CLUSTER and
   * SAGE_CLUSTER_CREDS). The server connects to it first and does not start when it cannot.
   */
  cluster?: ClusterAddress;
  /** How often each job's metrics history takes a sample (default 2 s). */
  historyIntervalMs?: number;
  /** The built dashboard's folder (default: the package's `dist/dashboard`). */
  dashboardDir?: string;
  /**
   * `json`: every line of the server's log is one JSON object (pino), with the job's id and name
   * (`job`, `job_name`) or the worker's name as fields where the line is about one (default `text`).
   */
  logFormat?: LogFormat;
  /**
   * Where the server logs (default: stderr, in `logFormat`). A text logger gets each message as
   * one line, control characters escaped; with `json` the logger's own encoding must escape them.
   */
  logger?: Logger;
}

/** A running JobManager. */
export interface JobManagerServer {
  readonly host: string;
  readonly port: number;
  /** Stops accepting requests, ends running jobs and closes the store. */
  close(): Promise<void>;
}

/** A handler's answer when it wrote the response itself. */
const RESPONDED = Symbol("responded");

/** Starts a JobManager: HTTP API + WebSocket event streams, jobs in child processes, history in SQLite. */
export async function startJobManagerServer(options: JobManagerServerOptions): Promise<JobManagerServer> {
  const host = options.host ?? "127.0.0.1";
  const logger = serverLogger(options);
  if (!options.token) throw new Error("a JobManager needs a token");
  // Before anything else: a cluster that cannot be reached leaves nothing started or locked.
  const cluster = options.cluster ? await openClusterLink(options.cluster, logger) : undefined;
  const unlock = await lockedDataDir(options.dataDir, () => cluster?.close());
  let store: JobStore;
  let supervisor: JobSupervisor;
  try {
    store = new JobStore(dataPaths(options.dataDir).database);
    supervisor = new JobSupervisor({
      dataDir: options.dataDir,
      store,
      logger,
      stopGraceMs: options.stopGraceMs,
      logLimits: options.logLimits,
      retention: options.retention,
      maxReportBytes: options.maxReportBytes,
      jobEnv: cluster?.jobEnv,
      historyIntervalMs: options.historyIntervalMs,
    });
  } catch (error) {
    unlock();
    await cluster?.close();
    throw error;
  }
  const startedAt = Date.now();
  const maxBody = options.maxBodyBytes ?? 32 * 1024 * 1024;
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024, handleProtocols: chooseProtocol });
  const stopHeartbeat = startHeartbeat(sockets, options.heartbeatMs ?? 5000);
  let address = { host, port: options.port ?? 19001 };
  const metrics = createJobManagerMetrics({
    jobs: () => supervisor.list(),
    processes: () => supervisor.processes().length,
    uptimeSeconds: () => (Date.now() - startedAt) / 1000,
  });

  const dashboardDir = options.dashboardDir ?? defaultDashboardDir();
  const routes: Route[] = [
    // The dashboard's files are public like any page; the API behind them is not.
    route("GET", /^\/(?:dashboard)?$/, async (_request, response) => {
      const page = await readDashboardFile(dashboardDir, "index.html");
      if (page) return sendFile(response, page.headers, page.body);
      return sendFile(response, { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff", "cache-control": "no-cache" }, Buffer.from(DASHBOARD_MISSING), 503);
    }, { public: true }),
    route("GET", /^\/(favicon\.svg)$/, async (_request, response, name) => sendDashboardFile(response, dashboardDir, name, false), { public: true }),
    route("GET", /^\/assets\/([^/]+)$/, async (_request, response, name) => sendDashboardFile(response, dashboardDir, name, true), { public: true }),
    route("GET", /^\/api\/health$/, async () => ({ status: "ok", version: options.version }), { public: true }),
    route("GET", /^\/api\/info$/, async (): Promise<ServerInfo> => ({
      version: options.version,
      uptimeMs: Date.now() - startedAt,
      host: address.host,
      port: address.port,
      pid: process.pid,
      jobs: supervisor.counts(),
      processes: supervisor.processes(),
      ...(cluster && { cluster: cluster.info() }),
    })),
    route("GET", /^\/metrics$/, async (_request, response) => {
      const body = await metrics.scrape();
      response.writeHead(200, { "content-type": metrics.contentType, "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
      response.end(body);
      return RESPONDED;
    }),
    route("POST", /^\/api\/jobs$/, async (request, response) => {
      const submit = validateSubmit(await readJsonObject(request, maxBody));
      if (cluster) refuseClusterOverride(submit.options?.env ?? {});
      await checkBundle(submit.code);
      response.statusCode = 201;
      return supervisor.submit(submit);
    }),
    route("GET", /^\/api\/jobs$/, async () => supervisor.list()),
    route("GET", /^\/api\/jobs\/([^/]+)$/, async (_request, _response, id) => supervisor.status(jobId(supervisor, id))!),
    route("POST", /^\/api\/jobs\/([^/]+)\/stop$/, async (request, _response, id) => {
      const stop = validateStop(await readJsonObject(request, 64 * 1024, true));
      return (await supervisor.stop(jobId(supervisor, id), stop))!;
    }),
    route("DELETE", /^\/api\/jobs\/([^/]+)$/, async (_request, _response, id) => {
      const resolved = jobId(supervisor, id);
      await supervisor.delete(resolved);
      return { deleted: resolved };
    }),
    route("GET", /^\/api\/jobs\/([^/]+)\/history$/, async (_request, _response, id) => supervisor.history(jobId(supervisor, id))!),
    route("GET", /^\/api\/jobs\/([^/]+)\/logs$/, async (request, _response, id) => {
      const since = Number(new URL(request.url!, "http://x").searchParams.get("since") ?? 0);
      return supervisor.logs(jobId(supervisor, id), Number.isFinite(since) && since >= 0 ? since : 0)!;
    }),
  ];

  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      if (!(error instanceof HttpError)) logger.error("request %s %s failed: %s", request.method, loggablePath(request.url), error instanceof Error ? error.stack : error);
      sendError(response, error instanceof HttpError ? error : new HttpError(500, "E_INTERNAL", "internal error"));
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    const matching = routes.filter((r) => r.pattern.test(path));
    // Only the public paths answer before the token check: without the token a caller learns
    // nothing of which other paths and methods exist.
    if (!(matching.length > 0 && matching.every((r) => r.public))) authorize(request, options.token);
    if (matching.length === 0) throw new HttpError(404, "E_NOT_FOUND", `no route ${path}`);
    // HEAD is GET without the body (Node's response drops the body of a HEAD by itself).
    const method = request.method === "HEAD" ? "GET" : request.method;
    const match = matching.find((r) => r.method === method);
    if (!match) {
      response.setHeader("allow", allowedMethods(matching));
      throw new HttpError(405, "E_METHOD_NOT_ALLOWED", `${request.method} is not allowed on ${path}`);
    }
    const result = await match.handler(request, response, decodeParam(match.pattern.exec(path)![1] ?? ""));
    if (result !== RESPONDED) sendJson(response, response.statusCode || 200, result);
  }

  server.on("upgrade", (request, socket, head) => {
    // A peer may reset the connection at any time: that must never become an unhandled error.
    socket.on("error", () => socket.destroy());
    const url = new URL(request.url ?? "/", "http://x");
    const match = /^\/api\/jobs\/([^/]+)\/events$/.exec(url.pathname);
    try {
      // The browser's event streams carry the token in a subprotocol (it cannot set headers).
      authorize(request, options.token, protocolToken(request.headers["sec-websocket-protocol"]));
      if (!match) throw new HttpError(404, "E_NOT_FOUND", `no WebSocket route ${url.pathname}`);
      const id = jobId(supervisor, decodeParam(match[1]!));
      sockets.handleUpgrade(request, socket, head, (ws) => {
        sockets.emit("connection", ws, request);
        streamEvents(ws, supervisor, id);
      });
    } catch (error) {
      const failure = error instanceof HttpError ? error : new HttpError(500, "E_INTERNAL", "internal error");
      const body = JSON.stringify({ error: { code: failure.code, message: failure.message } } satisfies ErrorBody);
      socket.end(`HTTP/1.1 ${failure.status} ${failure.code}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    }
  });

  server.requestTimeout = 60_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 19001, host, () => resolve());
    });
  } catch (error) {
    stopHeartbeat();
    store.close();
    unlock();
    await cluster?.close();
    throw error;
  }
  const bound = server.address();
  address = { host, port: typeof bound === "object" && bound ? bound.port : (options.port ?? 19001) };
  logger.info("JobManager listening on http://%s:%d (data: %s)", address.host, address.port, options.dataDir);

  return {
    host: address.host,
    port: address.port,
    async close() {
      stopHeartbeat();
      // No new requests; then the jobs end, so clients that follow one see its final state on
      // their event stream before it closes, instead of a connection that just drops.
      const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      await supervisor.shutdown();
      await settled([...sockets.clients].map((client) => new Promise((resolve) => client.once("close", resolve))), CLOSE_GRACE_MS);
      // The HTTP server's close waits for every upgraded socket: the rest are ended here.
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      server.closeAllConnections();
      await httpClosed;
      store.close();
      unlock();
      await cluster?.close();
    },
  };
}

// Job names, paths and errors in the log come from clients: a text line escapes what could forge
// or hide lines, JSON escapes it by itself.
function serverLogger(options: JobManagerServerOptions): Logger {
  if (parseLogFormat(options.logFormat ?? "text") === "json") return options.logger ?? jsonLogger(createJsonLog({ name: "jobmanager" }));
  return singleLineLogger(options.logger ?? createLogger("jobmanager"));
}

/** How long a closing server gives event streams to deliver their final state and close. */
const CLOSE_GRACE_MS = 1000;

// Resolves when every promise has, or after `ms`.
function settled(promises: Array<Promise<unknown>>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([Promise.all(promises), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}

// Every state change and metric of one job; the socket closes after the terminal state.
function streamEvents(ws: WebSocket, supervisor: JobSupervisor, id: string): void {
  ws.on("error", () => ws.terminate()); // a malformed or oversized frame ends this stream only
  const send = (event: JobEvent) => {
    if (ws.readyState !== ws.OPEN) return;
    // A reader that stopped reading must not make the server buffer without end: past 4 MiB
    // queued, log lines and metrics are dropped; state changes always go out.
    if (event.type !== "state" && ws.bufferedAmount > 4 * 1024 * 1024) return;
    ws.send(JSON.stringify(event));
  };
  const current = supervisor.status(id)!;
  send({ type: "state", jobId: id, state: current.state, at: new Date().toISOString(), status: current });
  const unsubscribe = supervisor.subscribe(id, (event) => {
    send(event);
    // The job process reports its terminal state first; the stream closes with the supervisor's
    // final event, sent once the process is gone.
    if (event.type === "state" && TERMINAL_STATES.has(event.state) && !supervisor.isLive(id)) ws.close(1000, "job ended");
  });
  if (!unsubscribe) {
    ws.close(1000, "job ended");
    return;
  }
  ws.on("close", unsubscribe);
}

interface Route {
  method: string;
  pattern: RegExp;
  handler(request: IncomingMessage, response: ServerResponse, param: string): Promise<unknown>;
  public: boolean;
}

function route(method: string, pattern: RegExp, handler: Route["handler"], flags: { public?: boolean } = {}): Route {
  return { method, pattern, handler, public: flags.public === true };
}

// The Allow header of a 405: the methods of the routes on that path, HEAD with GET.
function allowedMethods(routes: Route[]): string {
  const methods = new Set(routes.map((r) => r.method));
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods].join(", ");
}

function authorize(request: IncomingMessage, token: string, protocolToken?: string): void {
  const header = request.headers.authorization;
  const given = header?.startsWith("Bearer ") ? header.slice(7) : protocolToken;
  if (given === undefined) throw new HttpError(401, "E_UNAUTHORIZED", "missing bearer token (Authorization: Bearer <token>)");
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new HttpError(401, "E_UNAUTHORIZED", "wrong token");
}

function jobId(supervisor: JobSupervisor, idOrPrefix: string): string {
  const id = supervisor.resolveId(idOrPrefix);
  if (id === "ambiguous") throw new HttpError(409, "E_AMBIGUOUS_ID", `job id prefix '${idOrPrefix}' matches several jobs`);
  if (id === undefined) {
    const hint = idOrPrefix.length < 4 ? " (a shortened id needs at least 4 characters)" : "";
    throw new HttpError(404, "E_JOB_NOT_FOUND", `no job '${idOrPrefix}'${hint}`);
  }
  return id;
}

// Creates and locks the data dir; on failure `undo` runs before the error goes on.
async function lockedDataDir(dataDir: string, undo: () => Promise<void> | undefined): Promise<() => void> {
  try {
    ensureDataDir(dataDir);
    return lockDataDir(dataDir);
  } catch (error) {
    await undo();
    throw error;
  }
}

// The JobManager's cluster is where its jobs' remote parts go: a job's own --env cannot quietly
// send them elsewhere (a job that means to use another cluster names it in its config).
function refuseClusterOverride(env: Record<string, string>): void {
  const set = CLUSTER_ENV_NAMES.filter((name) => name in env);
  if (set.length === 0) return;
  throw new HttpError(
    400,
    "E_BAD_REQUEST",
    `'options.env' sets ${set.join(" and ")}, which this JobManager sets itself (it was started with --cluster): drop it from the job's env, or give the job's environment { cluster } in its code to use another cluster`,
  );
}

// A bundle that does not parse is refused at the door, with the parser's message.
async function checkBundle(code: string): Promise<void> {
  try {
    await transform(code, { loader: "js", format: "esm", logLevel: "silent" });
  } catch (error) {
    const first = (error as { errors?: Array<{ text: string; location?: { line: number; column: number } }> }).errors?.[0];
    const where = first?.location ? ` (line ${first.location.line}, column ${first.location.column})` : "";
    throw new HttpError(400, "E_BAD_BUNDLE", `the job bundle does not parse: ${first?.text ?? (error as Error).message}${where}`);
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  response.end(text);
}

// Sends a file of the built dashboard, or a 404 when it has no such file.
async function sendDashboardFile(response: ServerResponse, dir: string, name: string, asset: boolean): Promise<typeof RESPONDED> {
  const file = await readDashboardFile(dir, name, { asset });
  if (!file) throw new HttpError(404, "E_NOT_FOUND", `the dashboard has no file ${asset ? "assets/" : ""}${name}`);
  return sendFile(response, file.headers, file.body);
}

function sendFile(response: ServerResponse, headers: Record<string, string>, body: Buffer, status = 200): typeof RESPONDED {
  response.writeHead(status, { ...headers, "content-length": String(body.length) });
  response.end(body);
  return RESPONDED;
}

// A request's path for the log: the query may carry what a client should not have put in a URL.
function loggablePath(url: string | undefined): string {
  const path = (url ?? "/").split("?")[0]!;
  return path === url ? path : `${path}?…`;
}

function sendError(response: ServerResponse, error: HttpError): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  sendJson(response, error.status, { error: { code: error.code, message: error.message } } satisfies ErrorBody);
}

function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, "E_BAD_REQUEST", `malformed escape in the URL: ${raw}`);
  }
}
