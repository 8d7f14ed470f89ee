import { setTimeout as sleep } from "node:timers/promises";
import { countTextTokens } from "./text-tokens.js";
import { APIError, APIUserAbortError } from "openai/core/error";
import type { ChatCompletion, ChatCompletionChunk } from "openai/resources/chat/completions";
import type { CreateEmbeddingResponse } from "openai/resources/embeddings";
import { BaseService, type ServiceOptions } from "../api/service.js";
import { abandonable, abortReason, CallControl, untilAborted } from "./call-control.js";
import { countChatTokens } from "./chat-tokens.js";
import { resolveLLMOptions, type ResolvedLLMOptions } from "./llm-options.js";
import type { CallOptions, ChatInput, ChatInputMessage, ChatOptions, ChatResult, ChatStreamEvent, EmbedOptions, LLMServiceOptions } from "./llm-types.js";
import { OpenAIHttp, type SendOptions } from "./openai-http.js";
import { RateLimiter } from "./rate-limiter.js";
import { cacheKey, memoryCache, sqliteCache, type ResponseCache } from "./response-cache.js";
import { isRetryable, retryDelayMs, type RetryPolicy } from "./retry-policy.js";

/** The counters an LLMService publishes through `metrics()`. */
export interface LLMCounters {
  /** HTTP requests sent (each retry is one more). */
  requests: number;
  retries: number;
  /** 429 answers seen. */
  rateLimited: number;
  /** Tokens the API counted (cached answers add none). */
  promptTokens: number;
  completionTokens: number;
  /** Calls answered from the response cache (or by an identical request already in flight). */
  cacheHits: number;
  /** Calls that failed (after their retries), were cancelled or abandoned. */
  errors: number;
  /** Calls whose caller stopped waiting (its service call timed out): their requests were aborted. */
  abandoned: number;
  /** Time callers spent waiting for the rate limits, summed over callers, ms. */
  rateLimitWaitMs: number;
  /** HTTP requests on the wire now (sent, answer not yet read). */
  inFlight: number;
  /** Calls waiting now for their turn under the rate limits. */
  waiting: number;
  /** Calls sleeping now before a retry (backoff or the server's Retry-After). */
  backoff: number;
}

/**
 * Chat completions and embeddings from any OpenAI-compatible API (OpenAI, vLLM, Ollama,
 * llama.cpp's server, ...), shared by every operator of a job: requests and tokens per minute held
 * across all callers, retries of 429 and 5xx answers with backoff that honours `Retry-After`,
 * cancellation of in-flight requests when the job aborts or a call's caller stops waiting (its
 * proxy's `timeoutMs`), and a response cache that makes a re-run free. Errors are the `openai`
 * package's classes.
 * @example
 * env.registerService("llm", LLMService, { args: [{ model: "gpt-4o-mini", requestsPerMinute: 500, cache: "cache/llm.sqlite" }] });
 * const { text } = await ctx.service<LLMService>("llm").chat("Say hi", { maxTokens: 20 });
 */
export class LLMService extends BaseService {
  /**
   * Defaults of `registerService`: many calls at once (the service's own pool and limits bound the
   * requests; a mailbox of one would send them one at a time), and a call limit long enough for
   * rate-limit waits and retries.
   */
  static readonly serviceOptions: ServiceOptions = { maxConcurrency: 4096, callTimeoutMs: 600_000 };

  /** The chat model calls use unless they name another. */
  readonly model: string;
  /** The embedding model. */
  readonly embeddingModel: string;
  readonly #options: ResolvedLLMOptions;
  readonly #policy: RetryPolicy;
  readonly #limiter: RateLimiter;
  readonly #countTokens: boolean;
  /** The endpoint (origin and path, no query) that answers: part of every cache key. */
  readonly #endpoint: string;
  /** Set at the job's abort or this service's cleanup, whichever comes first. */
  #stopped = false;
  /** The calls running now, cancelled when the service stops. */
  readonly #live = new Set<CallControl>();
  #http: OpenAIHttp | undefined;
  #cache: Promise<ResponseCache | undefined> | undefined;
  #cacheFailed = false;
  /** Cacheable requests in flight, so identical ones share a request. */
  readonly #pending = new Map<string, SharedRequest>();
  readonly #counters = { requests: 0, retries: 0, rateLimited: 0, promptTokens: 0, completionTokens: 0, cacheHits: 0, errors: 0, abandoned: 0, rateLimitWaitMs: 0, inFlight: 0, backoff: 0 };

  constructor(options: LLMServiceOptions = {}) {
    super();
    this.#options = resolveLLMOptions(options);
    this.model = this.#options.model;
    this.embeddingModel = this.#options.embeddingModel;
    this.#policy = { maxRetries: this.#options.maxRetries, baseMs: this.#options.retryBaseMs, maxMs: this.#options.retryMaxMs, maxRetryAfterMs: 60_000 };
    this.#limiter = new RateLimiter({ requestsPerMinute: this.#options.requestsPerMinute, tokensPerMinute: this.#options.tokensPerMinute });
    this.#countTokens = this.#options.tokensPerMinute !== undefined;
    this.#endpoint = endpointOf(this.#options.baseURL);
    this.ctx.signal.addEventListener("abort", () => void this.#halt(), { once: true });
  }

  /** Opens the response cache (so a bad path fails the job's start, not its first call). */
  async setup(): Promise<void> {
    await this.#cacheOf();
  }

  /** Aborts what is in flight, closes the connections and the cache. */
  async cleanup(): Promise<void> {
    await this.#halt();
    const cache = await this.#cache?.catch(() => undefined);
    this.#cache = CLOSED_CACHE;
    cache?.close();
  }

  // The job aborted or the service stops: every request in flight is aborted (its connection
  // closed), every wait ends, and later calls fail at once.
  async #halt(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const call of this.#live) call.abort(stoppedError());
    this.#live.clear();
    this.#limiter.close(stoppedError());
    await this.#http?.abortAll();
  }

  /** The service's counters (sampled into the job's status). */
  metrics(): Record<string, number> {
    return { ...this.#counters, waiting: this.#limiter.waiting } satisfies LLMCounters;
  }

  /**
   * Runs one call under its own CallControl; the promise it returns tells the service host how
   * to abandon it. `keep`: the call outlives its promise (a stream), and ends the control itself.
   */
  #call<T>(options: CallOptions | undefined, body: (control: CallControl) => Promise<T>, keep = false): Promise<T> {
    if (this.#stopped) return Promise.reject(stoppedError());
    const control = new CallControl(options?.signal);
    this.#live.add(control);
    const work = body(control);
    const promise = keep ? work.catch((error: unknown) => this.#fail(control, error)) : work.finally(() => this.#end(control));
    return abandonable(promise, () => this.#abandon(control));
  }

  #end(control: CallControl): void {
    this.#live.delete(control);
    control.release();
  }

  #fail(control: CallControl, error: unknown): never {
    this.#end(control);
    throw error;
  }

  // Nobody will read the answer: abort its request (the server sees the connection closed) and
  // any wait or retry of it.
  #abandon(control: CallControl): void {
    if (!this.#live.has(control) || control.signal.aborted) return;
    this.#counters.abandoned++;
    control.abort(new APIUserAbortError({ message: "the caller stopped waiting for this call (its service call timed out)" }));
  }

  // Options are declared optional rather than defaulted: a method's declared parameter count is
  // what a service proxy's fast path matches the call against, and calls usually pass options.

  /** Asks the chat model: a prompt (the user's message) or messages; resolves with the answer's text and usage. */
  chat(input: ChatInput, options?: ChatOptions): Promise<ChatResult> {
    return this.#call(options, (control) => this.#chat(input, options ?? {}, control.signal));
  }

  async #chat(input: ChatInput, options: ChatOptions, signal: AbortSignal): Promise<ChatResult> {
    const messages = toMessages(input, options.system);
    const body = this.#chatBody(messages, options);
    const cache = this.#cacheFor(options) ? await this.#cacheOf() : undefined;
    if (!cache) return this.#chatRequest(body, messages, options, signal);
    const key = this.#keyOf("/chat/completions", body);
    const hit = cache.get(key) as ChatResult | undefined;
    if (hit !== undefined) {
      this.#counters.cacheHits++;
      return { ...hit, cached: true };
    }
    return this.#shared(key, signal, (shared) => this.#chatRequest(body, messages, options, shared).then((result) => this.#store(cache, key, result)));
  }

  /**
   * A streamed chat: resolves once the answer has begun (failures before that are retried like
   * `chat`'s), with its events: `{ type: "delta", text }` as text is generated, then
   * `{ type: "done", ...ChatResult }`. Leaving the iteration early closes the request.
   * @remarks Through a service proxy, await the call, then iterate; in-process only (an iterator
   * cannot travel to a remote caller).
   */
  chatStream(input: ChatInput, options?: ChatOptions): Promise<AsyncIterable<ChatStreamEvent>> {
    return this.#call(options, (control) => this.#chatStream(input, options ?? {}, control), true);
  }

  async #chatStream(input: ChatInput, options: ChatOptions, control: CallControl): Promise<AsyncIterable<ChatStreamEvent>> {
    const messages = toMessages(input, options.system);
    const body = this.#chatBody(messages, options);
    const cache = this.#cacheFor(options) ? await this.#cacheOf() : undefined;
    const key = cache ? this.#keyOf("/chat/completions", body) : undefined;
    const hit = key === undefined ? undefined : (cache!.get(key) as ChatResult | undefined);
    if (hit !== undefined) {
      this.#end(control);
      this.#counters.cacheHits++;
      return replay(hit);
    }
    const estimate = this.#countTokens ? countChatTokens(messages) + (options.maxTokens ?? this.#options.completionTokensEstimate) : 0;
    const streamBody = { ...body, stream: true, stream_options: { include_usage: true } };
    const send = this.#sendOptions(options, control.signal);
    const chunks = await this.#attempts(estimate, control.signal, () => this.#httpPath().postStream("/chat/completions", streamBody, send));
    return this.#readStream(chunks as AsyncGenerator<ChatCompletionChunk>, messages, body.model, estimate, cache, key, control);
  }

  /** The embedding vectors of `texts`, in order (batched by `embeddingBatchSize`). */
  embed(texts: string | readonly string[], options?: EmbedOptions): Promise<number[][]> {
    return this.#call(options, (control) => this.#embed(texts, options ?? {}, control.signal));
  }

  async #embed(texts: string | readonly string[], options: EmbedOptions, signal: AbortSignal): Promise<number[][]> {
    const inputs = typeof texts === "string" ? [texts] : texts;
    if (!Array.isArray(inputs) || inputs.some((t) => typeof t !== "string")) throw new TypeError("LLMService.embed takes a string or an array of strings");
    const size = this.#options.embeddingBatchSize;
    const batches: Array<Promise<number[][]>> = [];
    for (let i = 0; i < inputs.length; i += size) batches.push(this.#embedBatch(inputs.slice(i, i + size), options, signal));
    return (await Promise.all(batches)).flat();
  }

  async #embedBatch(input: string[], options: EmbedOptions, callSignal: AbortSignal): Promise<number[][]> {
    const body: Record<string, unknown> = { model: options.model ?? this.embeddingModel, input, encoding_format: "float" };
    if (options.dimensions !== undefined) body.dimensions = options.dimensions;
    const request = async (signal: AbortSignal): Promise<number[][]> => {
      const estimate = this.#countTokens ? input.reduce((sum, text) => sum + countTextTokens(text), 0) : 0;
      const send = this.#sendOptions(options, signal);
      const answer = await this.#attempts(estimate, signal, () => this.#httpPath().postJSON<CreateEmbeddingResponse>("/embeddings", body, send));
      const reported = answer?.usage?.prompt_tokens;
      const tokens = isTokenCount(reported) ? reported : estimate;
      this.#counters.promptTokens += tokens;
      if (this.#countTokens) this.#limiter.adjustTokens(tokens - estimate);
      return vectorsOf(answer, input.length);
    };
    const cache = this.#cacheFor(options) ? await this.#cacheOf() : undefined;
    if (!cache) return request(callSignal);
    const key = this.#keyOf("/embeddings", body);
    const hit = cache.get(key) as number[][] | undefined;
    if (hit !== undefined) {
      this.#counters.cacheHits++;
      return hit;
    }
    return this.#shared(key, callSignal, (signal) => request(signal).then((vectors) => this.#store(cache, key, vectors)));
  }

  async #chatRequest(body: ChatBody, messages: readonly ChatInputMessage[], options: ChatOptions, signal: AbortSignal): Promise<ChatResult> {
    const estimate = this.#countTokens ? countChatTokens(messages) + (options.maxTokens ?? this.#options.completionTokensEstimate) : 0;
    const send = this.#sendOptions(options, signal);
    const completion = await this.#attempts(estimate, signal, () => this.#httpPath().postJSON<ChatCompletion>("/chat/completions", body, send));
    if (completion === null || typeof completion !== "object" || !Array.isArray(completion.choices) || completion.choices.length === 0) {
      throw new APIError(undefined, undefined, `the chat completion answer has no choices: ${preview(completion)}`, undefined);
    }
    const choice = completion.choices[0];
    const text = choice?.message?.content ?? "";
    if (typeof text !== "string") throw new APIError(undefined, undefined, `the chat completion answer's content is not text: ${preview(text)}`, undefined);
    const usage = usageOf(completion.usage, messages, text);
    this.#account(usage.promptTokens + usage.completionTokens - estimate, usage.promptTokens, usage.completionTokens);
    return { text, usage, model: completion.model ?? body.model, finishReason: choice?.finish_reason ?? null };
  }

  async *#readStream(chunks: AsyncGenerator<ChatCompletionChunk>, messages: readonly ChatInputMessage[], model: string, estimate: number, cache: ResponseCache | undefined, key: string | undefined, control: CallControl): AsyncGenerator<ChatStreamEvent> {
    let text = "";
    let finishReason: string | null = null;
    let answeredBy: string | undefined;
    let usage: ChatCompletionChunk["usage"];
    this.#counters.inFlight++;
    try {
      for await (const chunk of chunks) {
        answeredBy ??= chunk.model;
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices?.[0];
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        const delta = choice?.delta?.content;
        if (delta) {
          text += delta;
          yield { type: "delta", text: delta };
        }
      }
    } catch (error) {
      this.#counters.errors++;
      throw control.signal.aborted ? abortReason(control.signal) : error;
    } finally {
      this.#counters.inFlight--;
      this.#end(control);
    }
    const counted = usageOf(usage, messages, text);
    this.#account(counted.promptTokens + counted.completionTokens - estimate, counted.promptTokens, counted.completionTokens);
    const result: ChatResult = { text, usage: counted, model: answeredBy ?? model, finishReason };
    if (cache && key !== undefined) this.#store(cache, key, result);
    yield { type: "done", ...result };
  }

  /** Sends `attempt` under the limits until it succeeds, retrying what may be retried. */
  async #attempts<T>(estimate: number, signal: AbortSignal, attempt: () => Promise<T>): Promise<T> {
    for (let retry = 0; ; retry++) {
      try {
        const wait = this.#limiter.acquire(1, retry === 0 ? estimate : 0, signal);
        if (wait !== undefined) this.#counters.rateLimitWaitMs += await wait;
      } catch (error) {
        this.#counters.errors++;
        throw abortError(error, signal);
      }
      this.#counters.requests++;
      this.#counters.inFlight++;
      let failure: unknown;
      try {
        return await attempt();
      } catch (error) {
        failure = error;
      } finally {
        this.#counters.inFlight--;
      }
      if (failure instanceof APIError && failure.status === 429) this.#counters.rateLimited++;
      if (retry >= this.#policy.maxRetries || !isRetryable(failure) || signal.aborted) {
        this.#counters.errors++;
        // The API counts no tokens for a request it refused: give the estimate back.
        if (estimate > 0) this.#limiter.adjustTokens(-estimate);
        throw abortError(failure, signal);
      }
      this.#counters.retries++;
      const delay = retryDelayMs(failure, retry + 1, this.#policy);
      // A server that names its wait is out of capacity for every caller, not only this one.
      if (delay.fromServer) this.#limiter.pauseUntil(performance.now() + delay.ms);
      this.logger.debug("%s; retry %d of %d in %d ms", (failure as Error).message, retry + 1, this.#policy.maxRetries, Math.round(delay.ms));
      this.#counters.backoff++;
      try {
        await sleep(delay.ms, undefined, { signal });
      } catch (abort) {
        this.#counters.errors++;
        throw abortError(abort, signal);
      } finally {
        this.#counters.backoff--;
      }
    }
  }

  // An answer that cannot be cached (a full disk, say) is still an answer: say so once, go on.
  #store<T>(cache: ResponseCache, key: string, value: T): T {
    try {
      cache.set(key, value);
    } catch (error) {
      if (!this.#cacheFailed) this.logger.warn("the response cache could not store an answer (not warned again): %s", (error as Error).message);
      this.#cacheFailed = true;
    }
    return value;
  }

  #account(tokenCorrection: number, promptTokens: number, completionTokens: number): void {
    this.#counters.promptTokens += promptTokens;
    this.#counters.completionTokens += completionTokens;
    if (this.#countTokens) this.#limiter.adjustTokens(tokenCorrection);
  }

  // Identical cacheable requests in flight share one. It runs under its own signal, cancelled
  // only when every call waiting for it was (each caller that gives up stops waiting at once).
  #shared<T>(key: string, signal: AbortSignal, request: (signal: AbortSignal) => Promise<T>): Promise<T> {
    let shared = this.#pending.get(key);
    const joined = shared !== undefined;
    if (shared) this.#counters.cacheHits++;
    else {
      const controller = new CallControl();
      const entry: SharedRequest = { promise: undefined as unknown as Promise<unknown>, controller, callers: 0 };
      entry.promise = request(controller.signal).finally(() => {
        if (this.#pending.get(key) === entry) this.#pending.delete(key);
      });
      this.#pending.set(key, (shared = entry));
    }
    const entry = shared;
    entry.callers++;
    const leave = () => {
      if (--entry.callers > 0) return;
      if (this.#pending.get(key) === entry) this.#pending.delete(key);
      entry.controller.abort(abortReason(signal));
    };
    signal.addEventListener("abort", leave, { once: true });
    const settled = untilAborted(entry.promise as Promise<T>, signal).finally(() => signal.removeEventListener("abort", leave));
    return joined ? settled.then((value) => (isResult(value) ? ({ ...value, cached: true } as T) : value)) : settled;
  }

  /** The cache key of a request: the endpoint and API path that answer it, and its body. */
  #keyOf(path: string, body: object): string {
    return cacheKey({ url: this.#endpoint + path, body });
  }

  #chatBody(messages: readonly ChatInputMessage[], options: ChatOptions): ChatBody {
    // A NaN here would reach the rate limiter's schedule (every later call waiting forever).
    if (options.maxTokens !== undefined && !(Number.isInteger(options.maxTokens) && options.maxTokens > 0)) {
      throw new TypeError(`chat option maxTokens must be a positive whole number, got ${preview(options.maxTokens)}`);
    }
    const body: ChatBody = { model: options.model ?? this.model, messages };
    if (options.maxTokens !== undefined) body.max_tokens = options.maxTokens;
    if (options.temperature !== undefined) body.temperature = options.temperature;
    if (options.topP !== undefined) body.top_p = options.topP;
    if (options.stop !== undefined) body.stop = options.stop;
    if (options.seed !== undefined) body.seed = options.seed;
    if (options.responseFormat !== undefined) body.response_format = options.responseFormat;
    return options.extra ? { ...body, ...options.extra } : body;
  }

  // A request gets its call's signal (the caller's own, its caller giving up, the service
  // stopping); the job's abort also closes every connection at once through abortAll().
  #sendOptions(options: CallOptions, signal: AbortSignal): SendOptions {
    return { signal, timeoutMs: options.timeoutMs ?? this.#options.timeoutMs };
  }

  #httpPath(): OpenAIHttp {
    return (this.#http ??= new OpenAIHttp({ baseURL: this.#options.baseURL, apiKey: this.#options.apiKey, connections: this.#options.maxConcurrency, headers: this.#options.headers }));
  }

  /** Whether a call uses the response cache (checked before awaiting it, so calls without one never wait). */
  #cacheFor(options: CallOptions): boolean {
    return this.#options.cache !== false && options.cache !== false;
  }

  #cacheOf(): Promise<ResponseCache | undefined> {
    const option = this.#options.cache;
    if (option === false) return NO_CACHE;
    return (this.#cache ??= option === true ? Promise.resolve(memoryCache()) : sqliteCache(option));
  }
}

/** One request shared by identical cacheable calls in flight. */
interface SharedRequest {
  promise: Promise<unknown>;
  /** Cancels the request once no caller waits for it. */
  controller: CallControl;
  callers: number;
}

interface ChatBody {
  model: string;
  messages: readonly ChatInputMessage[];
  [field: string]: unknown;
}

const NO_CACHE = Promise.resolve(undefined);
const CLOSED_CACHE: Promise<ResponseCache | undefined> = Promise.resolve(undefined);

function toMessages(input: ChatInput, system: string | undefined): ChatInputMessage[] {
  let messages: ChatInputMessage[];
  if (typeof input === "string") messages = [{ role: "user", content: input }];
  else if (Array.isArray(input) && input.length > 0 && input.every((m) => m !== null && typeof m === "object" && typeof m.role === "string")) messages = [...input];
  else throw new TypeError("LLMService.chat takes a prompt string or a non-empty array of { role, content } messages");
  return system === undefined ? messages : [{ role: "system", content: system }, ...messages];
}

async function* replay(result: ChatResult): AsyncGenerator<ChatStreamEvent> {
  if (result.text !== "") yield { type: "delta", text: result.text };
  yield { type: "done", ...result, cached: true };
}

// One vector per input, each placed by its `index`: an answer with more, fewer, misplaced or
// non-numeric vectors fails, naming what is wrong, rather than shifting every later vector.
function vectorsOf(answer: CreateEmbeddingResponse, count: number): number[][] {
  const bad = (what: string) => new APIError(undefined, undefined, `the embeddings answer ${what}`, undefined);
  const data: unknown = answer?.data;
  if (!Array.isArray(data)) throw bad(`has no data list: ${preview(answer)}`);
  if (data.length !== count) throw bad(`has ${data.length} vectors for ${count} inputs`);
  const vectors = new Array<number[]>(count);
  let dimensions: number | undefined;
  for (const item of data as CreateEmbeddingResponse["data"]) {
    const index = item?.index;
    if (!(Number.isInteger(index) && index >= 0 && index < count) || vectors[index] !== undefined) throw bad(`has a vector at index ${preview(index)} (inputs 0-${count - 1}, each once)`);
    const embedding = item.embedding as unknown;
    // base64 float32, from servers that ignore `encoding_format` (copied: a pooled Buffer may be unaligned)
    const vector = typeof embedding === "string" ? Array.from(new Float32Array(Uint8Array.from(Buffer.from(embedding, "base64")).buffer)) : embedding;
    if (!Array.isArray(vector) || vector.length === 0 || !vector.every((x) => typeof x === "number" && Number.isFinite(x))) throw bad(`has a vector for input ${index} that is not a list of finite numbers`);
    if (vector.length !== (dimensions ??= vector.length)) throw bad(`has vectors of different lengths (${dimensions} and ${vector.length})`);
    vectors[index] = vector;
  }
  return vectors;
}

/** Whether `value` is a token count an API may report. */
function isTokenCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

// The usage an answer reports, counted here where it is missing or not a count: a NaN in it would
// reach the rate limiter's schedule and the metrics.
function usageOf(reported: { prompt_tokens?: unknown; completion_tokens?: unknown } | null | undefined, messages: readonly ChatInputMessage[], text: string): ChatResult["usage"] {
  const prompt = reported?.prompt_tokens;
  const completion = reported?.completion_tokens;
  return {
    promptTokens: isTokenCount(prompt) ? prompt : countChatTokens(messages),
    completionTokens: isTokenCount(completion) ? completion : countTextTokens(text),
  };
}

/** A short JSON rendering of a value for an error message. */
function preview(value: unknown): string {
  if (typeof value === "number" || value === undefined) return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 120)}...` : text;
}

function isResult(value: unknown): value is ChatResult {
  return value !== null && typeof value === "object" && !Array.isArray(value) && "text" in value;
}

function abortError(error: unknown, signal: AbortSignal): unknown {
  return signal.aborted ? abortReason(signal) : error;
}

function stoppedError(): APIUserAbortError {
  return new APIUserAbortError({ message: "the LLM service stopped" });
}

/** The URL requests go below, for cache keys: origin and path (credentials and query left out). */
function endpointOf(baseURL: string): string {
  const url = new URL(baseURL);
  return url.origin + url.pathname.replace(/\/+$/, "");
}

