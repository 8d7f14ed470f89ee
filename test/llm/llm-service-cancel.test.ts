/**
 * LLMService when a caller stops waiting: its proxy's timeoutMs expired, so nobody will read the
 * answer and its HTTP request (and any wait or retry of it) ends; and what the gauges count.
 */
import { APIUserAbortError } from "openai/core/error";
import { describe, expect, it } from "vitest";
import { LocalEnvironment, ServiceCallTimeoutError } from "../../src/index.js";
import { LLMService } from "../../src/llm/index.js";
import { CALL_ABANDONED } from "../../src/runtime/service-host.js";
import { llmTestbed, until, type RecordedRequest } from "../support/openai-server.js";

const { start, serve } = llmTestbed({ model: "m", retryBaseMs: 20, retryMaxMs: 50 });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the service host does when a call's time limit expires. */
function abandon(call: Promise<unknown>): void {
  const hook = (call as unknown as Record<symbol, unknown>)[CALL_ABANDONED];
  expect(typeof hook).toBe("function");
  (hook as () => void).call(call);
}

describe("LLMService: a caller that gives up", () => {
  it("in a pipeline: a proxy's timeoutMs aborts the request (the server sees it closed) and nothing is retried", async () => {
    // Faults by prompt, not by arrival (the two calls race to the server). The caller gives up after
    // 1 s, time enough for its request to reach the server on a loaded machine (at 200 ms, a
    // descheduled process gave up before sending it); the slow answer comes well after that.
    const prompt = (r: RecordedRequest) => (r.body as { messages?: Array<{ content: string }> } | undefined)?.messages?.[0]?.content;
    const server = await serve({ faults: (r) => (prompt(r) === "hang" ? { hang: true } : { delayMs: 3000 }) });
    const hanging = () => server.requests.find((r) => prompt(r) === "hang");
    const env = new LocalEnvironment("caller-timeout", { logLevel: "silent" });
    // Default retries (3) and timeout (120 s): without the abort the request would stay open.
    env.registerService("llm", LLMService, { args: [{ baseURL: server.url, model: "m", retryBaseMs: 1, retryMaxMs: 1 }] });
    const seen: Array<{ error: string; closedEarly: boolean; requests: number }> = [];
    let metrics: Record<string, number> = {};
    env
      .fromBatch(["hang", "slow"])
      .map(
        async (p: string, ctx) => {
          const llm = ctx.service<LLMService>("llm", { timeoutMs: 1000 });
          if (p === "slow") return (await ctx.service<LLMService>("llm").chat(p)).text; // keeps the job running
          const error = (await Promise.resolve(llm.chat(p)).catch((e: unknown) => e)) as Error;
          await until(() => hanging()?.closedEarly === true, "the abandoned request's connection closed", 800);
          await sleep(300); // time for a retry, were there one
          seen.push({ error: error.name, closedEarly: hanging()!.closedEarly, requests: server.requests.filter((r) => prompt(r) === "hang").length });
          metrics = await ctx.service<LLMService>("llm").metrics();
          return "gave up";
        },
        { concurrency: 2 },
      )
      .sink(() => {});
    await env.submit({ autostop: true, timeoutMs: 10_000 });
    await env.close();
    expect(seen).toEqual([{ error: ServiceCallTimeoutError.name, closedEarly: true, requests: 1 }]);
    expect(metrics).toMatchObject({ abandoned: 1, retries: 0, inFlight: 1 }); // the slow one is still on the wire
  });

  it("ends chat, embed and chatStream requests still waiting for their answer", async () => {
    const { server, llm } = await start({ faults: () => ({ hang: true }) }, { maxRetries: 3 });
    const calls: Array<Promise<unknown>> = [llm.chat("a"), llm.embed(["b"]), llm.chatStream("c")];
    await until(() => server.inFlight === 3, "three requests at the server");
    for (const call of calls) abandon(call);
    for (const call of calls) await expect(call).rejects.toBeInstanceOf(APIUserAbortError);
    await until(() => server.inFlight === 0 && server.requests.every((r) => r.closedEarly), "every connection closed");
    await sleep(100);
    expect(server.requests).toHaveLength(3); // none retried
    expect(llm.metrics()).toMatchObject({ abandoned: 3, inFlight: 0, backoff: 0, retries: 0 });
  });

  it("ends a retry's backoff at once (the server asked for 5 s)", async () => {
    const { server, llm } = await start({ faults: () => ({ status: 503, retryAfter: 5 }) }, { maxRetries: 3 });
    const call = llm.chat("x");
    await until(() => llm.metrics().backoff === 1, "the call sleeping before its retry");
    const started = performance.now();
    abandon(call);
    await expect(call).rejects.toBeInstanceOf(APIUserAbortError);
    expect(performance.now() - started).toBeLessThan(1000); // not the 5 s asked, whatever a loaded machine adds
    expect(server.requests).toHaveLength(1);
    expect(llm.metrics()).toMatchObject({ backoff: 0, inFlight: 0, retries: 1, abandoned: 1 });
  });

  it("leaves a request shared by identical calls to the others; the last one to give up ends it", async () => {
    const { server, llm } = await start({ faults: (r) => (r.index === 0 ? { delayMs: 300 } : { hang: true }) }, { cache: true });
    const first = llm.chat("same");
    const second = llm.chat("same");
    await until(() => server.inFlight === 1, "one shared request at the server");
    abandon(first);
    await expect(first).rejects.toBeInstanceOf(APIUserAbortError);
    expect(await second).toMatchObject({ text: "echo: same", cached: true });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.closedEarly).toBe(false);

    const third = llm.chat("other");
    const fourth = llm.chat("other");
    const outcomes = Promise.allSettled([third, fourth]);
    await until(() => server.inFlight === 1, "the next shared request at the server");
    abandon(third);
    await sleep(50);
    expect(server.requests[1]!.closedEarly).toBe(false); // the fourth still waits for it
    abandon(fourth);
    for (const outcome of await outcomes) expect(outcome.status === "rejected" && outcome.reason).toBeInstanceOf(APIUserAbortError);
    await until(() => server.requests[1]!.closedEarly, "the shared request closed once nobody waited");
    // A new identical call does not join the request that was given up: it sends its own.
    const fifth = llm.chat("other");
    await until(() => server.requests.length === 3, "a new request");
    abandon(fifth);
    await expect(fifth).rejects.toBeInstanceOf(APIUserAbortError);
  });

  it("is told nothing once the call has answered", async () => {
    const { server, llm } = await start({});
    const call = llm.chat("x");
    await call;
    abandon(call);
    expect(llm.metrics()).toMatchObject({ abandoned: 0, errors: 0 });
    expect(server.requests[0]!.closedEarly).toBe(false);
  });
});

describe("LLMService gauges", () => {
  it("counts in inFlight only requests on the wire; a retry's sleep shows as backoff, a rate-limit wait as waiting", async () => {
    const { server, llm } = await start({ latencyMs: 150 }, { maxRetries: 1, requestsPerMinute: 60 });
    server.fail({ status: 503, retryAfterMs: 400 });
    const first = llm.chat("a"); // admitted at once; answered 503, then sleeps 400 ms
    const second = llm.chat("b"); // waits a second for its turn
    const outcomes = Promise.allSettled([first, second]);
    await until(() => server.inFlight === 1, "the first request on the wire");
    expect(llm.metrics()).toMatchObject({ inFlight: 1, backoff: 0, waiting: 1 });
    await until(() => llm.metrics().backoff === 1, "the first call sleeping before its retry");
    expect(llm.metrics()).toMatchObject({ inFlight: 0, backoff: 1 });
    await llm.cleanup();
    for (const outcome of await outcomes) expect(outcome.status === "rejected" && outcome.reason).toBeInstanceOf(APIUserAbortError);
    expect(llm.metrics()).toMatchObject({ inFlight: 0, backoff: 0, waiting: 0 });
  });
});
