import { describe, expect, it } from "vitest";
import {
  BaseService,
  JobFailedError,
  LocalEnvironment,
  MapFunction,
  PipelineDefinitionError,
  ServiceCallTimeoutError,
  SourceFunction,
  ServiceNotFoundError,
} from "../../src/index.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const quiet = { logLevel: "silent" as const };

async function failureOf(env: LocalEnvironment): Promise<JobFailedError> {
  const error = await env.submit({ autostop: true, timeoutMs: 5000 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(JobFailedError);
  return error as JobFailedError;
}

describe("local mode - bad pipelines and failing services", () => {
  it.each([
    ["an unfilled future", (env: LocalEnvironment) => env.fromBatch([1]).connect(env.fromFuture("loop")).coMap([(x) => x, (x) => x]), /future 'loop'.*never filled/],
    ["no source at all", (env: LocalEnvironment) => void env.fromFuture("alone"), /no source/],
  ])("rejects %s at submit with PipelineDefinitionError", async (_name, declare, message) => {
    const env = new LocalEnvironment("bad", quiet);
    declare(env);
    const error = await env.submit().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PipelineDefinitionError);
    expect((error as Error).message).toMatch(message);
  });

  it.each([
    ["a non-function operator", (env: LocalEnvironment) => env.fromBatch([1]).map(42 as never), /operator 'Map' needs a function/],
    ["an unsupported source", (env: LocalEnvironment) => env.fromBatch(42 as never), /source 'Batch' needs/],
    ["a join on unkeyed streams", (env: LocalEnvironment) => env.fromBatch([1]).connect(env.fromBatch([2])).join(() => []), /not keyed/],
    ["coMap with too few functions", (env: LocalEnvironment) => env.fromBatch([1]).connect(env.fromBatch([2])).coMap([(x) => x]), /1 functions for 2/],
    ["a class without execute", (env: LocalEnvironment) => env.fromBatch([1]).map(class Nothing { other() {} } as never), /no execute\(\)/],
    ["parallelism 0", (env: LocalEnvironment) => env.fromBatch([1]).map((x) => x, { parallelism: 0 }), /parallelism must be a positive integer/],
    ["a MapFunction class given to filter", (env: LocalEnvironment) => env.fromBatch([1]).filter(class Doubler extends MapFunction { execute(x: number) { return x * 2; } } as never), /filter needs a FilterFunction class \(or a plain function\), but Doubler is a MapFunction/],
    ["a SourceFunction class given to fromBatch", (env: LocalEnvironment) => env.fromBatch(class Ticks extends SourceFunction { execute() { return 1; } } as never), /Ticks is a SourceFunction, not a BatchFunction \(fromSource\(\) takes a SourceFunction\)/],
    ["filling a stream that is not a future", (env: LocalEnvironment) => env.fromBatch([1]).fillFuture(env.fromBatch([2])), /not a fromFuture placeholder/],
  ])("rejects %s when it is declared", (_name, declare, message) => {
    const env = new LocalEnvironment("bad", quiet);
    expect(() => declare(env)).toThrow(PipelineDefinitionError);
    expect(() => declare(new LocalEnvironment("bad", quiet))).toThrow(message);
  });

  it("fails the job when a service's setup throws, naming the service", async () => {
    const env = new LocalEnvironment("setup-throws", quiet);
    let cleanedFirst = false;
    env.registerService("first", () => ({ cleanup: () => void (cleanedFirst = true) }));
    env.registerService("broken", class extends BaseService {
      setup() {
        throw new Error("no database");
      }
    });
    env.fromBatch([1]).sink(() => {});
    const failure = await failureOf(env);
    expect(failure.status.error?.message).toMatch(/service 'broken' failed to start: no database/);
    expect(failure.status).toMatchObject({ state: "failed", tasks: 0, services: 0 });
    expect(cleanedFirst).toBe(true);
  });

  it("fails the job when a service's setup hangs past its timeout", async () => {
    const env = new LocalEnvironment("setup-hangs", quiet);
    env.registerService("slow", () => ({ setup: () => new Promise(() => {}) }), { setupTimeoutMs: 50 });
    env.fromBatch([1]).sink(() => {});
    const failure = await failureOf(env);
    expect(failure.status.error?.message).toMatch(/service 'slow' failed to start: setup\(\) did not finish within 50 ms/);
  });

  it("finishes even when a cleanup hangs, after the cleanup timeout", async () => {
    const env = new LocalEnvironment("cleanup-hangs", quiet);
    env.registerService("sticky", () => ({ cleanup: () => new Promise(() => {}) }), { cleanupTimeoutMs: 50 });
    env.fromBatch([1]).sink(() => {});
    const job = await env.submit({ autostop: true, timeoutMs: 5000 });
    expect(await job.status()).toMatchObject({ state: "finished", services: 0 });
  });

  it("fails a call to an unknown service with a message naming it", async () => {
    const env = new LocalEnvironment("unknown-service", quiet);
    env.registerService("known", () => ({ ping: () => "pong" }));
    env.fromBatch([1]).map((x, ctx) => ctx.callService("nope", "ping"), { name: "Caller" }).sink(() => {});
    const failure = await failureOf(env);
    expect(failure.status.error).toMatchObject({ operator: "Caller" });
    expect(failure.status.error?.message).toMatch(/service 'nope' is not registered \(registered: known\)/);
    expect((failure.cause ?? failure) instanceof Error).toBe(true);
  });

  it("fails a call to an unknown method with a message naming it", async () => {
    const env = new LocalEnvironment("unknown-method", quiet);
    env.registerService("known", () => ({ ping: () => "pong" }));
    env.fromBatch([1]).map((x, ctx) => (ctx.service("known") as any).pong()).sink(() => {});
    const failure = await failureOf(env);
    expect(failure.status.error?.message).toMatch(/service 'known' has no method 'pong' \(methods: ping\)/);
  });

  it("times out a service call that hangs", async () => {
    const env = new LocalEnvironment("call-hangs", quiet);
    env.registerService("hang", () => ({ forever: () => new Promise(() => {}) }));
    let caught: unknown;
    env.fromBatch([1]).map(async (x, ctx) => {
      try {
        await ctx.service("hang", { timeoutMs: 30 }).forever();
      } catch (error) {
        caught = error;
      }
      return x;
    }).sink(() => {});
    await env.submit({ autostop: true, timeoutMs: 5000 });
    expect(caught).toBeInstanceOf(ServiceCallTimeoutError);
    expect((caught as Error).message).toBe("call to hang.forever() timed out after 30 ms");
  });

  it("fails the job when a function class constructor throws", async () => {
    class Picky extends MapFunction {
      constructor() {
        super();
        throw new Error("bad config");
      }
      execute(x: unknown) {
        return x;
      }
    }
    const env = new LocalEnvironment("ctor-throws", quiet);
    env.fromBatch([1]).map(Picky).sink(() => {});
    const failure = await failureOf(env);
    expect(failure.status.error).toMatchObject({ operator: "Picky", message: "bad config" });
  });

  it("fails the job when open() throws, and services are cleaned", async () => {
    let cleaned = false;
    class FailsToOpen extends MapFunction {
      open() {
        throw new Error("cannot open");
      }
      execute(x: unknown) {
        return x;
      }
    }
    const env = new LocalEnvironment("open-throws", quiet);
    env.registerService("svc", () => ({ cleanup: () => void (cleaned = true) }));
    env.fromBatch([1]).map(FailsToOpen).sink(() => {});
    const failure = await failureOf(env);
    expect(failure.status.error).toMatchObject({ operator: "FailsToOpen", message: "cannot open" });
    expect(cleaned).toBe(true);
  });

  it("gives ServiceNotFoundError for a proxy on an unknown service", async () => {
    const env = new LocalEnvironment("proxy-unknown", quiet);
    let caught: unknown;
    env.fromBatch([1]).sink((x, ctx) => {
      try {
        ctx.service("ghost");
      } catch (error) {
        caught = error;
      }
    });
    await env.submit({ autostop: true });
    expect(caught).toBeInstanceOf(ServiceNotFoundError);
    await sleep(0);
  });
});
