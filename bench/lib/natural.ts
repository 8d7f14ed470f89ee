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

/**
 * Paired ratios `a / b` round by round (both rows ran in the same time window, so each pair
 * shares the machine's state); undefined when a round is missing on either side.
 */
function pairedRatios(numerator: VariantResult, denominator: VariantResult): number[] | undefined {
  if (numerator.samplesMs.length !== denominator.samplesMs.length) return undefined;
  return numerator.samplesMs.map((ms, i) => ms / denominator.samplesMs[i]!);
}

/** `0.41x (0.37-0.45)`: ratio of medians, then the range of the round-by-round ratios. */
function fmtPaired(numerator: VariantResult | undefined, denominator: VariantResult | undefined, format: (r: number) => string): string {
  if (!numerator || !denominator) return "n/a";
  const ratio = numerator.medianMs / denominator.medianMs;
  const pairs = pairedRatios(numerator, denominator);
  if (!pairs || pairs.length < 2) return format(ratio);
  return `${format(ratio)} (${format(Math.min(...pairs))}-${format(Math.max(...pairs))})`;
}

const fmtFraction = (r: number): string => r.toFixed(2);

/** The table: one row per natural variant, as x of the plain loop and as a fraction of the ceiling. */
export function renderNatural(results: readonly VariantResult[]): string[] {
  const lines: string[] = [];
  if (results.length === 0) return lines;
  const rounds = Math.max(...results.map((r) => r.rounds ?? 1));
  lines.push("");
  lines.push(`### The natural code path, cold (fresh process, no warm-up, one run; ${rounds} rounds interleaved)`);
  lines.push("");
  lines.push("| workload | variant | median | min - max | x of plain loop (rounds' range) | fraction of ceiling (rounds' range) | checksum |");
  lines.push("|---|---|---:|---:|---:|---:|---|");
  for (const workload of NATURAL_WORKLOADS) {
    const loop = rowOf(results, workload, "loop");
    const ceiling = rowOf(results, workload, "loop-generator");
    for (const r of results.filter((x) => x.workload === workload)) {
      const label = r.sage ? `**${r.label}**` : r.label;
      const spread = `${fmtMs(Math.min(...r.samplesMs))} - ${fmtMs(Math.max(...r.samplesMs))}`;
      const vsCeiling = r.peer === "loop" ? "-" : fmtPaired(ceiling, r, fmtFraction);
      lines.push(`| ${workload.toUpperCase()} | ${label} | ${fmtMs(r.medianMs)} | ${spread} | ${fmtPaired(loop, r, fmtRatio)} | ${vsCeiling} | ${r.checksum} |`);
    }
  }
  lines.push("");
  lines.push(`"x of plain loop" = loop time / variant time; "fraction of ceiling" = time of the loop over the same generator / variant time (goal for SAGE: >= ${NATURAL_GOAL}). Ratios are of the medians; the range is of the round-by-round ratios (each round runs every row once, one after the other).`);
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
    const pairs = pairedRatios(ceiling, sage);
    const pairedMedian = pairs ? ` (rounds' median ${fmtFraction(median(pairs))})` : "";
    checks.push({ metric: `${workload.toUpperCase()} natural code path, cold, vs loop over the same generator`, sage: `${fmtFraction(fraction)}${pairedMedian}`, target: `>= ${NATURAL_GOAL}`, met: fraction >= NATURAL_GOAL, variant: sage.peer });
  }
  const sage = rowOf(results, "w3", "sage-natural");
  const rxjs = rowOf(results, "w3", "rxjs");
  if (sage && rxjs) {
    checks.push({ metric: "W3 natural code path, cold, vs RxJS", sage: `${fmtRatio(rxjs.medianMs / sage.medianMs)} of RxJS's throughput`, target: "> 1x", met: sage.medianMs < rxjs.medianMs, variant: sage.peer });
  }
  return checks;
}
