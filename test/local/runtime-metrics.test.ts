/**
 * Local mode - the runtime's own numbers in a job's status: per operator instance the rates,
 * calls in flight, async latency, inbox backlog and where the task's time goes (busy, idle,
 * backpressured); per source its progress; per service its errors, running and queued calls and
 * call latency. Each case builds a pipeline whose shape decides what the numbers must say.
 */
import { describe, expect, it } from "vitest";
import { BaseService, BatchFunction, LocalEnvironment, type JobStatus, type OperatorStatus } from "../../src/index.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Every status the job's events carried while it ran, and its final one. */
async function watch(env: LocalEnvironment): Promise<{ running: JobStatus[]; final: JobStatus }> {
  const job = await env.submit();
  const running: JobStatus[] = [];
  for await (const event of job.events()) if (event.type === "metrics") running.push(event.status);
  return { running, final: await job.status() };
}

const op = (status: JobStatus, name: string): OperatorStatus => status.operators.find((o) => o.name === name)!;

describe("local mode - runtime metrics", () => {
  it("an async map shows its calls in flight (at most its concurrency) and its per-record latency", async () => {
    const env = new LocalEnvironment("latency", { logLevel: "silent", metricsIntervalMs: 50 });
    env
      .fromBatch(range(300), { name: "src" })
      .map(async (x: number) => (await sleep(5), x), { name: "call", concurrency: 4, parallelism: 2 })
      .sink(() => {}, { name: "out" });
    const { running, final } = await watch(env);
    const inFlight = running.map((s) => op(s, "call").inFlight ?? 0);
    expect(Math.max(...inFlight)).toBeGreaterThan(0);
    expect(Math.max(...inFlight)).toBeLessThanOrEqual(2 * 4);
    const call = op(final, "call");
    expect(call.instances!.map((i) => i.index)).toEqual([0, 1]);
    expect(call.latency!.count).toBe(300);
    // a timer of 5 ms never fires early; the histogram is within 1.6%
    expect(call.latency!.p50Ms).toBeGreaterThanOrEqual(5 * 0.98);
    expect(call.latency!.maxMs).toBeGreaterThanOrEqual(call.latency!.p99Ms);
    expect(call.instances!.reduce((n, i) => n + i.latency!.count, 0)).toBe(300);
    // ended: nothing in flight, no rates
    expect(call).toMatchObject({ inFlight: 0, recordsInPerSecond: 0, recordsOutPerSecond: 0 });
    expect(op(final, "src").latency).toBeUndefined(); // sync operators have no call latency
  });

  it("a slow operator is busy, the one feeding it is backpressured and its inbox is full", async () => {
    const env = new LocalEnvironment("backpressure", { logLevel: "silent", metricsIntervalMs: 100, batchSize: 4, channelCapacity: 4 });
    env
      .fromBatch(range(600), { name: "src" })
      .map((x: number) => x, { name: "fast", parallelism: 2 })
      .map(async (x: number) => (await sleep(2), x), { name: "slow", concurrency: 1 })
      .sink(() => {}, { name: "out" });
    // fast (2 instances) and slow (1) run in tasks of their own, a channel between them.
    const { running } = await watch(env);
    const late = running.slice(Math.floor(running.length / 2));
    expect(late.length).toBeGreaterThan(2);
    const fast = late.map((s) => op(s, "fast"));
    const slow = late.map((s) => op(s, "slow"));
    expect(Math.max(...fast.map((o) => o.backPressuredMsPerSecond ?? 0))).toBeGreaterThan(500);
    expect(Math.max(...slow.map((o) => o.busyMsPerSecond ?? 0))).toBeGreaterThan(500);
    const fills = slow.map((o) => o.instances![0]!.backlogFill);
    expect(Math.max(...fills)).toBeGreaterThanOrEqual(0.5);
    expect(Math.max(...slow.map((o) => o.backlog ?? 0))).toBeGreaterThan(0);
  });

  it("an operator waiting for a slow source is idle, and rates follow what flows", async () => {
    const env = new LocalEnvironment("idle", { logLevel: "silent", metricsIntervalMs: 100 });
    env
      .fromSource(async function* () {
        for (let i = 0; i < 60; i++) {
          await sleep(20);
          yield i;
        }
      }, { name: "trickle" })
      .map((x: number) => x, { name: "work", parallelism: 2 })
      .sink(() => {}, { name: "out" });
    const { running, final } = await watch(env);
    const late = running.slice(Math.floor(running.length / 3));
    const work = late.map((s) => op(s, "work"));
    expect(Math.min(...work.map((o) => Math.max(...o.instances!.map((i) => i.idleMsPerSecond))))).toBeGreaterThan(500);
    expect(Math.max(...work.map((o) => o.busyMsPerSecond ?? 1000))).toBeLessThan(500);
    // about 50 records/s (20 ms apart, plus timer slack): well above 10, never above the 50 the source allows
    const rates = late.map((s) => op(s, "trickle").recordsOutPerSecond ?? 0);
    expect(Math.max(...rates)).toBeGreaterThan(10);
    expect(Math.max(...rates)).toBeLessThanOrEqual(55);
    expect(op(final, "trickle").progress).toBeUndefined(); // a generator does not know its size
  });

  it("a source that knows its size reports its progress: arrays by themselves, functions through progress()", async () => {
    class Counted extends BatchFunction<number> {
      #next = 0;
      execute() {
        return this.#next < 40 ? this.#next++ : undefined;
      }
      override progress() {
        return { done: this.#next * 10, total: 400, unit: "bytes" as const };
      }
    }
    const env = new LocalEnvironment("progress", { logLevel: "silent", metricsIntervalMs: 20, batchSize: 50 });
    env.fromBatch(range(500), { name: "array" }).map(async (x: number) => (await sleep(1), x)).sink(() => {});
    env.fromBatch(Counted, { name: "counted" }).sink(() => {});
    const { running, final } = await watch(env);
    const seen = running.map((s) => op(s, "array").progress!.done);
    expect(seen.some((done) => done > 0 && done < 500)).toBe(true);
    expect(op(final, "array").progress).toEqual({ done: 500, total: 500, unit: "records" });
    expect(op(final, "counted").progress).toEqual({ done: 400, total: 400, unit: "bytes" });
  });

  it("a service shows its errors, calls running and queued, and call latency", async () => {
    class Slow extends BaseService {
      async work(x: number) {
        await sleep(10);
        if (x % 10 === 0) throw new Error("bad record");
        return x;
      }
      now(x: number) {
        return x;
      }
    }
    const env = new LocalEnvironment("service-calls", { logLevel: "silent", metricsIntervalMs: 20 });
    env.registerService("slow", Slow); // one call at a time: the rest queue
    env
      .fromBatch(range(40))
      .map(async (x: number, ctx) => {
        const slow = ctx.service<Slow>("slow");
        slow.now(x);
        try {
          return await slow.work(x);
        } catch {
          return -1;
        }
      }, { concurrency: 8 })
      .sink(() => {});
    const { running, final } = await watch(env);
    const details = running.map((s) => s.serviceDetails![0]!);
    expect(Math.max(...details.map((d) => d.inFlight ?? 0))).toBe(1);
    expect(Math.max(...details.map((d) => d.queued ?? 0))).toBeGreaterThan(0);
    const service = final.serviceDetails![0]!;
    expect(service).toMatchObject({ calls: 80, errors: 4, inFlight: 0, queued: 0 });
    // queued calls count their wait: the median call waited for several before it
    expect(service.latency!.p99Ms).toBeGreaterThanOrEqual(10 * 0.98);
    // every answered call that waited (36 answered work() calls, and the now() calls that found the
    // service busy and queued); a now() answered at once by the idle service is not timed
    expect(service.latency!.count).toBeGreaterThanOrEqual(36);
    expect(service.latency!.count).toBeLessThanOrEqual(76);
  });

  it("an ended task counts neither busy nor idle while the rest of the job goes on", async () => {
    const env = new LocalEnvironment("ended-task", { logLevel: "silent", metricsIntervalMs: 100 });
    env
      .fromBatch(range(40), { name: "src" })
      .map((x: number) => x, { name: "quick" })
      .map(async (x: number) => (await sleep(25), x), { name: "slow", parallelism: 2 })
      .sink(() => {}, { name: "out" });
    const { running } = await watch(env);
    // the source task read its 40 records at once and ended; slow takes about half a second more
    const late = running.slice(Math.floor(running.length / 2));
    expect(late.length).toBeGreaterThan(1);
    for (const status of late) {
      expect(op(status, "quick").busyMsPerSecond).toBe(0);
      expect(op(status, "src").instances![0]!.idleMsPerSecond).toBe(0);
    }
    expect(Math.max(...late.map((s) => op(s, "slow").busyMsPerSecond ?? 0))).toBeGreaterThan(500);
  });

  it("a call that timed out counts one error and no latency, whatever it does later", async () => {
    class Late extends BaseService {
      async answer(fail: boolean) {
        await sleep(120);
        if (fail) throw new Error("late failure");
        return 1;
      }
    }
    const env = new LocalEnvironment("timeouts", { logLevel: "silent" });
    env.registerService("late", Late, { maxConcurrency: 4 });
    env
      .fromBatch([true, false])
      .map(async (fail: boolean, ctx) => Promise.resolve(ctx.service<Late>("late", { timeoutMs: 40 }).answer(fail)).catch(() => -1), { concurrency: 2 })
      .sink(() => {});
    const job = await env.submit();
    await job.wait();
    await sleep(200); // both late outcomes have come by now
    const service = (await job.status()).serviceDetails![0]!;
    expect(service.errors).toBe(2);
    expect(service.latency).toBeUndefined();
  });

  it("times the first 1,024 async calls of an instance, then one in eight, each sample standing for eight", async () => {
    const env = new LocalEnvironment("sampled", { logLevel: "silent" });
    env.fromBatch(range(5000), { name: "src" }).map(async (x: number) => x, { name: "call", concurrency: 4 }).sink(() => {});
    const { final } = await watch(env);
    const latency = op(final, "call").latency!;
    // 1,024 exact, then every eighth of the other 3,976 (497 samples) counted eight times
    expect(latency.count).toBe(1024 + 497 * 8);
    expect(latency.buckets!.at(-1)).toBeLessThanOrEqual(latency.count);
  });

  it("lists instances for whole operators up to 1,024 in one status; beyond, aggregates only", async () => {
    const env = new LocalEnvironment("wide", { logLevel: "silent" });
    env
      .fromBatch(range(10), { name: "src" })
      .map((x: number) => x, { name: "wide", parallelism: 1000 })
      .map((x: number) => x, { name: "wider", parallelism: 100 })
      .sink(() => {}, { name: "out" });
    const { final } = await watch(env);
    expect(op(final, "src").instances).toHaveLength(1);
    expect(op(final, "wide").instances).toHaveLength(1000);
    expect(op(final, "wider").instances).toBeUndefined(); // 1,001 listed already
    expect(op(final, "wider")).toMatchObject({ recordsIn: 10, parallelism: 100 });
    expect(op(final, "out").instances).toHaveLength(1);
  });

  it("the status carries the graph's edges", async () => {
    const env = new LocalEnvironment("edges", { logLevel: "silent" });
    env
      .fromBatch(range(5), { name: "src" })
      .keyBy((x: number) => x % 2, { name: "key" })
      .map((x: number) => x, { name: "per-key", parallelism: 2 })
      .sink(() => {}, { name: "out" });
    const { final } = await watch(env);
    expect(final.edges).toEqual([
      { from: "src", to: "key", partition: "forward", chained: true },
      { from: "key", to: "per-key", partition: "hash" },
      { from: "per-key", to: "out", partition: "rebalance" },
    ]);
  });
});
