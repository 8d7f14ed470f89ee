/** SAGE local-mode peers, written as a user of the public API would write them. */
import { BaseService, LocalEnvironment, MapFunction, type ServiceProxy } from "../../src/index.js";
import { CountingSource, RunningSumFunction } from "../workloads/sage-functions.js";
import { Checksum } from "../lib/checksum.js";
import type { PrepareFn } from "../lib/types.js";
import { AUTOSTOP_REPEATS, AUTOSTOP_SERVICES, AUTOSTOP_WARMUP } from "../workloads/autostop.js";
import { RunningSum, w1Filter, w1Key, w1Map, w1Source } from "../workloads/w1.js";
import { createW2Agent, fetchW2, W2_CONCURRENCY, W2Sink, w2Source, type W2Reply } from "../workloads/w2.js";
import { KvService } from "../workloads/kv-service.js";
import { w3Key } from "../workloads/w3.js";

/** Keeps SAGE's own log lines (job started/finished) out of the benchmark output. */
const ENV_CONFIG = { logLevel: "warn" } as const;

/** W1 with the source given as `source`; the rest of the pipeline is the same. */
function w1Sage(source: "generator" | "batchFunction"): PrepareFn {
  return () => ({
    async run(n) {
      const sink = new Checksum();
      const env = new LocalEnvironment("bench_w1", ENV_CONFIG);
      const records = source === "generator" ? env.fromBatch(() => w1Source(n)) : env.fromBatch(CountingSource, { args: [n] });
      records
        .map(w1Map)
        .filter(w1Filter)
        .keyBy(w1Key)
        .map(RunningSumFunction)
        .sink((v: number) => sink.add(v));
      await env.submit({ autostop: true });
      await env.close();
      return { checksum: sink.value };
    },
  });
}

/** W1 from a generator-function source. */
export const w1SageGenerator = w1Sage("generator");
/** W1 from a BatchFunction class source. */
export const w1SageBatchFunction = w1Sage("batchFunction");

/**
 * W1 as a user writes it first: a generator function inline as the source and plain lambdas,
 * the running sum's state held by the closure.
 */
export const w1SageNatural: PrepareFn = () => ({
  async run(n) {
    const sink = new Checksum();
    const state = new RunningSum();
    const env = new LocalEnvironment("bench_w1", ENV_CONFIG);
    env
      .fromBatch(function* () {
        for (let i = 0; i < n; i++) yield i;
      })
      .map((x: number) => x * 3 + 1)
      .filter((y: number) => (y & 1) === 0)
      .keyBy((y: number) => (y >>> 1) & 1023)
      .map((y: number) => state.add(y))
      .sink((v: number) => sink.add(v));
    await env.submit({ autostop: true });
    await env.close();
    return { checksum: sink.value };
  },
});

/** W2: fromBatch(generator).map(fetch, { concurrency: 64 }).sink(...). */
export const w2Sage: PrepareFn = ({ httpPort }) => {
  const agent = createW2Agent();
  const port = httpPort!;
  return {
    async run(n) {
      const sink = new W2Sink();
      const env = new LocalEnvironment("bench_w2", ENV_CONFIG);
      env
        .fromBatch(() => w2Source(n))
        .map((x: number) => fetchW2(agent, port, x), { concurrency: W2_CONCURRENCY })
        .sink((reply: W2Reply) => sink.add(reply));
      await env.submit({ autostop: true });
      await env.close();
      return { checksum: sink.checksum, info: { inOrder: sink.inOrder } };
    },
    dispose: () => agent.destroy(),
  };
};

/** get + put through a service proxy: uses a synchronous answer directly, awaits otherwise. */
function kvStep(kv: ServiceProxy<KvService>, x: number): number | Promise<number> {
  const key = w3Key(x);
  const got = kv.get(key);
  if (got instanceof Promise) return kvStepAsync(kv, x, got);
  const value = (got ?? 0) + x;
  const put = kv.put(key, value);
  return put instanceof Promise ? put.then(() => value) : value;
}

async function kvStepAsync(kv: ServiceProxy<KvService>, x: number, got: Promise<number | undefined>): Promise<number> {
  const key = w3Key(x);
  const value = ((await got) ?? 0) + x;
  await kv.put(key, value);
  return value;
}

/** W3's map as a function class holding the proxy from `this.service("kv")`. */
class KvMapFunction extends MapFunction<number, number | Promise<number>> {
  #kv: ServiceProxy<KvService> | undefined;

  execute(x: number): number | Promise<number> {
    return kvStep((this.#kv ??= this.service<KvService>("kv")), x);
  }
}

/** W3 with the map as `form`: a class keeping its proxy, or a plain function asking `ctx.service` per record. */
function w3Sage(form: "class" | "ctx"): PrepareFn {
  return () => ({
    async run(n) {
      const sink = new Checksum();
      const env = new LocalEnvironment("bench_w3", ENV_CONFIG);
      env.registerService("kv", KvService);
      const records = env.fromBatch(CountingSource, { args: [n] });
      const mapped = form === "class" ? records.map(KvMapFunction) : records.map((x: number, ctx) => kvStep(ctx.service<KvService>("kv"), x));
      mapped.sink((v: number) => sink.add(v));
      await env.submit({ autostop: true });
      await env.close();
      return { checksum: sink.value };
    },
  });
}

/** W3 through a MapFunction class caching `this.service("kv")`. */
export const w3SageClass = w3Sage("class");
/** W3 through a plain function calling `ctx.service("kv")` per record. */
export const w3SageCtx = w3Sage("ctx");

/**
 * W3 as a user writes it first: a generator function inline as the source and a plain lambda
 * asking `ctx.service("kv")` for each call. A synchronous answer is used directly, a Promise
 * (busy mailbox, remote service) is awaited.
 */
export const w3SageNatural: PrepareFn = () => ({
  async run(n) {
    const sink = new Checksum();
    const env = new LocalEnvironment("bench_w3", ENV_CONFIG);
    env.registerService("kv", KvService);
    env
      .fromBatch(function* () {
        for (let i = 0; i < n; i++) yield i;
      })
      .map((x: number, ctx) => {
        const key = x & 4095;
        const got = ctx.service<KvService>("kv").get(key);
        if (got instanceof Promise) return got.then((v) => putThen(ctx.service<KvService>("kv"), key, (v ?? 0) + x));
        const value = (got ?? 0) + x;
        const put = ctx.service<KvService>("kv").put(key, value);
        return put instanceof Promise ? put.then(() => value) : value;
      })
      .sink((v: number) => sink.add(v));
    await env.submit({ autostop: true });
    await env.close();
    return { checksum: sink.value };
  },
});

/**
 * The natural W3 pipeline with the key-value object held by the lambda and called directly, no
 * service: beside w3SageNatural, it shows what the service layer (lookups, proxy calls, the
 * service's lifecycle) costs, and beside the ceiling, what the pipeline costs.
 */
export const w3SageNaturalDirect: PrepareFn = () => ({
  async run(n) {
    const sink = new Checksum();
    const kv = new KvService();
    const env = new LocalEnvironment("bench_w3", ENV_CONFIG);
    env
      .fromBatch(function* () {
        for (let i = 0; i < n; i++) yield i;
      })
      .map((x: number) => {
        const key = x & 4095;
        const value = (kv.get(key) ?? 0) + x;
        kv.put(key, value);
        return value;
      })
      .sink((v: number) => sink.add(v));
    await env.submit({ autostop: true });
    await env.close();
    return { checksum: sink.value };
  },
});

async function putThen(kv: ServiceProxy<KvService>, key: number, value: number): Promise<number> {
  await kv.put(key, value);
  return value;
}

/** Cleanups finished so far, to check that autostop resolved only after all of them. */
let cleanupsDone = 0;

/** A service with trivial async setup and cleanup and one sync method. */
class TrivialService extends BaseService {
  #touched = 0;

  async setup(): Promise<void> {
    await Promise.resolve();
  }

  async cleanup(): Promise<void> {
    await Promise.resolve();
    cleanupsDone++;
  }

  /** Counts a call and echoes `x`. */
  touch(x: number): number {
    this.#touched++;
    return x;
  }
}

/**
 * Autostop latency: each repetition builds a fresh environment with three services, runs a small
 * bounded pipeline, and measures last-record-in-sink to `submit({ autostop: true })` resolving.
 */
export const autostopSage: PrepareFn = () => ({
  async run(n) {
    const latencies: number[] = [];
    const totals: number[] = [];
    let checksum = "";
    const items = Array.from({ length: n }, (_, i) => i);
    for (let rep = 0; rep < AUTOSTOP_WARMUP + AUTOSTOP_REPEATS; rep++) {
      const sink = new Checksum();
      let lastAt = 0;
      const env = new LocalEnvironment("bench_autostop", ENV_CONFIG);
      for (const name of AUTOSTOP_SERVICES) env.registerService(name, TrivialService);
      env
        .fromBatch(items)
        .map((x: number, ctx) => ctx.service<TrivialService>("alpha").touch(x))
        .sink((x: number, ctx) => {
          void ctx.service<TrivialService>("beta").touch(1);
          sink.add(x);
          lastAt = performance.now();
        });
      const cleanupsBefore = cleanupsDone;
      const submittedAt = performance.now();
      const job = await env.submit({ autostop: true });
      const resolvedAt = performance.now();
      const status = await job.status();
      const cleanups = cleanupsDone - cleanupsBefore;
      if (status.state !== "finished" || status.services !== 0 || status.tasks !== 0 || status.isRunning || cleanups !== AUTOSTOP_SERVICES.length) {
        throw new Error(`autostop resolved before the job was cleaned up: ${JSON.stringify({ state: status.state, services: status.services, tasks: status.tasks, cleanups })}`);
      }
      await env.close();
      if (rep < AUTOSTOP_WARMUP) continue;
      latencies.push(resolvedAt - lastAt);
      totals.push(resolvedAt - submittedAt);
      if (checksum !== "" && checksum !== sink.value) throw new Error(`autostop: checksum changed between repetitions (${checksum} vs ${sink.value})`);
      checksum = sink.value;
    }
    return { checksum, samplesMs: latencies, info: { submitToResolveMs: totals } };
  },
});
