/**
 * Autostop latency in distributed mode, as a driver script (`SAGE_CLUSTER` names the cluster): a
 * 1,000-record fromBatch -> map -> sink with three remote services (trivial async setup and
 * cleanup); the map calls one, the sink another. Prints one JSON line: the time from the sink
 * handling its last record to `submit({ autostop: true })` resolving, and the final status.
 */
import { BaseService, LocalEnvironment } from "../../src/index.js";
import { AUTOSTOP_RECORDS, AUTOSTOP_SERVICES } from "../workloads/autostop.js";

/** A service with trivial async setup and cleanup and one sync method. */
class TrivialService extends BaseService {
  async setup(): Promise<void> {
    await Promise.resolve();
  }

  async cleanup(): Promise<void> {
    await Promise.resolve();
  }

  /** Echoes `x`. */
  touch(x: number): number {
    return x;
  }
}

const env = new LocalEnvironment("bench_autostop_distributed", { cluster: process.env.SAGE_CLUSTER, logLevel: "warn" });
for (const name of AUTOSTOP_SERVICES) env.registerService(name, TrivialService, { remote: true });
let lastAt = 0;
let count = 0;
env
  .fromBatch(Array.from({ length: AUTOSTOP_RECORDS }, (_, i) => i))
  .map(async (x: number, ctx) => await ctx.service<TrivialService>("alpha").touch(x))
  .sink(async (x: number, ctx) => {
    await ctx.service<TrivialService>("beta").touch(x);
    count++;
    lastAt = performance.now();
  });
const submittedAt = performance.now();
const job = await env.submit({ autostop: true });
const resolvedAt = performance.now();
const status = await job.status();
console.log(
  JSON.stringify({
    latencyMs: resolvedAt - lastAt,
    submitToResolveMs: resolvedAt - submittedAt,
    count,
    state: status.state,
    tasks: status.tasks,
    services: status.services,
    serviceStates: status.serviceDetails?.map((s) => `${s.name}:${s.state}:${s.worker}`),
  }),
);
