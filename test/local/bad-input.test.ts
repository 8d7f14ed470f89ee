import { describe, expect, it } from "vitest";
import {
  BaseService,
  JobFailedError,
  LocalEnvironment,
  type JobHandle,
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
    ["a non-function operator", (env: LocalEnvironment) => env.fromBatch([1]).map(42 as never), /operator 'map#1' needs a function/],
    ["an unsupported source", (env: LocalEnvironment) => env.fromBatch(42 as never), /source 'batch#0' needs/],
    ["a join on unkeyed streams", (env: LocalEnvironment) => env.fromBatch([1]).connect(env.fromBatch([2])).join(() => []), /not keyed/],
    ["coMap with too few functions", (env: LocalEnvironment) => env.fromBatch([1]).connect(env.fromBatch([2])).coMap([(x) => x]), /1 functions for 2/],
    ["a class without execute", (env: LocalEnvironment) => env.fromBatch([1]).map(class Nothing { other() {} } as never), /no execute\(\)/],
    ["parallelism 0", (env: LocalEnvironment) => env.fromBatch([1]).map((x) => x, { parallelism: 0 }), /parallelism must be a positive integer/],
    // It killed the process with a V8 out-of-memory error ("invalid table size"), and submit never settled.
    ["parallelism 1e9", (env: LocalEnvironment) => env.fromBatch([1]).map((x) => x, { parallelism: 1e9, name: "Wide" }), /operator 'Wide': parallelism 1000000000 is above the limit of 1024/],
    ["concurrency 1e9", (env: LocalEnvironment) => env.fromBatch([1]).map((x) => x, { concurrency: 1e9, name: "Deep" }), /operator 'Deep': concurrency 1000000000 is above the limit of 10000/],
    ["an empty operator name", (env: LocalEnvironment) => env.fromBatch([1]).map((x) => x, { name: "" }), /an operator's name must be a non-empty string, got ""/],
    ["a numeric operator name", (env: LocalEnvironment) => env.fromBatch([1]).map((x) => x, { name: 7 as never }), /an operator's name must be a non-empty string, got 7/],
    ["a string parallelism", (env: LocalEnvironment) => env.fromBatch([1]).map((x) => x, { parallelism: "2" as never, name: "Str" }), /operator 'Str': parallelism must be a positive integer, got "2"/],
    ["a MapFunction class given to filter", (env: LocalEnvironment) => env.fromBatch([1]).filter(class Doubler extends MapFunction { execute(x: number) { return x * 2; } } as never), /filter needs a FilterFunction class \(or a plain function\), but Doubler is a MapFunction/],
    ["a SourceFunction class given to fromBatch", (env: LocalEnvironment) => env.fromBatch(class Ticks extends SourceFunction { execute() { return 1; } } as never), /Ticks is a SourceFunction, not a BatchFunction \(fromSource\(\) takes a SourceFunction\)/],
    ["filling a stream that is not a future", (env: LocalEnvironment) => env.fromBatch([1]).fillFuture(env.fromBatch([2])), /not a fromFuture placeholder/],
  ])("rejects %s when it is declared", (_name, declare, message) => {
    const env = new LocalEnvironment("bad", quiet);
    expect(() => declare(env)).toThrow(PipelineDefinitionError);
    expect(() => declare(new LocalEnvironment("bad", quiet))).toThrow(message);
  });

  // They were accepted: maxConcurrency NaN made every call wait forever, 0 and -1 acted as 1.
  it.each<[string, Record<string, unknown>, RegExp]>([
    ["maxConcurrency NaN", { maxConcurrency: Number.NaN }, /service 'kv': maxConcurrency must be a whole number from 1 to 10000, got NaN/],
    ["maxConcurrency 0", { maxConcurrency: 0 }, /maxConcurrency must be a whole number .* got 0/],
    ["maxConcurrency '2'", { maxConcurrency: "2" }, /maxConcurrency must be a whole number .* got "2"/],
    ["callTimeoutMs -1", { callTimeoutMs: -1 }, /service 'kv': callTimeoutMs must be a positive number of milliseconds/],
    ["setupTimeoutMs NaN", { setupTimeoutMs: Number.NaN }, /setupTimeoutMs must be a positive number/],
    ["args not an array", { args: 3 }, /args must be an array, got 3/],
  ])("rejects service option %s when it is registered", (_name, options, message) => {
    const env = new LocalEnvironment("bad", quiet);
    expect(() => env.registerService("kv", class Kv extends BaseService {}, options as never)).toThrow(PipelineDefinitionError);
    expect(() => new LocalEnvironment("bad", quiet).registerService("kv", class Kv extends BaseService {}, options as never)).toThrow(message);
  });

  // They threw plain TypeErrors, unlike every other mistake in a pipeline's declaration.
  it.each<[string, (env: LocalEnvironment) => unknown, RegExp]>([
    ["a number as the service", (env) => env.registerService("svc", 42 as never), /service 'svc' must be a class or a factory function, got number/],
    ["an empty name", (env) => env.registerService("", class Kv extends BaseService {}), /a service needs a non-empty name/],
    ["a factory that is not a ServiceFactory", (env) => env.registerServiceFactory("svc", {} as never), /registerServiceFactory\('svc'\) needs a ServiceFactory/],
  ])("rejects %s when it is registered, as a PipelineDefinitionError", (_name, register, message) => {
    const error = (() => {
      try {
        register(new LocalEnvironment("bad", quiet));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(PipelineDefinitionError);
    expect((error as PipelineDefinitionError).code).toBe("E_PIPELINE_DEFINITION");
    expect((error as Error).message).toMatch(message);
  });

  // They were accepted: a string timeout was ignored, 1e12 overflowed the timer and fired at once.
  it.each<[string, unknown]>([["-1", -1], ["0", 0], ["NaN", Number.NaN], ["'5'", "5"], ["1e12", 1e12]])(
    "ctx.service(name, { timeoutMs: %s }) fails the job naming the problem",
    async (_name, timeoutMs) => {
      const env = new LocalEnvironment("bad-call", quiet);
      env.registerService("kv", class Kv extends BaseService { get() { return 1; } });
      env.fromBatch([1]).map((x, ctx) => ctx.service("kv", { timeoutMs } as never), { name: "Caller" }).sink(() => {});
      const failure = await failureOf(env);
      expect(failure.status.error?.operator).toBe("Caller");
      expect(failure.status.error?.message).toMatch(/ctx.service\('kv', options\): timeoutMs must be a positive number of milliseconds/);
    },
  );

  // They were accepted locally (the JobManager refused them): -1 and 0 timed out at once, NaN never.
  it.each<[string, unknown, RegExp]>([
    ["timeoutMs -1", { timeoutMs: -1 }, /submit of 'bad-submit': timeoutMs must be a positive number of milliseconds up to 2147483647, got -1/],
    ["timeoutMs 0", { timeoutMs: 0 }, /timeoutMs must be a positive number .* got 0/],
    ["timeoutMs NaN", { timeoutMs: NaN }, /timeoutMs must be a positive number .* got NaN/],
    ["timeoutMs Infinity", { timeoutMs: Infinity }, /timeoutMs must be a positive number .* got Infinity/],
    ["a string timeoutMs", { timeoutMs: "100" }, /timeoutMs must be a positive number .* got "100"/],
    ["a timeoutMs beyond what a timer can wait", { timeoutMs: 2 ** 31 }, /up to 2147483647, got 2147483648/],
    ["a string autostop", { autostop: "yes" }, /autostop must be a boolean, got "yes"/],
    ["a numeric keepServices", { keepServices: 1 }, /keepServices must be a boolean, got 1/],
    ["options that are not an object", 5, /options must be an object, got 5/],
  ])("rejects submit with %s, before anything runs", async (_name, options, message) => {
    const env = new LocalEnvironment("bad-submit", quiet);
    let ran = false;
    env.fromBatch([1]).sink(() => void (ran = true));
    const error = await env.submit(options as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PipelineDefinitionError);
    expect((error as Error).message).toMatch(message);
    expect(ran).toBe(false);
    expect(env.jobId).toBeUndefined();
  });

  it.each<[string, (job: JobHandle) => Promise<unknown>, RegExp]>([
    ["wait({ timeoutMs: -5 })", (job) => job.wait({ timeoutMs: -5 }), /wait\(\): timeoutMs must be a positive number of milliseconds up to 2147483647, got -5/],
    ["wait({ timeoutMs: NaN })", (job) => job.wait({ timeoutMs: NaN }), /wait\(\): timeoutMs .* got NaN/],
    ["stop({ mode: 'kill' })", (job) => job.stop({ mode: "kill" as never }), /stop\(\): mode must be "drain" or "abort", got "kill"/],
    ["stop({ graceMs: -1 })", (job) => job.stop({ graceMs: -1 }), /stop\(\): graceMs must be a number of milliseconds from 0 to 2147483647, got -1/],
    ["stop({ graceMs: '10' })", (job) => job.stop({ graceMs: "10" as never }), /stop\(\): graceMs .* got "10"/],
  ])("rejects %s and leaves the job running", async (_name, call, message) => {
    const env = new LocalEnvironment("bad-handle-call", quiet);
    env.fromSource(async function* () {
      for (;;) {
        await sleep(2);
        yield 1;
      }
    }).sink(() => {});
    const job = await env.submit();
    await expect(call(job)).rejects.toThrow(TypeError);
    await expect(call(job)).rejects.toThrow(message);
    expect((await job.status()).state).toBe("running");
    await env.stop();
  });

  // It failed with "Maximum call stack size exceeded" and named no operator.
  it("fails a keyBy whose key has a circular reference, naming the operator", async () => {
    const env = new LocalEnvironment("circular-key", quiet);
    env
      .fromBatch([1, 2, 3])
      .keyBy((x: number) => {
        const key: Record<string, unknown> = { x };
        key.self = key;
        return key;
      }, { name: "Loopy" })
      .map((x: number) => x, { parallelism: 2 })
      .sink(() => {});
    const failure = await failureOf(env);
    expect(failure.status.error).toMatchObject({ operator: "Loopy" });
    expect(failure.status.error?.message).toMatch(/keyBy 'Loopy' returned a key with a circular reference/);
  });

  it("hashes a key that repeats an object without a cycle", async () => {
    const env = new LocalEnvironment("shared-key", quiet);
    const shared = { region: "eu" };
    const got: number[] = [];
    env.fromBatch([1, 2, 3]).keyBy((x: number) => ({ a: shared, b: shared, x: x % 2 })).map((x: number) => x, { parallelism: 2 }).sink((x: number) => void got.push(x));
    await env.submit({ autostop: true, timeoutMs: 5000 });
    expect(got.sort()).toEqual([1, 2, 3]);
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
    // The setup's own line, not only the runtime's wrapper (it had no frame of the user's).
    expect(failure.stack).toMatch(/\n\s+at \S*setup \(.*bad-input\.test\.ts:\d+:\d+\)/);
    expect(failure.status.error?.stack).toMatch(/caused by Error: no database\n\s+at \S*setup \(/);
  });

  it("shows the user's line when a service's constructor throws", async () => {
    const env = new LocalEnvironment("constructor-throws", quiet);
    env.registerService("broken", class Broken extends BaseService {
      constructor() {
        super();
        throw new Error("bad config");
      }
    });
    env.fromBatch([1]).sink(() => {});
    const failure = await failureOf(env);
    expect(failure.status.error?.message).toMatch(/service 'broken' failed to start: bad config/);
    expect(failure.stack).toMatch(/\n\s+at new Broken \(.*bad-input\.test\.ts:\d+:\d+\)/);
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
