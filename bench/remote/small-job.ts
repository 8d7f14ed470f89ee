/** A small job for latency measurements: a few records through a map into a sink, with a service. */
import { BaseService, RemoteEnvironment } from "../../src/index.js";

/** A service with a trivial async cleanup, so autostop has something to clean up. */
class Echo extends BaseService {
  echo(x: number): number {
    return x;
  }
  async cleanup(): Promise<void> {}
}

const env = new RemoteEnvironment("bench_small", { port: Number(process.env.SAGE_BENCH_PORT), token: process.env.SAGE_BENCH_TOKEN, logs: false, config: { logLevel: "warn" } });
env.registerService("echo", Echo);
env.fromBatch([1, 2, 3]).map((x: number, ctx) => ctx.service<Echo>("echo").echo(x) as number).sink(() => {});
const autostop = process.env.SAGE_BENCH_AUTOSTOP === "1";
const started = performance.now();
const job = await env.submit({ autostop });
const resolvedAt = Date.now();
const submitMs = performance.now() - started;
if (!autostop) await job.wait();
const status = await job.status();
console.log(JSON.stringify({ submitMs, resolvedAt, endedAt: status.endedAt, startedAt: status.startedAt, submittedAt: status.submittedAt, state: status.state }));
