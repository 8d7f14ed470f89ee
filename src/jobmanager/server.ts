import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { timingSafeEqual } from "node:crypto";
import { transform } from "esbuild";
import { WebSocketServer, type WebSocket } from "ws";
import { createLogger } from "../api/logger.js";
import type { JobEvent, Logger, StopOptions } from "../api/types.js";
import { DASHBOARD_HTML } from "./dashboard.js";
import { MAX_TIMER_MS } from "../runtime/thenable.js";
import { HttpError } from "./http-errors.js";
import type { LogLimits } from "./job-log.js";
import { JobStore } from "./job-store.js";
import { JobSupervisor } from "./job-supervisor.js";
import { dataPaths, ensureDataDir, lockDataDir } from "./paths.js";
import type { ErrorBody, SubmitJobRequest } from "./protocol.js";
import type { Retention } from "./retention.js";

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
  /** What is kept of each job's log: line length, bytes and lines (defaults 16 KiB, 8 MiB, 5000). */
  logLimits?: Partial<LogLimits>;
  /** How many ended jobs are kept, and for how long (defaults 1000 jobs, 7 days). */
  retention?: Partial<Retention>;
  logger?: Logger;
}

/** A running JobManager. */
export interface JobManagerServer {
  readonly host: string;
  readonly port: number;
  /** Stops accepting requests, ends running jobs and closes the store. */
  close(): Promise<void>;
}

const TERMINAL = new Set(["finished", "stopped", "failed"]);
/** A handler's answer when it wrote the response itself. */
const RESPONDED = Symbol("responded");

/** Starts a JobManager: HTTP API + WebSocket event streams, jobs in child processes, history in SQLite. */
export async function startJobManagerServer(options: JobManagerServerOptions): Promise<JobManagerServer> {
  const host = options.host ?? "127.0.0.1";
  const logger = options.logger ?? createLogger("jobmanager");
  if (!options.token) throw new Error("a JobManager needs a token");
  ensureDataDir(options.dataDir);
  const unlock = lockDataDir(options.dataDir);
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
    });
  } catch (error) {
    unlock();
    throw error;
  }
  const startedAt = Date.now();
  const maxBody = options.maxBodyBytes ?? 32 * 1024 * 1024;
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  let address = { host, port: options.port ?? 19001 };

  const routes: Route[] = [
    route("GET", /^\/(dashboard)?$/, async (_request, response) => {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-security-policy": "default-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:" });
      response.end(DASHBOARD_HTML);
      return RESPONDED;
    }, { public: true }),
    route("GET", /^\/api\/health$/, async () => ({ status: "ok", version: options.version }), { public: true }),
    route("GET", /^\/api\/info$/, async () => ({
      version: options.version,
      uptimeMs: Date.now() - startedAt,
      host: address.host,
      port: address.port,
      pid: process.pid,
      jobs: supervisor.counts(),
      processes: supervisor.processes(),
    })),
    route("POST", /^\/api\/jobs$/, async (request, response) => {
      const body = (await readJson(request, maxBody)) as Partial<SubmitJobRequest>;
      const submit = validateSubmit(body);
      await checkBundle(submit.code);
      response.statusCode = 201;
      return supervisor.submit(submit);
    }),
    route("GET", /^\/api\/jobs$/, async () => supervisor.list()),
    route("GET", /^\/api\/jobs\/([^/]+)$/, async (_request, _response, id) => supervisor.status(jobId(supervisor, id))!),
    route("POST", /^\/api\/jobs\/([^/]+)\/stop$/, async (request, _response, id) => {
      const body = (await readJson(request, 64 * 1024, true)) as { mode?: StopOptions["mode"]; graceMs?: number };
      if (body.mode !== undefined && body.mode !== "drain" && body.mode !== "abort") {
        throw new HttpError(400, "E_BAD_REQUEST", `stop mode must be "drain" or "abort", got ${JSON.stringify(body.mode)}`);
      }
      if (body.graceMs !== undefined && !(typeof body.graceMs === "number" && body.graceMs >= 0 && body.graceMs <= MAX_TIMER_MS)) {
        throw new HttpError(400, "E_BAD_REQUEST", `graceMs must be a number of milliseconds from 0 to ${MAX_TIMER_MS}`);
      }
      return (await supervisor.stop(jobId(supervisor, id), { mode: body.mode, graceMs: body.graceMs }))!;
    }),
    route("DELETE", /^\/api\/jobs\/([^/]+)$/, async (_request, _response, id) => {
      const resolved = jobId(supervisor, id);
      await supervisor.delete(resolved);
      return { deleted: resolved };
    }),
    route("GET", /^\/api\/jobs\/([^/]+)\/logs$/, async (request, _response, id) => {
      const since = Number(new URL(request.url!, "http://x").searchParams.get("since") ?? 0);
      return supervisor.logs(jobId(supervisor, id), Number.isFinite(since) && since >= 0 ? since : 0)!;
    }),
  ];

  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      if (!(error instanceof HttpError)) logger.error("request %s %s failed: %s", request.method, request.url, error instanceof Error ? error.stack : error);
      sendError(response, error instanceof HttpError ? error : new HttpError(500, "E_INTERNAL", "internal error"));
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    const matching = routes.filter((r) => r.pattern.test(path));
    if (matching.length === 0) throw new HttpError(404, "E_NOT_FOUND", `no route ${path}`);
    const match = matching.find((r) => r.method === request.method);
    if (!match) throw new HttpError(405, "E_METHOD_NOT_ALLOWED", `${request.method} is not allowed on ${path}`);
    if (!match.public) authorize(request, options.token);
    const result = await match.handler(request, response, decodeParam(match.pattern.exec(path)![1] ?? ""));
    if (result !== RESPONDED) sendJson(response, response.statusCode || 200, result);
  }

  server.on("upgrade", (request, socket, head) => {
    // A peer may reset the connection at any time: that must never become an unhandled error.
    socket.on("error", () => socket.destroy());
    const url = new URL(request.url ?? "/", "http://x");
    const match = /^\/api\/jobs\/([^/]+)\/events$/.exec(url.pathname);
    try {
      if (!match) throw new HttpError(404, "E_NOT_FOUND", `no WebSocket route ${url.pathname}`);
      authorize(request, options.token, url.searchParams.get("token") ?? undefined);
      const id = jobId(supervisor, decodeParam(match[1]!));
      sockets.handleUpgrade(request, socket, head, (ws) => streamEvents(ws, supervisor, id));
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
    store.close();
    unlock();
    throw error;
  }
  const bound = server.address();
  address = { host, port: typeof bound === "object" && bound ? bound.port : (options.port ?? 19001) };
  logger.info("JobManager listening on http://%s:%d (data: %s)", address.host, address.port, options.dataDir);

  return {
    host: address.host,
    port: address.port,
    async close() {
      // Event streams first: the HTTP server's close waits for every upgraded socket.
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await supervisor.shutdown();
      store.close();
      unlock();
    },
  };
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
    if (event.type === "state" && TERMINAL.has(event.state) && !supervisor.isLive(id)) ws.close(1000, "job ended");
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

function authorize(request: IncomingMessage, token: string, queryToken?: string): void {
  const header = request.headers.authorization;
  const given = header?.startsWith("Bearer ") ? header.slice(7) : queryToken;
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

async function readJson(request: IncomingMessage, limit: number, allowEmpty = false): Promise<unknown> {
  const declared = Number(request.headers["content-length"] ?? NaN);
  if (declared > limit) {
    request.resume();
    throw new HttpError(413, "E_TOO_LARGE", `request body of ${declared} bytes exceeds the limit of ${limit}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      request.resume();
      throw new HttpError(413, "E_TOO_LARGE", `request body exceeds the limit of ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") {
    if (allowEmpty) return {};
    throw new HttpError(400, "E_BAD_REQUEST", "the request needs a JSON body");
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, "E_BAD_JSON", `malformed JSON: ${(error as Error).message}`);
  }
}

function validateSubmit(body: Partial<SubmitJobRequest>): SubmitJobRequest {
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw new HttpError(400, "E_BAD_REQUEST", "the body must be a JSON object");
  if (typeof body.code !== "string" || body.code.length === 0) throw new HttpError(400, "E_BAD_REQUEST", "'code' (the bundled job module) must be a non-empty string");
  if (body.name !== undefined && typeof body.name !== "string") throw new HttpError(400, "E_BAD_REQUEST", "'name' must be a string");
  const options = body.options ?? {};
  if (typeof options !== "object" || options === null) throw new HttpError(400, "E_BAD_REQUEST", "'options' must be an object");
  if (options.timeoutMs !== undefined && !(typeof options.timeoutMs === "number" && options.timeoutMs > 0 && options.timeoutMs <= MAX_TIMER_MS)) {
    throw new HttpError(400, "E_BAD_REQUEST", `'options.timeoutMs' must be a positive number of milliseconds up to ${MAX_TIMER_MS}`);
  }
  if (body.label !== undefined && typeof body.label !== "string") throw new HttpError(400, "E_BAD_REQUEST", "'label' must be a string");
  if (options.graphFingerprint !== undefined && typeof options.graphFingerprint !== "string") {
    throw new HttpError(400, "E_BAD_REQUEST", "'options.graphFingerprint' must be a string");
  }
  const env = options.env ?? {};
  if (typeof env !== "object" || env === null || Object.values(env).some((v) => typeof v !== "string")) {
    throw new HttpError(400, "E_BAD_REQUEST", "'options.env' must map names to string values");
  }
  return {
    name: body.name || undefined,
    label: body.label || undefined,
    code: body.code,
    options: {
      autostop: options.autostop === true,
      timeoutMs: options.timeoutMs,
      keepServices: options.keepServices === true,
      graphFingerprint: options.graphFingerprint,
      env,
    },
  };
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
