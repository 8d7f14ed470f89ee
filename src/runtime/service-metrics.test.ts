import { describe, expect, it } from "vitest";
import { BaseService, ServiceFactory, type Logger, type ServiceContext } from "../index.js";
import { ServiceHost } from "./service-host.js";
import { cleanMetrics, MAX_METRIC_NAME, MAX_SERVICE_METRICS, MetricsSampler } from "./service-metrics.js";

/** A logger that keeps what it was told, by level. */
function recordingLogger(): Logger & { lines: Array<[string, string]> } {
  const lines: Array<[string, string]> = [];
  const keep = (level: string) => (message: string, ...args: unknown[]) => {
    let i = 0;
    lines.push([level, message.replace(/%[sd]/g, () => String(args[i++]))]);
  };
  return { lines, debug: keep("debug"), info: keep("info"), warn: keep("warn"), error: keep("error") };
}

function context(name: string, logger: Logger): ServiceContext {
  const none = (): never => {
    throw new Error("no services in this test");
  };
  return { name, jobId: "job-1", logger, signal: new AbortController().signal, service: none, callService: none };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("cleanMetrics", () => {
  it("keeps finite numbers under valid names, the base first and published values winning", () => {
    const base = new Map([["requests", 3], ["tokens", 10]]);
    expect(cleanMetrics({ tokens: 12, ratio: 0.5 }, base)).toEqual({ metrics: { requests: 3, tokens: 12, ratio: 0.5 } });
    expect(cleanMetrics(undefined)).toEqual({ metrics: undefined });
    expect(cleanMetrics({})).toEqual({ metrics: undefined });
    // Own keys only: an inherited enumerable property is not the service's counter.
    expect(cleanMetrics(Object.assign(Object.create({ inherited: 1 }), { own: 2 }))).toEqual({ metrics: { own: 2 } });
  });

  it.each([
    [{ a: 1, b: NaN }, { a: 1 }, "value", /metric 'b' is NaN, not a finite number/],
    [{ a: 1, b: Infinity }, { a: 1 }, "value", /metric 'b' is Infinity/],
    [{ a: "7", b: 2 }, { b: 2 }, "value", /metric 'a' is a string/],
    [{ ["x".repeat(MAX_METRIC_NAME + 1)]: 1, ok: 2 }, { ok: 2 }, "name", /has 1 to 64 characters/],
    [{ "": 1 }, undefined, "name", /\(0\) is left out/],
    [[1, 2], undefined, "shape", /returned an array/],
    [null, undefined, "shape", /returned null/],
    [42, undefined, "shape", /returned number/],
  ])("leaves out what does not fit: %j", (published, kept, kind, message) => {
    const { metrics, problem } = cleanMetrics(published);
    expect(metrics).toEqual(kept);
    expect(problem).toMatchObject({ kind, message: expect.stringMatching(message) });
  });

  it(`keeps at most ${MAX_SERVICE_METRICS} metrics, in the order published`, () => {
    const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`m${i}`, i]));
    const { metrics, problem } = cleanMetrics(many);
    expect(Object.keys(metrics!)).toHaveLength(MAX_SERVICE_METRICS);
    expect(Object.keys(metrics!).at(-1)).toBe(`m${MAX_SERVICE_METRICS - 1}`);
    expect(problem).toMatchObject({ kind: "count" });
  });
});

describe("MetricsSampler", () => {
  it("says a throwing metrics() once, keeps the last good values and never throws", () => {
    const logger = recordingLogger();
    const sampler = new MetricsSampler(logger);
    let fail = false;
    let n = 0;
    const service = {
      metrics() {
        if (fail) throw new Error("counter store closed");
        return { n: ++n };
      },
    };
    expect(sampler.sample(service)).toEqual({ n: 1 });
    fail = true;
    for (let i = 0; i < 5; i++) expect(sampler.sample(service)).toEqual({ n: 1 });
    expect(logger.lines.filter(([level]) => level === "warn")).toEqual([["warn", "metrics() threw: counter store closed (said once; the job's status shows the metrics it can)"]]);
    fail = false;
    expect(sampler.sample(service)).toEqual({ n: 2 });
  });

  it("reports each kind of problem once", () => {
    const logger = recordingLogger();
    const sampler = new MetricsSampler(logger);
    for (let i = 0; i < 3; i++) sampler.sample({ metrics: () => ({ bad: NaN, ok: 1 }) });
    for (let i = 0; i < 3; i++) sampler.sample({ metrics: () => "lots" });
    expect(logger.lines.map(([, message]) => message.split(" (said once")[0])).toEqual([
      "metric 'bad' is NaN, not a finite number: it is left out",
      "metrics() returned string, not an object of numbers",
    ]);
    // A non-object is ignored: no metrics from it (nothing else was counted).
    expect(sampler.last).toBeUndefined();
  });

  it("does not await an async metrics(): a sample shows its last resolved value, one read in flight", async () => {
    const sampler = new MetricsSampler(recordingLogger());
    let reads = 0;
    let release!: () => void;
    const service = {
      metrics() {
        const read = ++reads;
        return new Promise<Record<string, number>>((resolve) => (release = () => resolve({ read })));
      },
    };
    expect(sampler.sample(service)).toBeUndefined();
    expect(sampler.sample(service)).toBeUndefined(); // the first read is still in flight: no second one
    expect(reads).toBe(1);
    release();
    await flush();
    expect(sampler.last).toEqual({ read: 1 });
    expect(sampler.sample(service)).toEqual({ read: 1 });
    expect(reads).toBe(2);
    // The final sample awaits the answer, and a late answer of an older read does not replace it.
    const older = release;
    const final = sampler.sampleFinal(service);
    release();
    expect(await final).toEqual({ read: 3 });
    older();
    await flush();
    expect(sampler.last).toEqual({ read: 3 });
  });

  it("lets no late answer of a read replace the final sample, even once metrics() is gone", async () => {
    const sampler = new MetricsSampler(recordingLogger());
    let resolve!: (value: unknown) => void;
    const service: { metrics?: () => Promise<unknown> } = { metrics: () => new Promise((r) => (resolve = r)) };
    sampler.sample(service);
    delete service.metrics; // e.g. dropped by cleanup() while the read is in flight
    expect(await sampler.sampleFinal(service)).toBeUndefined();
    resolve({ stale: 1 });
    await flush();
    expect(sampler.last).toBeUndefined();
  });

  it("reads a service's metrics property once per sample, and samples a service that gains metrics() later", async () => {
    const sampler = new MetricsSampler(recordingLogger());
    let reads = 0;
    let metrics: (() => Record<string, number>) | undefined;
    const service = {
      get metrics() {
        reads++;
        return metrics;
      },
    };
    expect(sampler.sample(service)).toBeUndefined();
    expect(reads).toBe(1);
    metrics = () => ({ hits: 2 });
    expect(sampler.sample(service)).toEqual({ hits: 2 });
    expect(reads).toBe(2);
    expect(await sampler.sampleFinal(service)).toEqual({ hits: 2 });
    expect(reads).toBe(3);
  });

  it("bounds the wait of the final sample for an async metrics() that never answers", async () => {
    const logger = recordingLogger();
    const sampler = new MetricsSampler(logger);
    const started = performance.now();
    expect(await sampler.sampleFinal({ metrics: () => new Promise(() => {}) })).toBeUndefined();
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
    // Its 1 s limit, plus whatever a loaded machine makes the timer late: not a wait for ever.
    expect(performance.now() - started).toBeLessThan(1000 + 2000);
    expect(logger.lines).toEqual([["debug", "metrics() after cleanup(): metrics() did not answer within 1000 ms"]]);
  });
});

describe("ServiceHost metrics", () => {
  class Llm extends BaseService {
    closed = false;
    ask(tokens: number): string {
      this.incrementMetric("requests");
      this.incrementMetric("tokens", tokens);
      return "ok";
    }
    metrics() {
      if (this.closed) throw new Error("closed");
      return { closed: 0, tokens: -1 }; // wins over the counted tokens: shows the override rule
    }
    cleanup() {
      this.incrementMetric("requests", 100); // a last flush counts
      this.closed = true;
    }
  }

  class Plain extends BaseService {
    ping(): string {
      return "pong";
    }
  }

  it("samples while running, without counting a call, and keeps the values after cleanup", async () => {
    const logger = recordingLogger();
    const host = new ServiceHost(new ServiceFactory("llm", Llm), context("llm", logger));
    expect(host.sampleMetrics()).toBeUndefined(); // not started
    await host.setup(1000);
    host.call("ask", [5], 1000);
    host.call("ask", [7], 1000);
    expect(host.sampleMetrics()).toEqual({ requests: 2, tokens: -1, closed: 0 });
    expect(host.calls).toBe(2);
    await host.cleanup(1000);
    // After cleanup() metrics() throws (said at debug level only): its last answer stands in for it,
    // over the counters, which include what cleanup() counted.
    expect(host.sampleMetrics()).toEqual({ requests: 102, tokens: -1, closed: 0 });
    expect(logger.lines.filter(([level]) => level === "warn")).toEqual([]);
    expect(logger.lines).toContainEqual(["debug", "metrics() after cleanup() threw: closed"]);
  });

  it("publishes incrementMetric() counters alone, the final sample after cleanup() included", async () => {
    class Counting extends BaseService {
      hit(): void {
        this.incrementMetric("hits");
      }
      cleanup() {
        this.incrementMetric("flushed", 3);
      }
    }
    const host = new ServiceHost(new ServiceFactory("c", Counting), context("c", recordingLogger()));
    await host.setup(1000);
    for (let i = 0; i < 4; i++) host.call("hit", [], 1000);
    expect(host.sampleMetrics()).toEqual({ hits: 4 });
    await host.cleanup(1000);
    expect(host.sampleMetrics()).toEqual({ hits: 4, flushed: 3 });
    expect(host.methodNames).toEqual(["hit"]); // the helpers are not service methods
  });

  it("a service that publishes nothing has no metrics; a factory object's metrics() counts too", async () => {
    const plain = new ServiceHost(new ServiceFactory("p", Plain), context("p", recordingLogger()));
    await plain.setup(1000);
    expect(plain.sampleMetrics()).toBeUndefined();
    let seen = 0;
    const factory = new ServiceFactory("f", () => ({ look: () => ++seen, metrics: () => ({ seen }) }));
    const host = new ServiceHost(factory, context("f", recordingLogger()));
    await host.setup(1000);
    host.call("look", [], 1000);
    expect(host.sampleMetrics()).toEqual({ seen: 1 });
  });
});
