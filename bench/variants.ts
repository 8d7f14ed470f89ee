/** The workloads and every measured variant, with lazy imports so a child loads only its own peer. */
import type { PrepareFn, WorkloadId } from "./lib/types.js";
import { AUTOSTOP_RECORDS } from "./workloads/autostop.js";
import { W1_RECORDS } from "./workloads/w1.js";
import { W2_RECORDS } from "./workloads/w2.js";
import { W3_RECORDS } from "./workloads/w3.js";

/** How a workload is measured in its child process. */
export interface WorkloadSpec {
  id: WorkloadId;
  title: string;
  /** Input records of a measured run. */
  records: number;
  /** Input records of each unmeasured warm-up run (0: none). */
  warmupRecords: number;
  /** Unmeasured warm-up runs before the measured ones, so every peer is measured JIT-warm (default 1). */
  warmupRuns?: number;
  /** Measured runs per child process; the report uses the median over all rounds. */
  repeats: number;
  /** Child processes per variant, interleaved with the other peers' (spreads background noise evenly). */
  rounds: number;
  /** Throughput workloads are compared with the loop; latency ones report percentiles. */
  kind: "throughput" | "latency";
}

/** The suite's workloads, in run order. */
export const WORKLOADS: readonly WorkloadSpec[] = [
  { id: "w1", title: "W1: map -> filter -> keyBy running sum, 5M records", records: W1_RECORDS, warmupRecords: W1_RECORDS, warmupRuns: 2, repeats: 2, rounds: 3, kind: "throughput" },
  { id: "w2", title: "W2: async map over HTTP (5 ms), 64 in flight, 20k records", records: W2_RECORDS, warmupRecords: 2_000, repeats: 1, rounds: 5, kind: "throughput" },
  { id: "w3", title: "W3: KV service get + put per record, 1M records", records: W3_RECORDS, warmupRecords: W3_RECORDS, warmupRuns: 4, repeats: 3, rounds: 5, kind: "throughput" },
  { id: "autostop", title: "Autostop latency: last record in sink -> submit({ autostop }) resolved, 3 services", records: AUTOSTOP_RECORDS, warmupRecords: 0, repeats: 1, rounds: 1, kind: "latency" },
];

/** One peer's implementation of one workload. */
export interface Variant {
  /** `<workload>/<peer>`, also the child's command-line argument. */
  id: string;
  workload: WorkloadId;
  peer: string;
  label: string;
  /** A SAGE variant (the best SAGE variant is the workload's SAGE number). */
  sage: boolean;
  /** The hand-written loop every ratio is relative to. */
  reference: boolean;
  /** A row of the natural-code-path table (`--only=natural`): the loop, the ceiling, RxJS, SAGE as a user writes it first. */
  natural: boolean;
  /** The ceiling of the natural SAGE variant: a loop over the same generator. */
  ceiling: boolean;
  /** Runs the job with no records: the cost of a bounded job whatever its size. */
  fixedCost: boolean;
  load(): Promise<PrepareFn>;
}

const loop = () => import("./peers/loop.js");
const rxjs = () => import("./peers/rxjs.js");
const streams = () => import("./peers/streams.js");
const sage = () => import("./peers/sage.js");

interface VariantFlags {
  sage?: boolean;
  reference?: boolean;
  natural?: boolean;
  ceiling?: boolean;
  fixedCost?: boolean;
}

function variant(workload: WorkloadId, peer: string, label: string, load: () => Promise<PrepareFn>, flags: VariantFlags = {}): Variant {
  const natural = Boolean(flags.natural || flags.reference || flags.ceiling);
  return { id: `${workload}/${peer}`, workload, peer, label, sage: flags.sage ?? false, reference: flags.reference ?? false, natural, ceiling: flags.ceiling ?? false, fixedCost: flags.fixedCost ?? false, load };
}

/** Every variant, grouped by workload, reference first. */
export const VARIANTS: readonly Variant[] = [
  variant("w1", "loop", "hand-written loop", async () => (await loop()).w1Loop, { reference: true }),
  variant("w1", "loop-generator", "for...of over the same generator (ceiling of a generator source)", async () => (await loop()).w1LoopGenerator, { ceiling: true }),
  variant("w1", "rxjs", "RxJS 7: range -> map -> filter -> map", async () => (await rxjs()).w1Rxjs, { natural: true }),
  variant("w1", "rxjs-generator", "RxJS 7 on the same generator: from(generator()) -> map -> filter -> map", async () => (await rxjs()).w1RxjsGenerator, { natural: true }),
  variant("w1", "streams", "Node streams: Readable.from -> 3 Transforms -> Writable", async () => (await streams()).w1Streams),
  variant("w1", "sage-generator", "SAGE, generator-function source", async () => (await sage()).w1SageGenerator, { sage: true }),
  variant("w1", "sage-batch", "SAGE, BatchFunction class source", async () => (await sage()).w1SageBatchFunction, { sage: true }),
  variant("w1", "sage-natural", "SAGE as written first: fromBatch(function* ...) + plain lambdas", async () => (await sage()).w1SageNatural, { sage: true, natural: true }),

  variant("w2", "loop", "hand-written ordered window of 64 promises", async () => (await loop()).w2Loop, { reference: true }),
  variant("w2", "rxjs-mergemap", "RxJS 7: mergeMap(fn, 64), completion order", async () => (await rxjs()).w2RxjsMergeMap),
  variant("w2", "rxjs-ordered", "RxJS 7: mergeMap(fn, 64) + reorder buffer", async () => (await rxjs()).w2RxjsOrdered),
  variant("w2", "streams", "Node streams: Readable.from(...).map(fn, { concurrency: 64 })", async () => (await streams()).w2Streams),
  variant("w2", "sage", "SAGE: .map(fn, { concurrency: 64 })", async () => (await sage()).w2Sage, { sage: true }),

  variant("w3", "loop", "hand-written loop, KV class called directly", async () => (await loop()).w3Loop, { reference: true }),
  variant("w3", "loop-generator", "for...of over the same generator, KV class called directly (ceiling of a generator source)", async () => (await loop()).w3LoopGenerator, { ceiling: true }),
  variant("w3", "rxjs", "RxJS 7: range -> map(get + put)", async () => (await rxjs()).w3Rxjs, { natural: true }),
  variant("w3", "rxjs-generator", "RxJS 7 on the same generator: from(generator()) -> map(get + put)", async () => (await rxjs()).w3RxjsGenerator, { natural: true }),
  variant("w3", "streams", "Node streams: Readable.from -> Transform -> Writable", async () => (await streams()).w3Streams),
  variant("w3", "sage-class", "SAGE: MapFunction class, proxy from this.service(\"kv\") kept", async () => (await sage()).w3SageClass, { sage: true }),
  variant("w3", "sage-ctx", "SAGE: plain function, ctx.service(\"kv\") per record", async () => (await sage()).w3SageCtx, { sage: true }),
  variant("w3", "sage-natural", "SAGE as written first: fromBatch(function* ...) + lambda calling ctx.service(\"kv\").get/.put", async () => (await sage()).w3SageNatural, { sage: true, natural: true }),

  variant("w3", "sage-natural-direct", "the natural SAGE pipeline calling the KV object directly, no service (what the service layer costs)", async () => (await sage()).w3SageNaturalDirect, { natural: true }),
  variant("w3", "sage-natural-empty", "the natural SAGE job with no records (what a bounded job costs, whatever its size)", async () => (await sage()).w3SageNatural, { natural: true, fixedCost: true }),

  variant("autostop", "sage", "SAGE: 1,000 records, 3 services with async setup/cleanup", async () => (await sage()).autostopSage, { sage: true }),
];

/** The spec of workload `id`. */
export function workloadSpec(id: WorkloadId): WorkloadSpec {
  const spec = WORKLOADS.find((w) => w.id === id);
  if (!spec) throw new Error(`unknown workload ${id}`);
  return spec;
}
