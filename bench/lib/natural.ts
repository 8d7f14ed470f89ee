/**
 * The natural-code-path table: SAGE as a user writes it first (a generator-function source,
 * plain lambdas, `ctx.service(name)` per call) against a loop over the same generator (the
 * ceiling of a generator source), RxJS and the plain loop, each measured cold (a fresh process,
 * no warm-up, one run: how a bounded job runs).
 */
import { median } from "./stats.js";
import type { TargetCheck } from "./report.js";
import { fmtMs, fmtRatio } from "./report.js";
import type { VariantResult, WorkloadId } from "./types.js";

/** Child processes per natural row (one cold run each), interleaved with the other rows. */
export const NATURAL_ROUNDS = 9;

/** The workloads of the table and their goals. */
export const NATURAL_WORKLOADS: readonly WorkloadId[] = ["w1", "w3"];

/** SAGE's natural variant must reach this fraction of the ceiling. */
export const NATURAL_GOAL = 0.9;

function rowOf(results: readonly VariantResult[], workload: WorkloadId, peer: string): VariantResult | undefined {
  return results.find((r) => r.workload === workload && r.peer === peer);
}

/** Which time a ratio compares: wall time (the goal's measure) or CPU time (steadier on a loaded machine). */
type Basis = "wall" | "cpu";

function samplesOf(result: VariantResult, basis: Basis): readonly number[] {
  return basis === "wall" ? result.samplesMs : (result.cpuSamplesMs ?? []);
}

/**
 * `a / b` of the medians, and the round-by-round ratios (both rows ran in the same time window,
 * so each pair shares the machine's state); no pairs when a round is missing on either side.
 */
function ratios(numerator: VariantResult, denominator: VariantResult, basis: Basis): { ratio: number; pairs: number[] } {
  const a = samplesOf(numerator, basis);
  const b = samplesOf(denominator, basis);
  const ratio = median(a) / median(b);
  return { ratio, pairs: a.length === b.length ? a.map((ms, i) => ms / b[i]!) : [] };
}

/** `0.41x (0.37-0.45)`: ratio of medians, then the range of the round-by-round ratios. */
function fmtPaired(numerator: VariantResult | undefined, denominator: VariantResult | undefined, basis: Basis, format: (r: number) => string): string {
  if (!numerator || !denominator) return "n/a";
  const { ratio, pairs } = ratios(numerator, denominator, basis);
  if (!Number.isFinite(ratio)) return "n/a";
  if (pairs.length < 2) return format(ratio);
  return `${format(ratio)} (${format(Math.min(...pairs))}-${format(Math.max(...pairs))})`;
}

const fmtFraction = (r: number): string => r.toFixed(2);

/** `12.3 ms (10.1-15.0)`: the median and the range of one row's samples. */
function fmtSpread(samples: readonly number[]): string {
  return samples.length === 0 ? "n/a" : `${fmtMs(median(samples))} (${fmtMs(Math.min(...samples))} - ${fmtMs(Math.max(...samples))})`;
}

/** The table: one row per natural variant, as x of the plain loop and as a fraction of the ceiling, by wall and CPU time. */
export function renderNatural(results: readonly VariantResult[]): string[] {
  const lines: string[] = [];
  if (results.length === 0) return lines;
  const rounds = Math.max(...results.map((r) => r.rounds ?? 1));
  lines.push("");
  lines.push(`### The natural code path, cold (fresh process, no warm-up, one run; ${rounds} ${rounds === 1 ? "round" : "rounds interleaved"})`);
  lines.push("");
  lines.push("| workload | variant | wall: median (range) | x of plain loop | fraction of ceiling | CPU: median (range) | x of plain loop (CPU) | fraction of ceiling (CPU) | checksum |");
  lines.push("|---|---|---:|---:|---:|---:|---:|---:|---|");
  for (const workload of NATURAL_WORKLOADS) {
    const loop = rowOf(results, workload, "loop");
    const ceiling = rowOf(results, workload, "loop-generator");
    for (const r of results.filter((x) => x.workload === workload)) {
      const label = r.sage ? `**${r.label}**` : r.label;
      const cells = (basis: Basis) =>
        r.fixedCost ? [fmtSpread(samplesOf(r, basis)), "-", "-"] : [fmtSpread(samplesOf(r, basis)), fmtPaired(loop, r, basis, fmtRatio), r.peer === "loop" ? "-" : fmtPaired(ceiling, r, basis, fmtFraction)];
      lines.push(`| ${workload.toUpperCase()} | ${label} | ${[...cells("wall"), ...cells("cpu")].join(" | ")} | ${r.checksum} |`);
    }
  }
  for (const empty of results.filter((r) => r.fixedCost)) {
    const ceiling = rowOf(results, empty.workload, "loop-generator");
    if (!ceiling) continue;
    // What is left of the ceiling's time for the records once the fixed cost is paid: the best fraction a job of this size can reach.
    const share = median(empty.samplesMs) / median(ceiling.samplesMs);
    lines.push("");
    lines.push(`${empty.workload.toUpperCase()} job with no records: ${fmtMs(median(empty.samplesMs))}, ${fmtFraction(share)} of the ceiling's time; a SAGE job of this size with no cost per record at all would reach ${fmtFraction(1 / (1 + share))} of the ceiling.`);
  }
  lines.push("");
  lines.push(`"x of plain loop" = loop time / variant time; "fraction of ceiling" = time of the loop over the same generator / variant time (goal for SAGE: >= ${NATURAL_GOAL}, by wall time). Ratios are of the medians, in brackets the range of the round-by-round ratios (each round runs every row once, one after the other). The job with no records runs the same pipeline in a fresh process with an empty generator: building, starting, stopping and cleaning up the job and its service, the part of a bounded job's time that does not shrink with its size. CPU = user + system time of the child process during the run, all threads (JIT compiler and GC included): on a loaded machine it is far steadier than wall time, on a quiet one the compiler's thread runs beside the main thread and wall time is the measure.`);
  return lines;
}

/** The natural-code-path goals: SAGE >= 0.9 of the ceiling (W1, W3), and W3 ahead of RxJS. */
export function checkNatural(results: readonly VariantResult[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const workload of NATURAL_WORKLOADS) {
    const sage = rowOf(results, workload, "sage-natural");
    const ceiling = rowOf(results, workload, "loop-generator");
    if (!sage || !ceiling) continue;
    const fraction = ceiling.medianMs / sage.medianMs;
    const cpu = ratios(ceiling, sage, "cpu").ratio;
    const shown = `${fmtFraction(fraction)}${Number.isFinite(cpu) ? ` (CPU time: ${fmtFraction(cpu)})` : ""}`;
    checks.push({ metric: `${workload.toUpperCase()} natural code path, cold, vs loop over the same generator`, sage: shown, target: `>= ${NATURAL_GOAL}`, met: fraction >= NATURAL_GOAL, variant: sage.peer });
  }
  const sage = rowOf(results, "w3", "sage-natural");
  for (const [peer, what] of [
    ["rxjs", "RxJS (range)"],
    ["rxjs-generator", "RxJS on the same generator"],
  ] as const) {
    const rxjs = rowOf(results, "w3", peer);
    if (!sage || !rxjs) continue;
    const cpu = ratios(rxjs, sage, "cpu").ratio;
    checks.push({ metric: `W3 natural code path, cold, vs ${what}`, sage: `${fmtRatio(rxjs.medianMs / sage.medianMs)} of its throughput${Number.isFinite(cpu) ? ` (CPU time: ${fmtRatio(cpu)})` : ""}`, target: "> 1x", met: sage.medianMs < rxjs.medianMs, variant: sage.peer });
  }
  return checks;
}
