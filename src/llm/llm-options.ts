import type { LLMServiceOptions } from "./llm-types.js";

/** LLMService options with every default filled in and every value checked. */
export interface ResolvedLLMOptions {
  baseURL: string;
  apiKey: string;
  model: string;
  embeddingModel: string;
  requestsPerMinute: number | undefined;
  tokensPerMinute: number | undefined;
  maxRetries: number;
  timeoutMs: number;
  cache: string | boolean;
  maxConcurrency: number;
  retryBaseMs: number;
  retryMaxMs: number;
  completionTokensEstimate: number;
  embeddingBatchSize: number;
  headers: Record<string, string>;
}

const KNOWN = new Set<string>([
  "baseURL", "apiKey", "model", "embeddingModel", "requestsPerMinute", "tokensPerMinute", "maxRetries", "timeoutMs", "cache",
  "maxConcurrency", "retryBaseMs", "retryMaxMs", "completionTokensEstimate", "embeddingBatchSize", "headers",
]);

/** Fills in the defaults (from `env`: OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL, OPENAI_EMBEDDING_MODEL) and checks every option. */
export function resolveLLMOptions(options: LLMServiceOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedLLMOptions {
  if (options === null || typeof options !== "object") throw new TypeError("LLMService takes an options object");
  const unknown = Object.keys(options).filter((key) => !KNOWN.has(key));
  if (unknown.length > 0) throw new TypeError(`LLMService: unknown option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `'${k}'`).join(", ")}; known: ${[...KNOWN].join(", ")}`);
  const text = (name: keyof LLMServiceOptions, value: unknown, fallback: string): string => {
    if (value === undefined || value === "") return fallback;
    if (typeof value !== "string") throw new TypeError(`LLMService: ${name} must be a string, not ${typeof value}`);
    return value;
  };
  const resolved: ResolvedLLMOptions = {
    baseURL: text("baseURL", options.baseURL, env.OPENAI_BASE_URL || "https://api.openai.com/v1"),
    apiKey: text("apiKey", options.apiKey, env.OPENAI_API_KEY ?? ""),
    model: text("model", options.model, env.OPENAI_MODEL || "gpt-4o-mini"),
    embeddingModel: text("embeddingModel", options.embeddingModel, env.OPENAI_EMBEDDING_MODEL || "text-embedding-3-small"),
    requestsPerMinute: positive("requestsPerMinute", options.requestsPerMinute),
    tokensPerMinute: positive("tokensPerMinute", options.tokensPerMinute),
    maxRetries: whole("maxRetries", options.maxRetries, 3, 0),
    timeoutMs: positive("timeoutMs", options.timeoutMs, true) ?? 120_000,
    cache: cacheOption(options.cache),
    maxConcurrency: whole("maxConcurrency", options.maxConcurrency, 64, 1),
    retryBaseMs: nonNegative("retryBaseMs", options.retryBaseMs) ?? 500,
    retryMaxMs: nonNegative("retryMaxMs", options.retryMaxMs) ?? 8000,
    completionTokensEstimate: whole("completionTokensEstimate", options.completionTokensEstimate, 256, 0),
    embeddingBatchSize: whole("embeddingBatchSize", options.embeddingBatchSize, 256, 1),
    headers: headersOption(options.headers),
  };
  try {
    new URL(resolved.baseURL);
  } catch {
    throw new TypeError(`LLMService: baseURL '${resolved.baseURL}' is not a URL`);
  }
  return resolved;
}

function positive(name: string, value: unknown, infinite = false): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !(value > 0) || (!infinite && !Number.isFinite(value))) throw new RangeError(`LLMService: ${name} must be a number above 0, not ${String(value)}`);
  return value;
}

function nonNegative(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) throw new RangeError(`LLMService: ${name} must be a number of 0 or more, not ${String(value)}`);
  return value;
}

function whole(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) throw new RangeError(`LLMService: ${name} must be a whole number of ${min} or more, not ${String(value)}`);
  return value;
}

function cacheOption(value: unknown): string | boolean {
  if (value === undefined) return false;
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && value !== "") return value;
  throw new TypeError(`LLMService: cache must be a file path, true (in memory) or false, not ${JSON.stringify(value)}`);
}

function headersOption(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (value === null || typeof value !== "object" || Object.values(value).some((v) => typeof v !== "string")) throw new TypeError("LLMService: headers must be an object of strings");
  return { ...(value as Record<string, string>) };
}
