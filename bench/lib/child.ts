/** The child side: runs one variant (warm-up, measured runs), then prints its result as one JSON line. */
import { best, median, percentile } from "./stats.js";
import type { VariantResult } from "./types.js";
import type { Variant, WorkloadSpec } from "../variants.js";

/** Prefix of the line carrying a child's result on stdout. */
export const RESULT_MARKER = "@@bench-result ";

/** Options a child receives from the orchestrator. */
export interface ChildOptions {
  httpPort?: number;
  /** Multiplies record counts (for quick trial runs). */
  scale: number;
  /** Overrides the measured-run count. */
  repeats?: number;
  /** Cold: no warm-up, one measured run (unless `repeats` says otherwise), as a bounded job runs. */
  cold?: boolean;
  /** Runs the child on this CPU only (Linux `taskset`): see `--pin` in bench/README.md. */
  pin?: number;
}

const MB = 1024 * 1024;

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Runs `variant` as `spec` says and returns its result (peak RSS covers this whole process). */
export async function runVariant(variant: Variant, spec: WorkloadSpec, options: ChildOptions): Promise<VariantResult> {
  const prepare = await variant.load();
  const prepared = await prepare({ httpPort: options.httpPort });
  // The job with no records measures what a job costs whatever its size.
  const records = variant.fixedCost ? 0 : Math.max(1, Math.round(spec.records * options.scale));
  const warmupRecords = Math.round(spec.warmupRecords * options.scale);
  const repeats = options.repeats ?? (options.cold ? 1 : spec.repeats);
  const warmupRuns = options.cold ? 0 : (spec.warmupRuns ?? 1);
  collectGarbage();
  const baselineMB = process.memoryUsage().rss / MB;

  for (let i = 0; warmupRecords > 0 && i < warmupRuns; i++) await prepared.run(warmupRecords);
  const samples: number[] = [];
  const cpuSamples: number[] = [];
  let checksum: string | undefined;
  let info: Record<string, unknown> = {};
  // No forced full GC between measured runs: it also drops the inline caches that point at the
  // previous run's objects, a cost a long-running job never pays (only re-running jobs in a loop
  // does). Every peer is measured the same way.
  // Timed with hrtime, not `performance.now()`: a first read of the global `performance` loads
  // perf_hooks (about 2 ms in Node 20), a cost a variant that reads it pays in its own run.
  for (let i = 0; i < repeats; i++) {
    const started = process.hrtime.bigint();
    const cpuStarted = process.cpuUsage();
    const output = await prepared.run(records);
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    const cpu = process.cpuUsage(cpuStarted);
    cpuSamples.push((cpu.user + cpu.system) / 1000);
    if (checksum !== undefined && output.checksum !== checksum) {
      throw new Error(`${variant.id}: checksum changed between runs (${checksum} then ${output.checksum})`);
    }
    checksum = output.checksum;
    info = mergeInfo(info, output.info ?? {});
    samples.push(...(output.samplesMs ?? [elapsed]));
  }
  await prepared.dispose?.();
  // Give sockets and timers the chance to close before listing what is left open.
  await new Promise((resolve) => setImmediate(resolve));

  return {
    id: variant.id,
    workload: variant.workload,
    peer: variant.peer,
    label: variant.label,
    sage: variant.sage,
    ...(options.cold ? { cold: true } : {}),
    ...(variant.fixedCost ? { fixedCost: true } : {}),
    records,
    samplesMs: samples.map((ms) => round(ms, 3)),
    cpuSamplesMs: cpuSamples.map((ms) => round(ms, 3)),
    medianMs: round(median(samples), 3),
    bestMs: round(best(samples), 3),
    p95Ms: round(percentile(samples, 95), 3),
    checksum: checksum ?? "",
    info,
    rss: { baselineMB: round(baselineMB, 1), peakMB: round(process.resourceUsage().maxRSS / 1024, 1) },
    lingering: process.getActiveResourcesInfo().filter((kind) => kind !== "TTYWrap" && kind !== "PipeWrap"), // minus stdio
  };
}

/** Combines the `info` of two runs: booleans must hold in both, arrays concatenate, the rest is the latest. */
export function mergeInfo(into: Record<string, unknown>, from: Record<string, unknown>): Record<string, unknown> {
  const merged = { ...into };
  for (const [key, value] of Object.entries(from)) {
    const previous = merged[key];
    if (typeof value === "boolean" && typeof previous === "boolean") merged[key] = previous && value;
    else if (Array.isArray(value) && Array.isArray(previous)) merged[key] = [...previous, ...value];
    else merged[key] = value;
  }
  return merged;
}

/** Rounds to `digits` decimals. */
export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
