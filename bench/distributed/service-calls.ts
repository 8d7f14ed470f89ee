/**
 * Remote service calls against raw nats.js request/reply, on one broker in one process run
 * (`node --import tsx bench/distributed/service-calls.ts`):
 * - p50 latency of sequential calls: a SAGE remote call (NatsServiceTransport -> ServiceEndpoint ->
 *   ServiceHost, codec both ways) vs `nc.request()` answered by a plain subscription that echoes;
 * - throughput with 64 calls in flight, the same two ways.
 * Caller and responder are two connections of this process, for both. Rounds alternate raw and
 * SAGE so background noise hits both; the report shows medians and the ratios to raw.
 * Targets (issue 7): p50 <= 1.5x raw, throughput >= 0.7x raw. With `--json`, the medians also
 * go out as one line (bench/distributed/run.ts reads it).
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { BaseService, ServiceFactory } from "../../src/index.js";
import { encode } from "../../src/cluster/codec.js";
import { startNatsServer } from "../../src/cluster/nats-server-process.js";
import { NatsServiceTransport } from "../../src/cluster/nats-service-transport.js";
import { ServiceEndpoint } from "../../src/cluster/service-endpoint.js";
import { LocalServiceTransport } from "../../src/runtime/local-service-transport.js";
import { startServiceHost } from "../../test/support/service-hosts.js";
import { median, percentile } from "../lib/stats.js";

const rounds = Number(process.env.SAGE_BENCH_ROUNDS ?? 5);
const sequential = Number(process.env.SAGE_BENCH_SEQUENTIAL ?? 5000);
const concurrentCalls = Number(process.env.SAGE_BENCH_CALLS ?? 50_000);
const IN_FLIGHT = 64;
/** Prefix of the JSON line `--json` adds. */
const JSON_MARKER = "@@service-calls ";
const TIMEOUT_MS = 10_000;

/** The remote service: a sync lookup, so the transport is what is measured. */
class Lookup extends BaseService {
  readonly #table = new Map<number, number>(Array.from({ length: 1024 }, (_, i) => [i, i * 7]));
  get(key: number): number | undefined {
    return this.#table.get(key & 1023);
  }
}

/** One way of making a call: resolves with the answer. */
type Call = (i: number) => Promise<unknown>;

async function latencies(call: Call, count: number): Promise<number[]> {
  const samples: number[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await call(i);
    samples[i] = performance.now() - started;
  }
  return samples;
}

/** Calls per second with `IN_FLIGHT` calls outstanding at all times. */
async function throughput(call: Call, count: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < count) await call(next++);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return count / ((performance.now() - started) / 1000);
}

async function setUpSage(serving: NatsConnection, calling: NatsConnection) {
  const jobId = "bench";
  const factory = new ServiceFactory("lookup", Lookup);
  const host = await startServiceHost(factory, jobId);
  const endpoint = await ServiceEndpoint.start(serving, { jobId, host, worker: "bench" });
  const transport = new NatsServiceTransport(calling, jobId, new LocalServiceTransport(), ["lookup"]);
  const proxy = transport.proxy("lookup", { timeoutMs: TIMEOUT_MS }) as unknown as { get(key: number): Promise<number> };
  return {
    call: ((i: number) => proxy.get(i)) as Call,
    close: async () => {
      transport.close();
      await endpoint.stop();
      await host.cleanup(1000);
    },
  };
}

async function setUpRaw(serving: NatsConnection, calling: NatsConnection) {
  const subject = "bench.raw.lookup";
  const subscription = serving.subscribe(subject, { callback: (_error, msg) => void msg.respond(msg.data) });
  await serving.flush();
  // The same bytes a SAGE call carries, so both move the same payload.
  const payload = encode({ method: "get", args: [42], timeoutMs: TIMEOUT_MS });
  return {
    call: ((_i: number) => calling.request(subject, payload, { timeout: TIMEOUT_MS })) as Call,
    close: async () => subscription.unsubscribe(),
  };
}

const broker = await startNatsServer();
const serving = await connect({ servers: broker.url, name: "bench-serving" });
const calling = await connect({ servers: broker.url, name: "bench-calling" });
// nc.request() records a stack per call for its errors unless told not to: a second raw figure without it.
const callingLean = await connect({ servers: broker.url, name: "bench-calling-lean", noAsyncTraces: true });
try {
  const ways = { raw: await setUpRaw(serving, calling), lean: await setUpRaw(serving, callingLean), sage: await setUpSage(serving, calling) };
  const p50 = { raw: [] as number[], lean: [] as number[], sage: [] as number[] };
  const p99 = { raw: [] as number[], lean: [] as number[], sage: [] as number[] };
  const rate = { raw: [] as number[], lean: [] as number[], sage: [] as number[] };
  // Warm-up: JIT and connections, unmeasured.
  for (const way of Object.values(ways)) {
    await latencies(way.call, 2000);
    await throughput(way.call, 10_000);
  }
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? (["raw", "lean", "sage"] as const) : (["sage", "lean", "raw"] as const)) {
      const samples = await latencies(ways[name].call, sequential);
      p50[name].push(median(samples));
      p99[name].push(percentile(samples, 99));
      rate[name].push(await throughput(ways[name].call, concurrentCalls));
    }
  }
  for (const way of Object.values(ways)) await way.close();
  const us = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;
  const p50Ratio = median(p50.sage) / median(p50.raw);
  const rateRatio = median(rate.sage) / median(rate.raw);
  console.log(`Remote service calls vs raw nats.js request/reply, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, medians of ${rounds} rounds\n`);
  console.log("| measurement | raw nats.js | SAGE | ratio | target |\n|---|---:|---:|---:|---|");
  console.log(`| sequential call p50 (${sequential} calls) | ${us(median(p50.raw))} | ${us(median(p50.sage))} | ${p50Ratio.toFixed(2)}x | <= 1.5x ${p50Ratio <= 1.5 ? "ok" : "MISSED"} |`);
  console.log(`| sequential call p99 | ${us(median(p99.raw))} | ${us(median(p99.sage))} | ${(median(p99.sage) / median(p99.raw)).toFixed(2)}x | |`);
  console.log(
    `| calls/s, ${IN_FLIGHT} in flight (${concurrentCalls} calls) | ${median(rate.raw).toFixed(0)} | ${median(rate.sage).toFixed(0)} | ${rateRatio.toFixed(2)}x | >= 0.7x ${rateRatio >= 0.7 ? "ok" : "MISSED"} |`,
  );
  const leanP50 = median(p50.sage) / median(p50.lean);
  const leanRate = median(rate.sage) / median(rate.lean);
  console.log(`| p50 vs raw with noAsyncTraces | ${us(median(p50.lean))} | ${us(median(p50.sage))} | ${leanP50.toFixed(2)}x | |`);
  console.log(`| calls/s vs raw with noAsyncTraces | ${median(rate.lean).toFixed(0)} | ${median(rate.sage).toFixed(0)} | ${leanRate.toFixed(2)}x | |`);
  // For bench/distributed/run.ts: the medians as one line.
  if (process.argv.includes("--json")) {
    const medians = (by: Record<"raw" | "lean" | "sage", number[]>) => ({ raw: median(by.raw), lean: median(by.lean), sage: median(by.sage) });
    console.log(`${JSON_MARKER}${JSON.stringify({ p50Ms: medians(p50), p99Ms: medians(p99), callsPerS: medians(rate), sequential, concurrentCalls, inFlight: IN_FLIGHT, rounds })}`);
  }
} finally {
  await callingLean.close();
  await calling.close();
  await serving.close();
  await broker.stop();
}
