import { APIConnectionError, APIError, APIUserAbortError } from "openai/core/error";

/** How failed attempts are retried. */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** Cap of the first backoff; each retry doubles it (full jitter: a uniform pick below the cap). */
  baseMs: number;
  /** Largest backoff cap. */
  maxMs: number;
  /** A server's `Retry-After` longer than this is not honoured (the backoff applies instead). */
  maxRetryAfterMs: number;
}

/** The defaults: 3 retries, backoff from 500 ms doubling up to 8 s, `Retry-After` honoured up to 60 s. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 3, baseMs: 500, maxMs: 8000, maxRetryAfterMs: 60_000 };

/**
 * Whether an attempt that failed with `error` may be tried again: 408, 409, 429 and 5xx answers
 * and connection errors (timeouts included), unless the server said `x-should-retry: false`;
 * never an abort or another 4xx.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof APIUserAbortError) return false;
  if (error instanceof APIConnectionError) return true;
  if (!(error instanceof APIError) || error.status === undefined) return false;
  const hint = error.headers?.get("x-should-retry");
  if (hint === "true") return true;
  if (hint === "false") return false;
  return error.status === 408 || error.status === 409 || error.status === 429 || error.status >= 500;
}

/**
 * The wait a server asked for, ms: `retry-after-ms`, else `Retry-After` as seconds or an HTTP date;
 * undefined when absent or unreadable.
 */
export function retryAfterMs(headers: Headers | undefined, nowMs = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "" && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const after = headers.get("retry-after");
  if (after === null || after.trim() === "") return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/**
 * How long to wait before retry number `retry` (1 for the first): the server's `Retry-After` when
 * it gave one within the policy's limit, else exponential backoff with full jitter.
 */
export function retryDelayMs(error: unknown, retry: number, policy: RetryPolicy, random: () => number = Math.random): { ms: number; fromServer: boolean } {
  const asked = error instanceof APIError ? retryAfterMs(error.headers) : undefined;
  if (asked !== undefined && asked <= policy.maxRetryAfterMs) return { ms: asked, fromServer: true };
  const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** (retry - 1));
  return { ms: random() * cap, fromServer: false };
}
