/** LLMService called directly (outside a pipeline) against the OpenAI-protocol test server. */
import { encode, encodeChat } from "gpt-tokenizer";
import { APIConnectionError, APIConnectionTimeoutError, APIUserAbortError, BadRequestError, InternalServerError, RateLimitError } from "openai/core/error";
import { afterEach, describe, expect, it, vi } from "vitest";
import { HashingEmbedder } from "../../src/llm/hashing-embedder.js";
import { LLMService, type ChatStreamEvent, type LLMServiceOptions } from "../../src/llm/index.js";
import { resolveLLMOptions } from "../../src/llm/llm-options.js";
import { llmTestbed, until, type OpenAIServer } from "../support/openai-server.js";

// The service's cleanup closes its connections itself: the server sees every socket closed before it closes anything.
const { start } = llmTestbed({ apiKey: "k", model: "test-model", retryBaseMs: 20, retryMaxMs: 100 });

const gap = (s: OpenAIServer, i: number) => s.requests[i]!.at - s.requests[i - 1]!.at;

afterEach(() => vi.restoreAllMocks());

describe("LLMService.chat", () => {
  it("answers a prompt with the text, exact usage, model and finish reason", async () => {
    const { server, llm } = await start();
    const result = await llm.chat("What is SAGE?");
    expect(result).toEqual({
      text: "echo: What is SAGE?",
      usage: { promptTokens: encodeChat([{ role: "user", content: "What is SAGE?" }], "gpt-4o").length, completionTokens: encode("echo: What is SAGE?").length },
      model: "test-model",
      finishReason: "stop",
    });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.headers.authorization).toBe("Bearer k");
    expect(llm.metrics()).toMatchObject({ requests: 1, retries: 0, promptTokens: result.usage.promptTokens, completionTokens: result.usage.completionTokens, errors: 0, inFlight: 0 });
  });

  it("sends messages and the call's options as OpenAI request fields", async () => {
    const { server, llm } = await start({ answer: () => "alpha beta gamma delta" });
    const result = await llm.chat([{ role: "user", content: "hi" }], { system: "Be brief.", maxTokens: 2, temperature: 0.2, topP: 0.9, stop: ["zzz"], seed: 7, model: "other", extra: { user: "u1" } });
    expect(server.requests[0]!.body).toEqual({
      model: "other",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "hi" },
      ],
      max_tokens: 2,
      temperature: 0.2,
      top_p: 0.9,
      stop: ["zzz"],
      seed: 7,
      user: "u1",
    });
    expect(result).toMatchObject({ text: "alpha beta", finishReason: "length", model: "other", usage: { completionTokens: 2 } });
  });

  it("keeps the base URL's query (Azure's api-version) on every request: chat, stream and embeddings", async () => {
    const { server, llm } = await start({}, (url) => ({ baseURL: `${url}/?api-version=2024-10-21&x=a%20b`, model: "m" }));
    await llm.chat("hi");
    for await (const _ of await llm.chatStream("hi")) void _;
    await llm.embed(["hi"]);
    expect(server.requests.map((r) => `${r.path}?${r.query}`)).toEqual([
      "/v1/chat/completions?api-version=2024-10-21&x=a%20b",
      "/v1/chat/completions?api-version=2024-10-21&x=a%20b",
      "/v1/embeddings?api-version=2024-10-21&x=a%20b",
    ]);
  });

  it("fails at once on a 400 with the server's message, without retrying", async () => {
    const { server, llm } = await start({}, { maxRetries: 3 });
    server.fail({ status: 400, message: "Invalid 'messages[0].content': string too long." });
    const error = await llm.chat("x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).message).toBe("400 Invalid 'messages[0].content': string too long.");
    expect(server.requests).toHaveLength(1);
    expect(llm.metrics()).toMatchObject({ requests: 1, retries: 0, errors: 1 });
  });

  it("honours Retry-After in seconds", async () => {
    const { server, llm } = await start();
    server.fail({ status: 429, retryAfter: 1 });
    expect((await llm.chat("x")).text).toBe("echo: x");
    expect(server.requests).toHaveLength(2);
    expect(gap(server, 1)).toBeGreaterThanOrEqual(995);
    // A loaded machine adds its own delay to the retry: well within a second more of the asked one.
    expect(gap(server, 1)).toBeLessThan(1000 + 1000);
    expect(llm.metrics()).toMatchObject({ requests: 2, retries: 1, rateLimited: 1, errors: 0 });
  });

  it("honours retry-after-ms before Retry-After", async () => {
    const { server, llm } = await start();
    server.fail({ status: 429, retryAfterMs: 300, retryAfter: 5 });
    await llm.chat("x");
    expect(gap(server, 1)).toBeGreaterThanOrEqual(295);
    expect(gap(server, 1)).toBeLessThan(300 + 2000); // far from Retry-After's 5 s
  });

  it("holds every caller while a server's Retry-After runs, not only the one that got the 429", async () => {
    const { server, llm } = await start();
    server.fail({ status: 429, retryAfterMs: 500 });
    const first = llm.chat("first");
    // The second call starts once the service has read the 429 (the pause is set with the count),
    // however late a loaded machine lets it read it.
    await until(() => llm.metrics().rateLimited === 1, "the service read the 429");
    await Promise.all([first, llm.chat("second")]);
    const refusedAt = server.requests[0]!.at;
    expect(server.requests).toHaveLength(3);
    for (const request of server.requests.slice(1)) expect(request.at - refusedAt).toBeGreaterThanOrEqual(495);
  });

  it("honours Retry-After as an HTTP date", async () => {
    const { server, llm } = await start();
    const at = Math.ceil((Date.now() + 1500) / 1000) * 1000; // HTTP dates have whole seconds
    server.fail({ status: 503, retryAfter: new Date(at).toUTCString() });
    await llm.chat("x");
    expect(server.requests[1]!.at).toBeGreaterThanOrEqual(at - 5);
    expect(server.requests[1]!.at).toBeLessThan(at + 1000); // a loaded machine retries late, not seconds late
  });

  it("retries 5xx with exponential backoff and full jitter, then gives up after maxRetries", async () => {
    const { server, llm } = await start({}, { maxRetries: 2, retryBaseMs: 100, retryMaxMs: 150 });
    // Full jitter draws each delay below its cap. Drawing the top of the range makes every delay
    // its cap, so the caps are checked exactly, on the delays the service logs; the server's clock
    // then shows each was waited. (Bounding the gaps by the caps plus 80 ms failed whenever a
    // loaded machine fired the retry's timer late: CI-like load saw 295 ms for 230.)
    vi.spyOn(Math, "random").mockReturnValue(0.999);
    const delays: number[] = [];
    vi.spyOn(llm.logger, "debug").mockImplementation((message: unknown, ...args: unknown[]) => {
      if (typeof message === "string" && message.endsWith("; retry %d of %d in %d ms")) delays.push(args[3] as number);
    });
    server.fail({ status: 500 }, { status: 503 });
    await llm.chat("x");
    expect(server.requests).toHaveLength(3);
    expect(delays).toEqual([100, 150]); // first cap 100 ms, then 200 capped at retryMaxMs
    for (const [i, ms] of delays.entries()) {
      expect(gap(server, i + 1)).toBeGreaterThanOrEqual(ms - 1);
      expect(gap(server, i + 1)).toBeLessThan(ms + 1000);
    }
    server.reset();
    server.fail({ status: 500 }, { status: 500 }, { status: 502, message: "bad gateway" });
    const error = await llm.chat("x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalServerError);
    expect((error as Error).message).toBe("502 bad gateway");
    expect(server.requests).toHaveLength(3);
    expect(delays).toEqual([100, 150, 100, 150]);
    expect(llm.metrics()).toMatchObject({ requests: 6, retries: 4, errors: 1 });
  });

  it("retries a dropped connection", async () => {
    const { server, llm } = await start();
    server.fail({ drop: true });
    expect((await llm.chat("x")).text).toBe("echo: x");
    expect(server.requests.map((r) => r.closedEarly)).toEqual([true, false]);
  });

  it("times an attempt out after timeoutMs, closing its connection, and retries it", async () => {
    const { server, llm } = await start({ faults: () => ({ hang: true }) }, { timeoutMs: 200, maxRetries: 1 });
    const started = performance.now();
    const error = await llm.chat("x").catch((e: unknown) => e);
    const took = performance.now() - started;
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(server.requests).toHaveLength(2);
    expect(took).toBeGreaterThanOrEqual(2 * 200 - 10);
    // undici checks these timeouts on a coarse clock (about every half second), and a loaded
    // machine adds its own lateness: far below the default timeout (120 s) all the same
    expect(took).toBeLessThan(2 * (200 + 1000) + 3000);
    await until(() => server.requests.every((r) => r.closedEarly), "both attempts' connections closed");
  });

  it("cancels a call by its own signal: the server sees the connection closed, nothing is retried", async () => {
    const { server, llm } = await start({ faults: () => ({ hang: true }) });
    const controller = new AbortController();
    const answer = llm.chat("x", { signal: controller.signal });
    await until(() => server.inFlight === 1, "the request reached the server");
    controller.abort();
    await expect(answer).rejects.toBeInstanceOf(APIUserAbortError);
    await until(() => server.requests[0]!.closedEarly && server.inFlight === 0, "the server saw the connection closed");
    expect(server.requests).toHaveLength(1);
  });

  it("aborts what is in flight at cleanup and refuses calls afterwards", async () => {
    const { server, llm } = await start({ faults: () => ({ hang: true }) });
    const answers = Promise.allSettled([llm.chat("a"), llm.chat("b"), llm.chat("c")]);
    await until(() => server.inFlight === 3, "three requests in flight");
    await llm.cleanup();
    for (const answer of await answers) expect(answer.status === "rejected" && answer.reason).toBeInstanceOf(APIUserAbortError);
    await until(() => server.inFlight === 0 && server.sockets.open === 0, "every connection closed");
    await expect(llm.chat("later")).rejects.toBeInstanceOf(APIUserAbortError);
    expect(server.requests).toHaveLength(3);
  });

  it("checks its options", () => {
    expect(() => new LLMService({ requestsPerMinute: 0 })).toThrow("requestsPerMinute must be a number above 0");
    expect(() => new LLMService({ maxRetries: 1.5 })).toThrow("maxRetries must be a whole number of 0 or more");
    expect(() => new LLMService({ baseURL: "not a url" })).toThrow("baseURL 'not a url' is not a URL");
    expect(() => new LLMService({ modle: "x" } as LLMServiceOptions)).toThrow("unknown option 'modle'");
    expect(() => new LLMService({ cache: 3 as unknown as string })).toThrow("cache must be a file path, true (in memory) or false");
  });

  it("takes its defaults from OPENAI_BASE_URL, OPENAI_API_KEY and OPENAI_MODEL", () => {
    const env = { OPENAI_BASE_URL: "http://127.0.0.1:9/v1", OPENAI_API_KEY: "sk-env", OPENAI_MODEL: "env-model" };
    expect(resolveLLMOptions({}, env)).toMatchObject({ baseURL: "http://127.0.0.1:9/v1", apiKey: "sk-env", model: "env-model", embeddingModel: "text-embedding-3-small", maxRetries: 3 });
    expect(resolveLLMOptions({ model: "mine" }, env).model).toBe("mine");
    expect(resolveLLMOptions({}, {})).toMatchObject({ baseURL: "https://api.openai.com/v1", apiKey: "", model: "gpt-4o-mini" });
  });
});

describe("LLMService.embed", () => {
  it("returns the vectors in order, batched, with exact token counts", async () => {
    const { server, llm } = await start({ embeddingDimensions: 32 }, { embeddingBatchSize: 2, embeddingModel: "emb" });
    const texts = ["alpha beta", "gamma", "delta epsilon", "zeta", "eta theta iota"];
    const vectors = await llm.embed(texts);
    expect(vectors).toEqual(new HashingEmbedder({ dimensions: 32 }).embed(texts));
    expect(server.requests).toHaveLength(3);
    expect(server.requests.map((r) => (r.body as { input: string[] }).input)).toEqual([texts.slice(0, 2), texts.slice(2, 4), texts.slice(4)]);
    expect(server.requests[0]!.body).toMatchObject({ model: "emb", encoding_format: "float" });
    expect(llm.metrics().promptTokens).toBe(texts.reduce((sum, t) => sum + encode(t).length, 0));
    expect(await llm.embed("one text", { dimensions: 4 })).toHaveLength(1);
    expect((await llm.embed([])).length).toBe(0);
  });
});

describe("LLMService.chatStream", () => {
  const collect = async (events: AsyncIterable<ChatStreamEvent>) => {
    const seen: ChatStreamEvent[] = [];
    for await (const event of events) seen.push(event);
    return seen;
  };

  it("yields the token deltas as they come, then the whole answer with exact usage", async () => {
    const { server, llm } = await start({ answer: () => "Tokens arrive one by one." });
    const events = await collect(await llm.chatStream("go"));
    const deltas = events.filter((e) => e.type === "delta").map((e) => (e as { text: string }).text);
    expect(deltas).toHaveLength(encode("Tokens arrive one by one.").length);
    expect(deltas.join("")).toBe("Tokens arrive one by one.");
    expect(events.at(-1)).toEqual({
      type: "done",
      text: "Tokens arrive one by one.",
      usage: { promptTokens: encodeChat([{ role: "user", content: "go" }], "gpt-4o").length, completionTokens: deltas.length },
      model: "test-model",
      finishReason: "stop",
    });
    expect(server.requests[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(llm.metrics()).toMatchObject({ requests: 1, completionTokens: deltas.length, inFlight: 0 });
  });

  it("closes the request when the reader stops early", async () => {
    const { server, llm } = await start({ answer: () => "a b c d e f g h i j k l m n o p", chunkDelayMs: 30 });
    const first: string[] = [];
    for await (const event of await llm.chatStream("go")) {
      if (event.type === "delta") first.push(event.text);
      if (first.length === 2) break;
    }
    expect(first).toEqual(["a", " b"]);
    await until(() => server.requests[0]!.closedEarly && server.inFlight === 0, "the server saw the stream's connection closed");
    expect(llm.metrics().inFlight).toBe(0);
  });

  it("retries a 429 before the stream begins; a connection dropped mid-stream fails the reader", async () => {
    const { server, llm } = await start({ answer: () => "one two three four", chunkDelayMs: 20 });
    server.fail({ status: 429, retryAfterMs: 50 });
    const events = await collect(await llm.chatStream("go"));
    expect(events.at(-1)).toMatchObject({ type: "done", text: "one two three four" });
    expect(server.requests.map((r) => r.status)).toEqual([429, 200]);
    server.fail({ dropAfterChunks: 2 });
    const reader = await llm.chatStream("again");
    const seen: string[] = [];
    const failure = await (async () => {
      for await (const event of reader) if (event.type === "delta") seen.push(event.text);
    })().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(APIConnectionError);
    expect(seen).toEqual(["one", " two"]); // what came before the drop was delivered
    expect(server.requests).toHaveLength(3); // a stream that began is not retried
    expect(llm.metrics()).toMatchObject({ rateLimited: 1, retries: 1, errors: 1 });
  });
});

describe("LLMService response cache in memory", () => {
  it("answers a repeated request from the cache, never caches errors, and shares identical requests in flight", async () => {
    const { server, llm } = await start({ latencyMs: 30 }, { cache: true });
    const first = await llm.chat("same", { maxTokens: 10 });
    const again = await llm.chat("same", { maxTokens: 10 });
    expect(again).toEqual({ ...first, cached: true });
    expect(server.requests).toHaveLength(1);
    await llm.chat("same", { maxTokens: 11 }); // another request: another key
    expect(server.requests).toHaveLength(2);

    server.fail({ status: 400 });
    await expect(llm.chat("fails once")).rejects.toBeInstanceOf(BadRequestError);
    expect((await llm.chat("fails once")).text).toBe("echo: fails once");
    expect(server.requests).toHaveLength(4);

    const together = await Promise.all([llm.chat("twice at once"), llm.chat("twice at once")]);
    expect(together[0]!.text).toBe(together[1]!.text);
    expect(server.requests).toHaveLength(5);

    const streamed: ChatStreamEvent[] = [];
    for await (const event of await llm.chatStream("same", { maxTokens: 10 })) streamed.push(event);
    expect(streamed).toEqual([{ type: "delta", text: first.text }, { type: "done", ...first, cached: true }]);
    expect(await llm.chat("same", { maxTokens: 10, cache: false })).toEqual(first);
    expect(server.requests).toHaveLength(6);
    expect(llm.metrics().cacheHits).toBe(3);
  });

  it("keeps a 429 out of the cache and counts it", async () => {
    const { server, llm } = await start({}, { cache: true, maxRetries: 0 });
    server.fail({ status: 429 });
    await expect(llm.chat("x")).rejects.toBeInstanceOf(RateLimitError);
    await llm.chat("x");
    expect(server.requests).toHaveLength(2);
    expect(llm.metrics()).toMatchObject({ rateLimited: 1, cacheHits: 0 });
  });
});
