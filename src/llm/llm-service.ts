import { setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { countTokens } from "gpt-tokenizer";
import { APIError, APIUserAbortError } from "openai/core/error";
import type { ChatCompletion, ChatCompletionChunk } from "openai/resources/chat/completions";
import type { CreateEmbeddingResponse } from "openai/resources/embeddings";
import { BaseService, type ServiceOptions } from "../api/service.js";
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
  /** Calls that failed (after their retries). */
  errors: number;
  /** Time callers spent waiting for the rate limits, summed over callers, ms. */
  rateLimitWaitMs: number;
  /** HTTP requests in flight now. */
  inFlight: number;
}

/**
 * Chat completions and embeddings from any OpenAI-compatible API (OpenAI, vLLM, Ollama,
 * llama.cpp's server, ...), shared by every operator of a job: requests and tokens per minute held
 * across all callers, retries of 429 and 5xx answers with backoff that honours `Retry-After`,
 * cancellation of in-flight requests when the job aborts, and a response cache that makes a re-run
 * free. Errors are the `openai` package's classes.
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
  /** Fires at the job's abort or this service's cleanup, whichever comes first. */
  readonly #stop = new AbortController();
  #http: OpenAIHttp | undefined;
  #cache: Promise<ResponseCache | undefined> | undefined;
  #cacheFailed = false;
  /** Answers of cacheable requests in flight, so identical ones share a request. */
  readonly #pending = new Map<string, Promise<unknown>>();
  readonly #counters: LLMCounters = { requests: 0, retries: 0, rateLimited: 0, promptTokens: 0, completionTokens: 0, cacheHits: 0, errors: 0, rateLimitWaitMs: 0, inFlight: 0 };

  constructor(options: LLMServiceOptions = {}) {
    super();
    this.#options = resolveLLMOptions(options);
    this.model = this.#options.model;
    this.embeddingModel = this.#options.embeddingModel;
    this.#policy = { maxRetries: this.#options.maxRetries, baseMs: this.#options.retryBaseMs, maxMs: this.#options.retryMaxMs, maxRetryAfterMs: 60_000 };
    this.#limiter = new RateLimiter({ requestsPerMinute: this.#options.requestsPerMinute, tokensPerMinute: this.#options.tokensPerMinute });
    this.#countTokens = this.#options.tokensPerMinute !== undefined;
    // Waits (rate limits, backoff) of every caller listen to it at once.
    setMaxListeners(0, this.#stop.signal);
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
    if (this.#stop.signal.aborted) return;
    this.#stop.abort(new APIUserAbortError({ message: "the LLM service stopped" }));
    this.#limiter.close(new APIUserAbortError({ message: "the LLM service stopped" }));
    await this.#http?.abortAll();
  }

  /** The service's counters (sampled into the job's status). */
  metrics(): Record<string, number> {
    return { ...this.#counters };
  }

  // Options are declared optional rather than defaulted: a method's declared parameter count is
  // what a service proxy's fast path matches the call against, and calls usually pass options.

  /** Asks the chat model: a prompt (the user's message) or messages; resolves with the answer's text and usage. */
  async chat(input: ChatInput, options?: ChatOptions): Promise<ChatResult> {
    options ??= {};
    const messages = toMessages(input, options.system);
    const body = this.#chatBody(messages, options);
    const cache = this.#cacheFor(options) ? await this.#cacheOf() : undefined;
    if (!cache) return this.#chatRequest(body, messages, options);
    const key = cacheKey(body);
    const hit = cache.get(key) as ChatResult | undefined;
    if (hit !== undefined) {
      this.#counters.cacheHits++;
      return { ...hit, cached: true };
    }
    return this.#shared(key, options, () => this.#chatRequest(body, messages, options).then((result) => this.#store(cache, key, result)));
  }

  /**
   * A streamed chat: resolves once the answer has begun (failures before that are retried like
   * `chat`'s), with its events: `{ type: "delta", text }` as text is generated, then
   * `{ type: "done", ...ChatResult }`. Leaving the iteration early closes the request.
   * @remarks Through a service proxy, await the call, then iterate; in-process only (an iterator
   * cannot travel to a remote caller).
   */
  async chatStream(input: ChatInput, options?: ChatOptions): Promise<AsyncIterable<ChatStreamEvent>> {
    options ??= {};
    const messages = toMessages(input, options.system);
    const body = this.#chatBody(messages, options);
    const cache = this.#cacheFor(options) ? await this.#cacheOf() : undefined;
    const key = cache ? cacheKey(body) : undefined;
    const hit = key === undefined ? undefined : (cache!.get(key) as ChatResult | undefined);
    if (hit !== undefined) {
      this.#counters.cacheHits++;
      return replay(hit);
    }
    const estimate = this.#countTokens ? countChatTokens(messages) + (options.maxTokens ?? this.#options.completionTokensEstimate) : 0;
    const streamBody = { ...body, stream: true, stream_options: { include_usage: true } };
    const signal = this.#signalOf(options);
    const send = this.#sendOptions(options);
    const chunks = await this.#attempts(estimate, signal, () => this.#httpPath().postStream("/chat/completions", streamBody, send));
    return this.#readStream(chunks as AsyncGenerator<ChatCompletionChunk>, messages, body.model, estimate, cache, key);
  }

  /** The embedding vectors of `texts`, in order (batched by `embeddingBatchSize`). */
  async embed(texts: string | readonly string[], options?: EmbedOptions): Promise<number[][]> {
    options ??= {};
    const inputs = typeof texts === "string" ? [texts] : texts;
    if (!Array.isArray(inputs) || inputs.some((t) => typeof t !== "string")) throw new TypeError("LLMService.embed takes a string or an array of strings");
    const size = this.#options.embeddingBatchSize;
    const batches: Array<Promise<number[][]>> = [];
    for (let i = 0; i < inputs.length; i += size) batches.push(this.#embedBatch(inputs.slice(i, i + size), options));
    return (await Promise.all(batches)).flat();
  }

  async #embedBatch(input: string[], options: EmbedOptions): Promise<number[][]> {
    const body: Record<string, unknown> = { model: options.model ?? this.embeddingModel, input, encoding_format: "float" };
    if (options.dimensions !== undefined) body.dimensions = options.dimensions;
    const request = async (): Promise<number[][]> => {
      const estimate = this.#countTokens ? input.reduce((sum, text) => sum + countTokens(text), 0) : 0;
      const signal = this.#signalOf(options);
      const send = this.#sendOptions(options);
      const answer = await this.#attempts(estimate, signal, () => this.#httpPath().postJSON<CreateEmbeddingResponse>("/embeddings", body, send));
      const tokens = answer.usage?.prompt_tokens ?? estimate;
      this.#counters.promptTokens += tokens;
      if (this.#countTokens) this.#limiter.adjustTokens(tokens - estimate);
      return vectorsOf(answer, input.length);
    };
    const cache = this.#cacheFor(options) ? await this.#cacheOf() : undefined;
    if (!cache) return request();
    const key = cacheKey(body);
    const hit = cache.get(key) as number[][] | undefined;
    if (hit !== undefined) {
      this.#counters.cacheHits++;
      return hit;
    }
    return this.#shared(key, options, () => request().then((vectors) => this.#store(cache, key, vectors)));
  }

  async #chatRequest(body: ChatBody, messages: readonly ChatInputMessage[], options: ChatOptions): Promise<ChatResult> {
    const estimate = this.#countTokens ? countChatTokens(messages) + (options.maxTokens ?? this.#options.completionTokensEstimate) : 0;
    const signal = this.#signalOf(options);
    const send = this.#sendOptions(options);
    const completion = await this.#attempts(estimate, signal, () => this.#httpPath().postJSON<ChatCompletion>("/chat/completions", body, send));
    const choice = completion.choices?.[0];
    const text = choice?.message?.content ?? "";
    const usage = completion.usage
      ? { promptTokens: completion.usage.prompt_tokens, completionTokens: completion.usage.completion_tokens }
      : { promptTokens: countChatTokens(messages), completionTokens: countTokens(text) };
    this.#account(usage.promptTokens + usage.completionTokens - estimate, usage.promptTokens, usage.completionTokens);
    return { text, usage, model: completion.model ?? body.model, finishReason: choice?.finish_reason ?? null };
  }

  async *#readStream(chunks: AsyncGenerator<ChatCompletionChunk>, messages: readonly ChatInputMessage[], model: string, estimate: number, cache: ResponseCache | undefined, key: string | undefined): AsyncGenerator<ChatStreamEvent> {
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
      throw error;
    } finally {
      this.#counters.inFlight--;
    }
    const counted = usage ? { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens } : { promptTokens: countChatTokens(messages), completionTokens: countTokens(text) };
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
      try {
        return await attempt();
      } catch (error) {
        if (error instanceof APIError && error.status === 429) this.#counters.rateLimited++;
        if (retry >= this.#policy.maxRetries || !isRetryable(error) || signal.aborted) {
          this.#counters.errors++;
          // The API counts no tokens for a request it refused: give the estimate back.
          if (estimate > 0) this.#limiter.adjustTokens(-estimate);
          throw signal.aborted ? abortError(error, signal) : error;
        }
        this.#counters.retries++;
        const delay = retryDelayMs(error, retry + 1, this.#policy);
        // A server that names its wait is out of capacity for every caller, not only this one.
        if (delay.fromServer) this.#limiter.pauseUntil(performance.now() + delay.ms);
        this.logger.debug("%s; retry %d of %d in %d ms", (error as Error).message, retry + 1, this.#policy.maxRetries, Math.round(delay.ms));
        try {
          await sleep(delay.ms, undefined, { signal });
        } catch (abort) {
          this.#counters.errors++;
          throw abortError(abort, signal);
        }
      } finally {
        this.#counters.inFlight--;
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

  // Identical cacheable requests in flight share one; a call with its own signal goes alone, so
  // that its cancellation cannot fail the others.
  #shared<T>(key: string, options: CallOptions, request: () => Promise<T>): Promise<T> {
    if (options.signal) return request();
    const pending = this.#pending.get(key) as Promise<T> | undefined;
    if (pending) {
      this.#counters.cacheHits++;
      return pending.then((value) => (isResult(value) ? ({ ...value, cached: true } as T) : value));
    }
    const promise = request().finally(() => this.#pending.delete(key));
    this.#pending.set(key, promise);
    return promise;
  }

  #chatBody(messages: readonly ChatInputMessage[], options: ChatOptions): ChatBody {
    const body: ChatBody = { model: options.model ?? this.model, messages };
    if (options.maxTokens !== undefined) body.max_tokens = options.maxTokens;
    if (options.temperature !== undefined) body.temperature = options.temperature;
    if (options.topP !== undefined) body.top_p = options.topP;
    if (options.stop !== undefined) body.stop = options.stop;
    if (options.seed !== undefined) body.seed = options.seed;
    if (options.responseFormat !== undefined) body.response_format = options.responseFormat;
    return options.extra ? { ...body, ...options.extra } : body;
  }

  /** What ends a call's waits: the service stopping, or the call's own signal. */
  #signalOf(options: CallOptions): AbortSignal {
    if (this.#stop.signal.aborted) throw new APIUserAbortError({ message: "the LLM service stopped" });
    return options.signal ? AbortSignal.any([this.#stop.signal, options.signal]) : this.#stop.signal;
  }

  // A request gets only the call's own signal: the job's abort reaches every request at once
  // through abortAll(), with no listener per request.
  #sendOptions(options: CallOptions): SendOptions {
    const timeoutMs = options.timeoutMs ?? this.#options.timeoutMs;
    return options.signal ? { signal: options.signal, timeoutMs } : { timeoutMs };
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

function vectorsOf(answer: CreateEmbeddingResponse, count: number): number[][] {
  const vectors = new Array<number[]>(count);
  for (const item of answer.data ?? []) {
    const embedding = item.embedding as number[] | string;
    // base64 float32, from servers that ignore `encoding_format` (copied: a pooled Buffer may be unaligned)
    vectors[item.index] = typeof embedding === "string" ? Array.from(new Float32Array(Uint8Array.from(Buffer.from(embedding, "base64")).buffer)) : embedding;
  }
  for (let i = 0; i < count; i++) if (vectors[i] === undefined) throw new APIError(undefined, undefined, `the embeddings answer has no vector for input ${i}`, undefined);
  return vectors;
}

function isResult(value: unknown): value is ChatResult {
  return value !== null && typeof value === "object" && !Array.isArray(value) && "text" in value;
}

function abortError(error: unknown, signal: AbortSignal): unknown {
  return signal.aborted ? new APIUserAbortError() : error;
}

