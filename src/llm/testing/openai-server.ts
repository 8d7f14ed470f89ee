/**
 * A small server speaking the OpenAI protocol on loopback, for tests, benchmarks and offline
 * examples: chat completions (JSON and SSE streaming, with usage), embeddings, exact token counts
 * (o200k), deterministic answers, and faults scripted per request.
 * @module
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { ChatCompletionCreateParams } from "openai/resources/chat/completions";
import { chunkBodies, complete, completionBody, echoAnswer, embeddingsBody, errorBody, type AnswerFunction, type EmbeddingsRequest } from "./openai-answers.js";

/** What the server does to one request instead of (or before) answering it normally. */
export interface Fault {
  /** Answer with this status and an OpenAI-style error body (e.g. 429, 500, 503, 400). */
  status?: number;
  /** The error's message (a default per status otherwise). */
  message?: string;
  /** The error's `code`. */
  code?: string;
  /** `Retry-After`: seconds, or an HTTP date string. */
  retryAfter?: number | string;
  /** `retry-after-ms`. */
  retryAfterMs?: number;
  /** Answer (or fault) after this many ms instead of the server's latency. */
  delayMs?: number;
  /** Destroy the connection without an answer (after the delay). */
  drop?: boolean;
  /** Never answer: the request stays open until the client gives up or the server closes. */
  hang?: boolean;
  /** Streaming: destroy the connection after this many content chunks. */
  dropAfterChunks?: number;
}

/** One request as the server saw it. */
export interface RecordedRequest {
  /** Its position among the server's requests, from 0. */
  index: number;
  /** When its headers arrived: ms since the epoch, sub-ms precision (`performance.timeOrigin + performance.now()`). */
  at: number;
  /** When its answer finished or its connection closed. */
  endedAt?: number;
  method: string;
  /** The URL's path, without its query. */
  path: string;
  /** The URL's query without the `?` (empty when none). */
  query: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (the raw text when it was not JSON). */
  body: unknown;
  fault?: Fault;
  /** The status answered (absent when dropped or never answered). */
  status?: number;
  /** The connection closed before the answer was complete (the client aborted, or a fault dropped it). */
  closedEarly: boolean;
}

/** Options of the test server. */
export interface OpenAIServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Delay of every answer (of the first chunk when streaming), ms; default 0. */
  latencyMs?: number;
  /** Delay between stream chunks, ms; default 0. */
  chunkDelayMs?: number;
  /** The answer text of a chat request; default `echo: <last user message>`. */
  answer?: AnswerFunction;
  /** The model reported when a request names none; default "sage-echo". */
  model?: string;
  /** Length of embedding vectors when a request gives no `dimensions`; default 64. */
  embeddingDimensions?: number;
  /** When set, requests without `Authorization: Bearer <apiKey>` get 401. */
  apiKey?: string;
  /** Decides a fault per request (after the ones queued by `fail()`). */
  faults?: (request: RecordedRequest) => Fault | undefined;
}

/** Socket counts: a closed connection shows that the client aborted or the server dropped it. */
export interface SocketCounts {
  opened: number;
  closed: number;
  readonly open: number;
}

/** A running test server. */
export interface OpenAIServer {
  /** The base URL to give a client, ending in `/v1`. */
  readonly url: string;
  readonly port: number;
  /** Every request so far, in arrival order. */
  readonly requests: RecordedRequest[];
  readonly sockets: SocketCounts;
  /** Requests being answered now, and the most at once so far. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** Queues faults for the next requests, one each, in order. */
  fail(...faults: Fault[]): void;
  /** Forgets the recorded requests, queued faults and the in-flight maximum (socket counts stay). */
  reset(): void;
  /** Stops listening and destroys every connection (hanging requests too). */
  close(): Promise<void>;
}

const BODY_LIMIT = 16 * 1024 * 1024;

/** Starts the server on loopback (a free port unless told otherwise). */
export async function startOpenAIServer(options: OpenAIServerOptions = {}): Promise<OpenAIServer> {
  const server = new TestServer(options);
  await server.listen(options.host ?? "127.0.0.1", options.port ?? 0);
  return server;
}

const now = (): number => performance.timeOrigin + performance.now();

class TestServer implements OpenAIServer {
  readonly requests: RecordedRequest[] = [];
  readonly sockets: SocketCounts = {
    opened: 0,
    closed: 0,
    get open() {
      return this.opened - this.closed;
    },
  };
  inFlight = 0;
  maxInFlight = 0;
  url = "";
  port = 0;
  readonly #options: OpenAIServerOptions;
  readonly #queued: Fault[] = [];
  readonly #http = createServer((req, res) => void this.#handle(req, res));
  #ids = 0;
  readonly #open = new Set<Socket>();

  constructor(options: OpenAIServerOptions) {
    this.#options = options;
    this.#http.on("connection", (socket: Socket) => {
      this.sockets.opened++;
      this.#open.add(socket);
      socket.on("close", () => {
        this.sockets.closed++;
        this.#open.delete(socket);
      });
    });
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#http.once("error", reject);
      this.#http.listen(port, host, () => {
        this.#http.off("error", reject);
        this.port = (this.#http.address() as AddressInfo).port;
        this.url = `http://${host.includes(":") ? `[${host}]` : host}:${this.port}/v1`;
        resolve();
      });
    });
  }

  fail(...faults: Fault[]): void {
    this.#queued.push(...faults);
  }

  reset(): void {
    this.requests.length = 0;
    this.#queued.length = 0;
    this.maxInFlight = this.inFlight;
  }

  /** Resolves once the listener and every connection are closed. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#http.close(() => resolve()));
    const sockets = [...this.#open].map((socket) => new Promise((resolve) => socket.once("close", resolve)));
    for (const socket of this.#open) socket.destroy();
    await Promise.all([closed, ...sockets]);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [path = "/", query = ""] = (req.url ?? "/").split(/\?(.*)/s);
    const record: RecordedRequest = { index: this.requests.length, at: now(), method: req.method ?? "GET", path, query, headers: req.headers, body: undefined, closedEarly: false };
    this.requests.push(record);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    res.on("close", () => {
      this.inFlight--;
      record.endedAt = now();
      if (!res.writableFinished) record.closedEarly = true;
    });
    let raw: string;
    try {
      raw = await readBody(req);
    } catch {
      req.socket.destroy();
      return;
    }
    try {
      record.body = raw === "" ? undefined : JSON.parse(raw);
    } catch {
      record.body = raw;
      return this.#send(res, record, 400, errorBody(400, "We could not parse the JSON body of your request."));
    }
    const fault = this.#queued.shift() ?? this.#options.faults?.(record);
    if (fault) record.fault = fault;
    if (!(await pause(fault?.delayMs ?? this.#options.latencyMs ?? 0, res))) return;
    if (fault?.hang) return;
    if (fault?.drop) {
      req.socket.destroy();
      return;
    }
    if (this.#options.apiKey !== undefined && req.headers.authorization !== `Bearer ${this.#options.apiKey}`) {
      return this.#send(res, record, 401, errorBody(401));
    }
    if (fault?.status !== undefined) return this.#send(res, record, fault.status, errorBody(fault.status, fault.message, fault.code), faultHeaders(fault));
    await this.#route(req.method ?? "GET", path, record, res);
  }

  async #route(method: string, path: string, record: RecordedRequest, res: ServerResponse): Promise<void> {
    const body = record.body as Record<string, unknown> | undefined;
    if (method === "POST" && path.endsWith("/chat/completions")) {
      if (!body || !Array.isArray(body.messages) || body.messages.length === 0) return this.#send(res, record, 400, errorBody(400, "'messages' is a required property and must be a non-empty array."));
      const request = body as unknown as ChatCompletionCreateParams;
      const completion = complete(request, this.#options.answer ?? echoAnswer);
      const model = typeof request.model === "string" && request.model !== "" ? request.model : (this.#options.model ?? "sage-echo");
      const id = `chatcmpl-${++this.#ids}`;
      if (request.stream !== true) return this.#send(res, record, 200, completionBody(id, model, completion));
      const chunks = chunkBodies(id, model, completion, request.stream_options?.include_usage === true);
      return this.#stream(res, record, chunks);
    }
    if (method === "POST" && path.endsWith("/embeddings")) {
      const input = body?.input;
      if (!(typeof input === "string" || (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === "string")))) {
        return this.#send(res, record, 400, errorBody(400, "'input' must be a string or a non-empty array of strings."));
      }
      const model = typeof body!.model === "string" ? body!.model : "sage-hashing-embedder";
      return this.#send(res, record, 200, embeddingsBody(body as unknown as EmbeddingsRequest, model, this.#options.embeddingDimensions ?? 64));
    }
    if (method === "GET" && path.endsWith("/models")) {
      return this.#send(res, record, 200, { object: "list", data: [{ id: this.#options.model ?? "sage-echo", object: "model", created: 0, owned_by: "sage" }] });
    }
    this.#send(res, record, 404, errorBody(404, `Unknown request URL: ${method} ${path}.`));
  }

  async #stream(res: ServerResponse, record: RecordedRequest, chunks: object[]): Promise<void> {
    record.status = 200;
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
    res.flushHeaders();
    const dropAfter = record.fault?.dropAfterChunks;
    let content = 0;
    for (const chunk of chunks) {
      if (content > 0 && !(await pause(this.#options.chunkDelayMs ?? 0, res))) return;
      if (res.destroyed) return;
      if (dropAfter !== undefined && content >= dropAfter) {
        // Closed once what was written is sent: the client gets those chunks, then a cut stream.
        res.socket?.end();
        return;
      }
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      if ("choices" in chunk && (chunk.choices as Array<{ delta?: { content?: string } }>)[0]?.delta?.content) content++;
    }
    res.end("data: [DONE]\n\n");
  }

  #send(res: ServerResponse, record: RecordedRequest, status: number, body: object, headers: Record<string, string> = {}): void {
    if (res.destroyed) return;
    record.status = status;
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...(status === 200 ? {} : { "x-request-id": `req_${record.index}` }), ...headers });
    res.end(text);
  }
}

function faultHeaders(fault: Fault): Record<string, string> {
  const headers: Record<string, string> = {};
  if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
  if (fault.retryAfterMs !== undefined) headers["retry-after-ms"] = String(fault.retryAfterMs);
  return headers;
}

// Resolves true after `ms`, or false as soon as the response's connection closes (nobody to answer).
function pause(ms: number, res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off("close", onClose);
      resolve(!res.destroyed);
    }, ms);
    res.once("close", onClose);
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT) reject(new Error("body too large"));
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
    req.on("close", () => {
      if (!req.complete) reject(new Error("the client went away"));
    });
  });
}
