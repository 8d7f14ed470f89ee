import type WebSocket from "ws";
import { JobManagerError, JobTimeoutError, messageOf } from "../api/errors.js";
import type { JobEvent, JobStatus, StopOptions } from "../api/types.js";
import { EventStream } from "../runtime/event-stream.js";
import { timerMs } from "../runtime/thenable.js";
import type { SubmitJobRequest } from "./protocol.js";
import { TERMINAL_STATES } from "../api/job-state.js";

/** Where a client finds its JobManager. */
export interface JobManagerClientOptions {
  host?: string;
  port?: number;
  token?: string;
  /** Per-request timeout (default 30 s). */
  requestTimeoutMs?: number;
  /**
   * How long an event stream may hear nothing from the server, not even a pong to its pings,
   * before `onWarning` is told (default 15 s). The client keeps waiting: a slow server is no reason
   * to give up on a job.
   */
  silenceMs?: number;
  /** Told when the server stops answering an event stream, and again when it answers again. */
  onWarning?: (message: string) => void;
}


/** Talks to a JobManager over its HTTP API and WebSocket event streams. */
export class JobManagerClient {
  readonly baseUrl: string;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;
  readonly #silenceMs: number;
  /** Told when the server stops answering an event stream, and when it answers again; replaceable (a live display routes it through itself). */
  onWarning: ((message: string) => void) | undefined;
  // One server, one verdict: streams followed side by side warn once, not once each.
  #silent = false;

  constructor(options: JobManagerClientOptions = {}) {
    const host = options.host ?? "127.0.0.1";
    this.baseUrl = `http://${host.includes(":") ? `[${host}]` : host}:${options.port ?? 19001}`;
    this.#token = options.token;
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#silenceMs = options.silenceMs ?? 15_000;
    this.onWarning = options.onWarning;
  }

  /** `{ status: "ok", version }` when the server answers. */
  health(): Promise<{ status: string; version: string }> {
    return this.#request("GET", "/api/health");
  }

  /** Server facts: version, uptime, job counts, host and port. */
  info(): Promise<Record<string, unknown>> {
    return this.#request("GET", "/api/info");
  }

  /** Submits a bundled job module. */
  submitJob(request: SubmitJobRequest): Promise<JobStatus> {
    return this.#request("POST", "/api/jobs", request);
  }

  /** Every job the server knows, oldest first. */
  listJobs(): Promise<JobStatus[]> {
    return this.#request("GET", "/api/jobs");
  }

  /** One job (full id or unique prefix). */
  getJob(id: string): Promise<JobStatus> {
    return this.#request("GET", `/api/jobs/${encodeURIComponent(id)}`);
  }

  /** Stops a job; resolves with its final status. */
  stopJob(id: string, options: StopOptions = {}): Promise<JobStatus> {
    // A stop waits for the drain; allow it its grace period and then some.
    return this.#request("POST", `/api/jobs/${encodeURIComponent(id)}/stop`, options, (options.graceMs ?? 10_000) + 60_000);
  }

  /** Stops a job if needed and forgets it. */
  deleteJob(id: string): Promise<{ deleted: string }> {
    return this.#request("DELETE", `/api/jobs/${encodeURIComponent(id)}`, undefined, 70_000);
  }

  /** Log lines from number `since` on. */
  logs(id: string, since = 0): Promise<{ lines: string[]; next: number }> {
    return this.#request("GET", `/api/jobs/${encodeURIComponent(id)}/logs?since=${since}`);
  }

  /** The job's pushed events: its current state first, then every change, metrics and log lines. */
  events(id: string): AsyncIterable<JobEvent> & { close(): void } {
    const url = `${this.baseUrl.replace(/^http/, "ws")}/api/jobs/${encodeURIComponent(id)}/events`;
    let socket: WebSocket | undefined;
    let closed = false;
    let failure: Error | undefined;
    const close = () => {
      closed = true;
      socket?.terminate();
    };
    const stream = new EventStream<JobEvent>(close);
    void loadWebSocket().then(
      (WebSocketClass) => {
        if (closed) return stream.close();
        try {
          socket = this.#openEvents(WebSocketClass, url, stream, (error) => (failure ??= error));
        } catch (error) {
          // A URL or header the client refuses (a token with a newline): the stream fails, the process does not.
          failure = new JobManagerError(0, "E_UNREACHABLE", `cannot open the event stream to ${this.baseUrl}: ${messageOf(error)}`);
          stream.close();
        }
      },
      (error: unknown) => {
        failure = new JobManagerError(0, "E_UNREACHABLE", `cannot load the WebSocket client: ${messageOf(error)}`);
        stream.close();
      },
    );
    const iterator = {
      async next(): Promise<IteratorResult<JobEvent>> {
        const result = await stream.next();
        if (result.done && failure) throw failure;
        return result;
      },
      return: () => stream.return(),
      [Symbol.asyncIterator]() {
        return this;
      },
      close,
    };
    return iterator;
  }

  #openEvents(WebSocketClass: typeof WebSocket, url: string, stream: EventStream<JobEvent>, fail: (error: Error) => void): WebSocket {
    const socket = new WebSocketClass(url, { headers: this.#token ? { authorization: `Bearer ${this.#token}` } : {} });
    this.#watchSilence(socket);
    socket.on("message", (data) => {
      try {
        stream.push(JSON.parse(String(data)) as JobEvent);
      } catch {
        // a frame that is not an event is ignored
      }
    });
    socket.on("unexpected-response", (_request, response) => {
      fail(new JobManagerError(response.statusCode ?? 0, "E_WEBSOCKET", `event stream refused with HTTP ${response.statusCode}`));
      socket.terminate();
    });
    socket.on("error", (error) => fail(new JobManagerError(0, "E_UNREACHABLE", `event stream to ${this.baseUrl} failed: ${error.message}`)));
    socket.on("close", () => stream.close());
    return socket;
  }

  /**
   * Resolves with the job's terminal status, learned from its event stream; if the stream breaks
   * before the end, polls instead. Rejects with JobTimeoutError after `timeoutMs`.
   */
  async waitForJob(
    id: string,
    options: { timeoutMs?: number; until?: (status: JobStatus) => boolean; onEvent?: (event: JobEvent) => void } = {},
  ): Promise<JobStatus> {
    const until = options.until ?? ((status: JobStatus) => TERMINAL_STATES.has(status.state));
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    const events = this.events(id);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<"expired">((resolve) => {
      if (deadline !== Infinity) timer = setTimeout(() => resolve("expired"), timerMs(options.timeoutMs!));
    });
    try {
      const viaEvents = (async () => {
        try {
          for await (const event of events) {
            options.onEvent?.(event);
            if (event.type === "state" && until(event.status)) return event.status;
          }
        } catch {
          // the socket broke: fall back to polling below
        }
        return undefined;
      })();
      const first = await Promise.race([viaEvents, expired]);
      if (first === "expired") throw new JobTimeoutError(await this.getJob(id), options.timeoutMs!);
      if (first) return first;
      for (;;) {
        const status = await this.getJob(id);
        if (until(status)) return status;
        if (Date.now() >= deadline) throw new JobTimeoutError(status, options.timeoutMs!);
        const polled = await Promise.race([new Promise<"poll">((resolve) => setTimeout(resolve, 100, "poll")), expired]);
        if (polled === "expired") throw new JobTimeoutError(await this.getJob(id), options.timeoutMs!);
      }
    } finally {
      clearTimeout(timer);
      events.close();
    }
  }

  // Pings the server over `socket` and tells onWarning when nothing (no event, no pong) came for
  // silenceMs, then once more when something comes again. A connection the server refuses or
  // breaks ends the stream as before; silence alone never does.
  #watchSilence(socket: WebSocket): void {
    let heard = Date.now();
    const hear = () => {
      heard = Date.now();
      if (!this.#silent) return;
      this.#silent = false;
      this.onWarning?.(`the JobManager at ${this.baseUrl} answers again`);
    };
    for (const event of ["open", "message", "ping", "pong"] as const) socket.on(event, hear);
    const timer = setInterval(() => {
      if (!this.#silent && Date.now() - heard >= this.#silenceMs) {
        this.#silent = true;
        this.onWarning?.(`the JobManager at ${this.baseUrl} has not answered for ${seconds(this.#silenceMs)}; still waiting`);
      }
      if (socket.readyState === socket.OPEN) socket.ping();
    }, Math.max(10, Math.min(5000, this.#silenceMs / 3)));
    timer.unref(); // the socket keeps the process alive while it is open; this timer never does
    socket.on("close", () => clearInterval(timer));
  }

  async #request<T>(method: string, path: string, body?: unknown, timeoutMs = this.#timeoutMs): Promise<T> {
    let response: Response;
    // fetch holds no ref'd handle while it waits (its timeout is unref'd): without this, a script
    // awaiting a request to a server that drops the connection would just end, exit code 13.
    const keepAlive = setInterval(() => {}, 1 << 30);
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          ...(this.#token && { authorization: `Bearer ${this.#token}` }),
          ...(body !== undefined && { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined,
      });
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      throw new JobManagerError(0, "E_UNREACHABLE", `cannot reach the JobManager at ${this.baseUrl}: ${messageOf(cause ?? error)}`, { cause: error });
    } finally {
      clearInterval(keepAlive);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new JobManagerError(response.status, "E_BAD_RESPONSE", `the JobManager answered ${response.status} with non-JSON: ${text.slice(0, 200)}`);
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new JobManagerError(response.status, error?.code ?? "E_HTTP", error?.message ?? `HTTP ${response.status}`);
    }
    return parsed as T;
  }
}

// "15 s", "1.5 s", "0.2 s".
function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

// ws (with the http, tls and zlib modules it loads) is most of what importing this package costs
// a local job's process: it is loaded with the first event stream instead.
let webSocketClass: Promise<typeof WebSocket> | undefined;
function loadWebSocket(): Promise<typeof WebSocket> {
  return (webSocketClass ??= import("ws").then((module) => module.default));
}
