import { describe, expect, it, vi } from "vitest";
import { BaseService, FlatMapFunction, LocalEnvironment, MapFunction, ServiceCallTimeoutError, SinkFunction, type Collector, type JobStatus } from "../../src/index.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const later = <T>(value: T, ms: number) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));
const quiet = { logLevel: "silent" as const };
/** Waits until `check` holds, instead of a fixed time a descheduled process may spend before the job got there. */
const until = (check: () => boolean) => vi.waitFor(() => expect(check()).toBe(true), { timeout: 10_000, interval: 2 });

// Each case here once failed; the comment says how.
describe("local mode - regressions", () => {
  it("runs two async stages in one task without hanging (a window counted a batch as gone while downstream still held it)", async () => {
    const env = new LocalEnvironment("two-async", { ...quiet, batchSize: 3 });
    const seen: number[] = [];
    env
      .fromBatch([0, 1, 2, 3, 4, 5])
      .map((x: number) => (x === 0 || x === 1 || x === 4 ? later(x, 5) : x))
      .sink((x: number) => {
        seen.push(x);
        return x === 2 ? later(undefined, 20) : undefined;
      });
    await env.submit({ autostop: true, timeoutMs: 5000 });
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("keeps what an async FlatMapFunction collects after an await (it went into an already sent batch)", async () => {
    class Split extends FlatMapFunction<number, number> {
      async execute(x: number, out: Collector<number>) {
        await sleep(1);
        out.collect(x * 10);
        out.collect(x * 10 + 1);
      }
    }
    const env = new LocalEnvironment("collector", quiet);
    const got: number[] = [];
    env.fromBatch([1, 2, 3, 4]).flatMap(Split).sink((x: number) => void got.push(x));
    await env.submit({ autostop: true, timeoutMs: 5000 });
    expect(got).toEqual([10, 11, 20, 21, 30, 31, 40, 41]);
  });

  it("ends an abort as stopped when a call honours ctx.signal and rejects (it ended failed)", async () => {
    const env = new LocalEnvironment("honours-signal", quiet);
    let called = false;
    env
      .fromBatch([1])
      .map((x: number, ctx) => ((called = true), new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(new Error("aborted"))))))
      .sink(() => {});
    const job = await env.submit();
    await until(() => called);
    expect((await job.stop({ mode: "abort" })).state).toBe("stopped");
  });

  it("lets a job that is finishing finish, when stop() arrives meanwhile (it turned stopped, and a timer held the process)", async () => {
    const env = new LocalEnvironment("stop-while-finishing", quiet);
    let cleaning = false;
    env.registerService("slow", () => ({ cleanup: () => ((cleaning = true), sleep(100)) }));
    env.fromBatch([1]).sink(() => {});
    const job = await env.submit();
    await until(() => cleaning); // the job is cleaning up its service now (20 ms later, it might still be running)
    const status = await job.stop();
    expect(status).toMatchObject({ state: "finished", services: 0 });
  });

  it("runs a future filled by a stream that does not loop back (it never finished)", async () => {
    const env = new LocalEnvironment("future-no-loop", quiet);
    const future = env.fromFuture<number>("later");
    const got: number[] = [];
    future.sink((x: number) => void got.push(x));
    env.fromBatch([1, 2, 3]).fillFuture(future);
    await env.submit({ autostop: true, timeoutMs: 5000 });
    expect(got).toEqual([1, 2, 3]);
  });

  it("closes the functions of a failing task (close() ran only on abort)", async () => {
    const closed: string[] = [];
    class Boom extends MapFunction<number, number> {
      execute(): number {
        throw new Error("boom");
      }
      close() {
        closed.push("Boom");
      }
    }
    class FileSink extends SinkFunction<number> {
      execute() {}
      close() {
        closed.push("FileSink");
      }
    }
    const env = new LocalEnvironment("close-on-fail", quiet);
    env.fromBatch([1]).map(Boom).sink(FileSink);
    await env.submit({ autostop: true }).catch(() => undefined);
    expect(closed.sort()).toEqual(["Boom", "FileSink"]);
  });

  it("honours a service's callTimeoutMs (it was ignored)", async () => {
    class Slow extends BaseService {
      work() {
        return later("late", 300);
      }
    }
    const env = new LocalEnvironment("call-timeout", quiet);
    env.registerService("slow", Slow, { callTimeoutMs: 50 });
    let caught: unknown;
    env.fromBatch([1]).map(async (x: number, ctx) => {
      await (ctx.service<Slow>("slow").work() as Promise<string>).catch((error: unknown) => (caught = error));
      return x;
    }).sink(() => {});
    await env.submit({ autostop: true, timeoutMs: 5000 });
    expect(caught).toBeInstanceOf(ServiceCallTimeoutError);
  });

  it("names the source operator when an async source throws (it named none)", async () => {
    const env = new LocalEnvironment("source-error", quiet);
    env.fromBatch(async function* mySource() {
      yield 1;
      throw new Error("source broke");
    }).sink(() => {});
    const error = (await env.submit({ autostop: true }).catch((e: unknown) => e)) as { status: { error: unknown } };
    expect(error.status.error).toMatchObject({ operator: "mySource", message: "source broke" });
  });

  it("waits out the longest timeout a timer can hold (a longer one fired at once; it is now refused)", async () => {
    const env = new LocalEnvironment("huge-timeout", quiet);
    env.fromBatch([1]).map((x: number) => later(x, 30)).sink(() => {});
    const job = await env.submit({ autostop: true, timeoutMs: 2 ** 31 - 1 });
    expect((await job.status()).state).toBe("finished");
  });

  type Declare = (env: LocalEnvironment, fail: (x: number) => unknown) => void;
  const throwers: Array<[string, Declare]> = [
    ["map", (env, fail) => env.fromBatch([1, 2, 3]).map(fail, { name: "Op" }).sink(() => {})],
    ["filter", (env, fail) => env.fromBatch([1, 2, 3]).filter(fail, { name: "Op" }).sink(() => {})],
    ["flatMap", (env, fail) => env.fromBatch([1, 2, 3]).flatMap(fail as never, { name: "Op" }).sink(() => {})],
    ["sink", (env, fail) => env.fromBatch([1, 2, 3]).sink(fail, { name: "Op" })],
    ["map with concurrency", (env, fail) => env.fromBatch([1, 2, 3]).map(fail, { name: "Op", concurrency: 4 }).sink(() => {})],
    ["map after a keyBy", (env, fail) => env.fromBatch([1, 2, 3]).keyBy((x: number) => x).map(fail, { name: "Op", parallelism: 2 }).sink(() => {})],
  ];
  // An async throw was counted twice in `errors` (a sync one once).
  it.each(throwers.flatMap(([kind, declare]) => [[`${kind}, sync`, declare, false] as const, [`${kind}, async`, declare, true] as const]))(
    "counts one error for a %s throw",
    async (_name, declare, async) => {
      const env = new LocalEnvironment("error-count", quiet);
      // Only record 2 throws, so exactly one call fails whatever the instances and the window.
      const boom = (x: number) => {
        if (x === 2) throw new Error("boom");
        return x;
      };
      declare(env, async ? async (x) => { await sleep(1); return boom(x); } : boom);
      const failure = (await env.submit({ autostop: true, timeoutMs: 5000 }).catch((e: unknown) => e)) as { status: JobStatus };
      expect(failure.status.error).toMatchObject({ operator: "Op", message: "boom" });
      expect(failure.status.operators.find((op) => op.name === "Op")?.errors).toBe(1);
    },
  );

  // An inline lambda was named after its kind only ("Map", "Map_1"), or oddly after what V8 inferred.
  it("names operators of anonymous functions by kind and position; named ones keep their name", () => {
    const env = new LocalEnvironment("names", quiet);
    const double = (x: number) => x * 2;
    const helpers = { triple: (x: number) => x * 3 };
    env
      .fromBatch([1])
      .map((x: number) => x)
      .map(double)
      .map(helpers.triple)
      .filter(function (x: number) { return x > 0; })
      .map(double.bind(null))
      .map(((x: number) => x).bind(null))
      .map(class Upper extends MapFunction<number, number> { execute(x: number) { return x; } })
      .map(new Function("x", "return x") as (x: number) => number)
      .sink(() => {});
    expect(env.pipeline.map((t) => t.name)).toEqual(["batch#0", "map#1", "double", "triple", "filter#4", "double_1", "map#6", "Upper", "map#8", "sink#9"]);
  });

  it.each(["map", "filter", "flatMap", "sink"] as const)(
    "an anonymous %s gets no receiver once its records go async: its frame was named after the runtime's stage ('MapStage.fn'), and its `this` was the stage",
    async (kind) => {
      const receivers: unknown[] = [];
      // The first record answers async, which moves the operator off the fused loop; the third throws there.
      const fn = function (this: unknown, x: number) {
        receivers.push(this);
        if (x === 3) throw new Error(`${kind} broke`);
        return x === 1 ? later(kind === "flatMap" ? [x] : x, 1) : kind === "flatMap" ? [x] : x;
      };
      const env = new LocalEnvironment(`receiver-${kind}`, quiet);
      const records = env.fromBatch([1, 2, 3]);
      if (kind === "sink") records.sink(fn);
      else (records[kind] as (f: typeof fn) => ReturnType<typeof records.map>)(fn).sink(() => {});
      const error = await env.submit({ autostop: true, timeoutMs: 5000 }).catch((e: { status: JobStatus }) => e);
      const stack = (error as { status: JobStatus }).status.error!.stack!;
      expect(stack.split("\n")[1]).toMatch(/^\s+at (fn )?\(?.*regressions\.test\.ts:\d+:\d+\)?$/);
      expect(stack).not.toMatch(/Stage\.fn\b/);
      expect(receivers).toEqual([undefined, undefined, undefined]);
    },
  );

  it("a coMap function gets no receiver: it was called as a method of the user's own array of functions ('Array.fn' frames)", async () => {
    const receivers: unknown[] = [];
    const fn = function (this: unknown, x: number) {
      receivers.push(this);
      if (x === 2) throw new Error("coMap broke");
      return x;
    };
    const env = new LocalEnvironment("receiver-coMap", quiet);
    env.fromBatch([1]).connect(env.fromBatch([2])).coMap([fn, fn]).sink(() => {});
    const error = await env.submit({ autostop: true, timeoutMs: 5000 }).catch((e: { status: JobStatus }) => e);
    const stack = (error as { status: JobStatus }).status.error!.stack!;
    expect(stack.split("\n")[1]).toMatch(/^\s+at (fn )?\(?.*regressions\.test\.ts:\d+:\d+\)?$/);
    expect(new Set(receivers)).toEqual(new Set([undefined]));
  });
});
