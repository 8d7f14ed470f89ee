/** Options, call options and answers of the LLMService. */
import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";

/** Options of an LLMService (constructor arguments of `registerService("llm", LLMService, { args: [options] })`). */
export interface LLMServiceOptions {
  /** The API's base URL (default OPENAI_BASE_URL, else `https://api.openai.com/v1`); any OpenAI-compatible server. A query (Azure's `?api-version=`) goes with every request. */
  baseURL?: string;
  /** Sent as a bearer token (default OPENAI_API_KEY; none when empty, as local servers need). */
  apiKey?: string;
  /** Chat model (default OPENAI_MODEL, else `gpt-4o-mini`). */
  model?: string;
  /** Embedding model (default OPENAI_EMBEDDING_MODEL, else `text-embedding-3-small`). */
  embeddingModel?: string;
  /** Requests per minute across every caller of this service (retries included); no limit when absent. */
  requestsPerMinute?: number;
  /** Tokens per minute across every caller: prompt + `maxTokens` charged before a request, corrected from its usage. */
  tokensPerMinute?: number;
  /** Retries of a 429, 5xx, timeout or connection error (default 3). */
  maxRetries?: number;
  /** Per attempt: the wait for the answer's headers, and each pause of its body, ms (default 120 000; checked on undici's clock, about every half second). */
  timeoutMs?: number;
  /**
   * Response cache: a file path (SQLite, kept across runs), `true` (in memory), or off (default).
   * Keyed by the endpoint (origin and path), the model and the full request, so a re-run of a
   * batch job sends nothing and two servers never share answers.
   */
  cache?: string | boolean;
  /** HTTP requests in flight at once, over as many keep-alive connections (default 64). */
  maxConcurrency?: number;
  /** First backoff cap of a retry, ms (default 500; doubles per retry up to `retryMaxMs`, full jitter). */
  retryBaseMs?: number;
  /** Largest backoff cap, ms (default 8000). */
  retryMaxMs?: number;
  /** Completion tokens charged to `tokensPerMinute` for a chat without `maxTokens` (default 256). */
  completionTokensEstimate?: number;
  /** Texts per embeddings request (default 256; more texts go as several requests). */
  embeddingBatchSize?: number;
  /** Extra HTTP headers of every request. */
  headers?: Record<string, string>;
}

/** A chat message: the toolkit's `{ role, content }`, or any message the OpenAI API takes. */
export type ChatInputMessage = ChatCompletionMessageParam;

/** What `chat` takes: a prompt (sent as the user's message) or the messages. */
export type ChatInput = string | readonly ChatInputMessage[];

/** What every call takes. */
export interface CallOptions {
  /** Cancels this call (the job's abort cancels every call anyway). */
  signal?: AbortSignal;
  /** Overrides the service's `timeoutMs` for this call. */
  timeoutMs?: number;
  /** `false`: neither read nor write the response cache for this call. */
  cache?: boolean;
}

/** Options of one chat call. */
export interface ChatOptions extends CallOptions {
  /** Overrides the service's model. */
  model?: string;
  /** A system message put before the prompt. */
  system?: string;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string | string[];
  seed?: number;
  /** E.g. `{ type: "json_object" }`. */
  responseFormat?: Record<string, unknown>;
  /** Further request fields, sent as they are (e.g. `max_completion_tokens`, `tools`). */
  extra?: Record<string, unknown>;
}

/** Token counts of an answer, as the API reported them. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

/** The answer of a chat call. */
export interface ChatResult {
  text: string;
  usage: Usage;
  /** The model that answered, as the API named it. */
  model: string;
  /** `stop`, `length`, ... (null when the API gave none). */
  finishReason: string | null;
  /** True when the answer came from the response cache (no request was sent). */
  cached?: boolean;
}

/** One event of a streamed chat: text deltas as they are generated, then the whole answer. */
export type ChatStreamEvent = { type: "delta"; text: string } | ({ type: "done" } & ChatResult);

/** Options of one embeddings call. */
export interface EmbedOptions extends CallOptions {
  /** Overrides the service's embedding model. */
  model?: string;
  /** Vector length, for models that can shorten theirs. */
  dimensions?: number;
}
