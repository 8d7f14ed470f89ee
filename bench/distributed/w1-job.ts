/**
 * W1 as a distributed driver script (`SAGE_CLUSTER` names the cluster): source, map, filter and
 * keyBy run here; the keyed running sum and the sink run on the workers, 2 instances. Each sink
 * instance reports its checksum to a service of the driver when it closes, so the records cross
 * the cluster once, as in the raw exchange they are compared with. Prints one JSON line.
 */
import { BaseService, LocalEnvironment, SinkFunction } from "../../src/index.js";
import { Checksum } from "../lib/checksum.js";
import { CountingSource, RunningSumFunction } from "../workloads/sage-functions.js";
import { w1Filter, w1Key, w1Map } from "../workloads/w1.js";

/** The checksums of the sink instances, folded together (here, in the driver). */
const total = new Checksum();

/** Receives each sink instance's checksum. */
class Tally extends BaseService {
  add(count: number, acc: number): void {
    total.count += count;
    total.acc = (total.acc + acc) | 0;
  }
}

/** Folds its records into a checksum and hands it to the driver's tally at the end. */
class ChecksumSink extends SinkFunction<number> {
  readonly #sum = new Checksum();

  execute(value: number): void {
    this.#sum.add(value);
  }

  async close(): Promise<void> {
    await this.callService("tally", "add", this.#sum.count, this.#sum.acc);
  }
}

const records = Number(process.env.SAGE_BENCH_RECORDS ?? 5_000_000);
const parallelism = Number(process.env.SAGE_BENCH_PARALLELISM ?? 2);
const tuning = {
  ...(process.env.SAGE_BENCH_CAPACITY && { channelCapacity: Number(process.env.SAGE_BENCH_CAPACITY) }),
  ...(process.env.SAGE_BENCH_BATCH_SIZE && { batchSize: Number(process.env.SAGE_BENCH_BATCH_SIZE) }),
};
const env = new LocalEnvironment("bench_w1_distributed", { cluster: process.env.SAGE_CLUSTER, logLevel: "warn", ...tuning });
env.registerService("tally", Tally);
env
  .fromBatch(CountingSource, { args: [records] })
  .map(w1Map)
  .filter(w1Filter)
  .keyBy(w1Key)
  .map(RunningSumFunction, { remote: true, parallelism })
  .sink(ChecksumSink, { remote: true, parallelism });
const started = performance.now();
const job = await env.submit({ autostop: true });
const elapsedMs = performance.now() - started;
const status = await job.status();
console.log(JSON.stringify({ elapsedMs, runtimeMs: status.runtimeMs, state: status.state, checksum: total.value, workers: status.operators.find((o) => o.name === "RunningSumFunction")?.workers }));
