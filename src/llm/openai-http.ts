import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai/core/error";
import { Pool, type Dispatcher } from "undici";
import { serverSentEvents } from "./sse.js";

/** Where and how the HTTP path sends. */
export interface OpenAIHttpOptions {
  /** The API's base URL, e.g. `https://api.openai.com/v1`; its query (Azure's `?api-version=`) goes with every request. */
  baseURL: string;
  /** Sent as `Authorization: Bearer <apiKey>` when not empty. */
  apiKey?: string;
  /** Keep-alive connections of the pool: the requests in flight at once; more wait in its queue. */
  connections: number;
  /** Extra request headers (e.g. `OpenAI-Organization`, or `api-key` for Azure). */
  headers?: Record<string, string>;
}

/** Limits of one request. */
export interface SendOptions {
  /** Cancels this request alone (`abortAll` cancels every request without one signal per request). */
  signal?: AbortSignal;
  /** Limit of the wait for the answer's headers, and of each pause in its body; 0 or Infinity for none. */
  timeoutMs: number;
}

/**
 * The lean request path to an OpenAI-compatible API: a pool of keep-alive connections (undici
 * `Pool.request`), JSON in and out, and the official client's error classes for every failure
 * (`APIError.generate` for HTTP errors, `APIConnectionError`, `APIConnectionTimeoutError`,
 * `APIUserAbortError`), so callers handle errors exactly as with the `openai` package.
 * @remarks The official client spends 3-4x more CPU per request (fetch, its header and retry
 * machinery); on a small machine that CPU, not the network, bounds an LLM batch job.
 */
export class OpenAIHttp {
  readonly #pool: Pool;
  readonly #prefix: string;
  /** The base URL's query, `?...` or empty. */
  readonly #query: string;
  readonly #jsonHeaders: Record<string, string>;
  readonly #streamHeaders: Record<string, string>;
  #closed = false;
  #aborted = false;

  constructor(options: OpenAIHttpOptions) {
    const url = new URL(options.baseURL);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError(`LLMService: baseURL must be an http or https URL, not '${options.baseURL}'`);
    this.#prefix = url.pathname.replace(/\/+$/, "");
    this.#query = url.search;
    this.#pool = new Pool(url.origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 30_000 });
    const common: Record<string, string> = { "content-type": "application/json", "user-agent": "sage-llm", ...options.headers };
    if (options.apiKey) common.authorization = `Bearer ${options.apiKey}`;
    this.#jsonHeaders = { ...common, accept: "application/json" };
    this.#streamHeaders = { ...common, accept: "text/event-stream" };
  }

  /** POSTs `body` to `path` (below the base URL) and parses the JSON answer. */
  async postJSON<T>(path: string, body: object, send: SendOptions): Promise<T> {
    const response = await this.#request(path, body, this.#jsonHeaders, send);
    if (response.statusCode < 200 || response.statusCode >= 300) throw await errorOf(response);
    let text: string;
    try {
      text = await response.body.text();
    } catch (error) {
      throw this.#failure(error, send);
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new APIError(response.statusCode, undefined, `the API answered with a body that is not JSON: ${text.slice(0, 200)}`, toHeaders(response.headers));
    }
  }

  /**
   * POSTs `body` for a streamed answer: resolves once the answer's headers say it is a stream (HTTP
   * errors reject, so they can be retried before anything was read), with the parsed JSON of each
   * event until `[DONE]`. Leaving the iteration early closes the connection.
   */
  async postStream(path: string, body: object, send: SendOptions): Promise<AsyncGenerator<unknown, void, undefined>> {
    const response = await this.#request(path, body, this.#streamHeaders, send);
    if (response.statusCode < 200 || response.statusCode >= 300) throw await errorOf(response);
    // A server that ignores `stream: true` answers one JSON object: read as events, it would give an empty answer.
    const type = String(response.headers["content-type"] ?? "");
    if (!type.includes("text/event-stream")) {
      await response.body.dump().catch(() => undefined);
      throw new APIError(response.statusCode, undefined, `the server answered a streamed request with '${type || "no content type"}', not an event stream (text/event-stream): does it support stream: true?`, undefined);
    }
    return streamOf(response, (error) => this.#failure(error, send));
  }

  /**
   * Aborts every request in flight by closing their connections (the server sees them closed);
   * they reject with `APIUserAbortError`, and so do later ones.
   * @remarks Cheaper than an AbortSignal per request: a listener on a shared signal for each of
   * thousands of requests costs CPU on every one of them.
   */
  abortAll(): Promise<void> {
    this.#aborted = true;
    return this.close();
  }

  /** Closes the pool's connections; later requests fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.destroy();
  }

  /** Maps a failure of the request path to the official client's error classes. */
  #failure(error: unknown, send: SendOptions): APIError {
    return this.#aborted && !(error instanceof APIError) ? new APIUserAbortError() : connectionError(error, send);
  }

  async #request(path: string, body: object, headers: Record<string, string>, send: SendOptions): Promise<Dispatcher.ResponseData> {
    if (this.#closed) throw this.#aborted ? new APIUserAbortError() : new APIConnectionError({ message: "the LLM service is closed" });
    const timeout = Number.isFinite(send.timeoutMs) ? send.timeoutMs : 0;
    try {
      return await this.#pool.request({
        method: "POST",
        path: this.#prefix + path + this.#query,
        headers,
        body: JSON.stringify(body),
        signal: send.signal,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
    } catch (error) {
      throw this.#failure(error, send);
    }
  }
}

async function* streamOf(response: Dispatcher.ResponseData, failure: (error: unknown) => APIError): AsyncGenerator<unknown, void, undefined> {
  const headers = response.headers;
  try {
    for await (const event of serverSentEvents(response.body)) {
      if (event.data.startsWith("[DONE]")) return;
      let data: unknown;
      try {
        data = JSON.parse(event.data);
      } catch {
        throw new APIError(undefined, undefined, `a stream event is not JSON: ${event.data.slice(0, 200)}`, undefined);
      }
      // The API reports a failure after the stream began as an event carrying `error`.
      if (event.event === "error" || (data !== null && typeof data === "object" && "error" in data && (data as { error: unknown }).error)) {
        const error = (data as { error?: unknown }).error ?? data;
        throw new APIError(undefined, error as object, undefined, toHeaders(headers));
      }
      yield data;
    }
  } catch (error) {
    throw failure(error);
  } finally {
    // An iteration left early (or failed) must not leave the rest of the answer on the socket.
    if (!response.body.readableEnded) response.body.destroy();
  }
}

async function errorOf(response: Dispatcher.ResponseData): Promise<APIError> {
  const headers = toHeaders(response.headers);
  let text = "";
  try {
    text = await response.body.text();
  } catch {
    // the error answer was cut: its status still says what happened
  }
  let json: object | undefined;
  try {
    json = text === "" ? undefined : (JSON.parse(text) as object);
  } catch {
    json = undefined;
  }
  return APIError.generate(response.statusCode, json, json ? undefined : text || undefined, headers);
}

const TIMEOUT_CODES = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CONNECT_TIMEOUT"]);

function connectionError(error: unknown, send: SendOptions): APIError {
  if (error instanceof APIError) return error;
  if (send.signal?.aborted) return new APIUserAbortError();
  const code = (error as { code?: unknown })?.code;
  if (typeof code === "string" && TIMEOUT_CODES.has(code)) return new APIConnectionTimeoutError({ message: `Request timed out (no answer within ${send.timeoutMs} ms).` });
  const cause = error instanceof Error ? error : new Error(String(error));
  return new APIConnectionError({ message: `Connection error: ${cause.message}`, cause });
}

function toHeaders(raw: Dispatcher.ResponseData["headers"]): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  return headers;
}
