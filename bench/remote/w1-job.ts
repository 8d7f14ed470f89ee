/**
 * W1 as a job module: run with SAGE_BENCH_MODE=local it runs in this process; otherwise it is
 * submitted to the JobManager at SAGE_BENCH_PORT (the job process evaluates this same file and
 * runs the pipeline there). Prints one JSON line: the client-side time and the final status.
 */
import { LocalEnvironment, RemoteEnvironment } from "../../src/index.js";
import { Checksum } from "../lib/checksum.js";
import { CountingSource, RunningSumFunction } from "../workloads/sage-functions.js";
import { w1Filter, w1Key, w1Map } from "../workloads/w1.js";

const records = Number(process.env.SAGE_BENCH_RECORDS ?? 5_000_000);
const local = process.env.SAGE_BENCH_MODE === "local";
const env = local
  ? new LocalEnvironment("bench_w1_local", { logLevel: "warn" })
  : new RemoteEnvironment("bench_w1_remote", { port: Number(process.env.SAGE_BENCH_PORT), token: process.env.SAGE_BENCH_TOKEN, logs: false, config: { logLevel: "warn" } });
const sink = new Checksum();
env
  .fromBatch(CountingSource, { args: [records] })
  .map(w1Map)
  .filter(w1Filter)
  .keyBy(w1Key)
  .map(RunningSumFunction)
  .sink((v: number) => sink.add(v));
const started = performance.now();
const job = await env.submit({ autostop: true });
const elapsedMs = performance.now() - started;
const status = await job.status();
// In the job process this line lands in the job's log with the checksum; the client prints its own.
console.log(JSON.stringify({ elapsedMs, runtimeMs: status.runtimeMs, state: status.state, checksum: sink.count > 0 ? sink.value : undefined }));
