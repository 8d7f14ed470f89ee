import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai/core/error";
import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY_POLICY, isRetryable, retryAfterMs, retryDelayMs } from "./retry-policy.js";

const httpError = (status: number, headers: Record<string, string> = {}) => APIError.generate(status, { error: { message: "m" } }, undefined, new Headers(headers));

describe("retry policy", () => {
  it.each([
    [429, true],
    [500, true],
    [503, true],
    [408, true],
    [409, true],
    [400, false],
    [401, false],
    [404, false],
    [422, false],
  ])("status %i is retryable: %s", (status, retryable) => {
    expect(isRetryable(httpError(status))).toBe(retryable);
  });

  it("retries connection errors and timeouts, never an abort", () => {
    expect(isRetryable(new APIConnectionError({ message: "reset" }))).toBe(true);
    expect(isRetryable(new APIConnectionTimeoutError())).toBe(true);
    expect(isRetryable(new APIUserAbortError())).toBe(false);
    expect(isRetryable(new Error("plain"))).toBe(false);
  });

  it("follows the server's x-should-retry", () => {
    expect(isRetryable(httpError(500, { "x-should-retry": "false" }))).toBe(false);
    expect(isRetryable(httpError(400, { "x-should-retry": "true" }))).toBe(true);
  });

  it("reads retry-after-ms, Retry-After in seconds and as an HTTP date", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(retryAfterMs(new Headers({ "retry-after-ms": "250" }), now)).toBe(250);
    expect(retryAfterMs(new Headers({ "retry-after-ms": "250", "retry-after": "9" }), now)).toBe(250);
    expect(retryAfterMs(new Headers({ "retry-after": "1.5" }), now)).toBe(1500);
    expect(retryAfterMs(new Headers({ "retry-after": new Date(now + 3000).toUTCString() }), now)).toBe(3000);
    expect(retryAfterMs(new Headers({ "retry-after": new Date(now - 3000).toUTCString() }), now)).toBe(0);
    expect(retryAfterMs(new Headers({ "retry-after": "soon" }), now)).toBeUndefined();
    expect(retryAfterMs(new Headers(), now)).toBeUndefined();
  });

  it("waits what the server asked within the limit, else backs off exponentially with full jitter", () => {
    expect(retryDelayMs(httpError(429, { "retry-after": "2" }), 1, DEFAULT_RETRY_POLICY)).toEqual({ ms: 2000, fromServer: true });
    // beyond maxRetryAfterMs (60 s) the backoff applies
    expect(retryDelayMs(httpError(429, { "retry-after": "600" }), 1, DEFAULT_RETRY_POLICY, () => 1)).toEqual({ ms: 500, fromServer: false });
    const caps = [1, 2, 3, 4, 5, 6].map((retry) => retryDelayMs(httpError(500), retry, DEFAULT_RETRY_POLICY, () => 1).ms);
    expect(caps).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
    expect(retryDelayMs(httpError(500), 3, DEFAULT_RETRY_POLICY, () => 0.25).ms).toBe(500);
    expect(retryDelayMs(httpError(500), 3, DEFAULT_RETRY_POLICY, () => 0).ms).toBe(0);
  });
});
