/** Turns variant results into the markdown report and the JSON record, and checks checksums. */
import os from "node:os";
import { mergeInfo, round } from "./child.js";
import { best, median, percentile } from "./stats.js";
import type { VariantResult, WorkloadId } from "./types.js";
import type { WorkloadSpec } from "../variants.js";
import { AUTOSTOP_REPEATS, AUTOSTOP_WARMUP } from "../workloads/autostop.js";
import { W2_CONCURRENCY, W2_DELAY_MS } from "../workloads/w2.js";

/** One target of the suite and how SAGE did against it. */
export interface TargetCheck {
  metric: string;
  sage: string;
  target: string;
  met: boolean | undefined;
  /** The SAGE variant the number comes from. */
  variant?: string;
}

/** Folds the results of one variant's rounds (child processes) into one result. */
export function mergeRounds(rounds: readonly VariantResult[]): VariantResult {
  const first = rounds[0]!;
  const samples = rounds.flatMap((r) => r.samplesMs);
  const checksums = [...new Set(rounds.map((r) => r.checksum))];
  const info = rounds.reduce<Record<string, unknown>>((merged, r) => mergeInfo(merged, r.info), {});
  return {
    ...first,
    rounds: rounds.length,
    samplesMs: samples,
    cpuSamplesMs: rounds.flatMap((r) => r.cpuSamplesMs ?? []),
    medianMs: round(median(samples), 3),
    bestMs: round(best(samples), 3),
    p95Ms: round(percentile(samples, 95), 3),
    // Rounds that disagree show every checksum, which then differs from the other peers'.
    checksum: checksums.join(" | "),
    info,
    rss: { baselineMB: Math.min(...rounds.map((r) => r.rss.baselineMB)), peakMB: Math.max(...rounds.map((r) => r.rss.peakMB)) },
    lingering: [...new Set(rounds.flatMap((r) => r.lingering))],
  };
}

/** A workload whose peers disagree on the checksum. */
export interface ChecksumMismatch {
  workload: WorkloadId;
  checksums: Record<string, string>;
}

/** Workloads whose variants did not all produce the same checksum. */
export function findMismatches(results: readonly VariantResult[]): ChecksumMismatch[] {
  const mismatches: ChecksumMismatch[] = [];
  for (const workload of new Set(results.map((r) => r.workload))) {
    const ofWorkload = results.filter((r) => r.workload === workload && !r.fixedCost);
    if (new Set(ofWorkload.map((r) => r.checksum)).size > 1) {
      mismatches.push({ workload, checksums: Object.fromEntries(ofWorkload.map((r) => [r.peer, r.checksum])) });
    }
  }
  return mismatches;
}

/** The reference (loop) result of a workload, if it ran. */
function referenceOf(results: readonly VariantResult[], workload: WorkloadId): VariantResult | undefined {
  return results.find((r) => r.workload === workload && r.peer === "loop");
}

/** Throughput relative to the loop: loop time / variant time (medians, or best runs with `basis: "best"`). */
export function ratioToLoop(result: VariantResult, results: readonly VariantResult[], basis: "median" | "best" = "median"): number | undefined {
  const reference = referenceOf(results, result.workload);
  if (!reference) return undefined;
  return basis === "median" ? reference.medianMs / result.medianMs : reference.bestMs / result.bestMs;
}

/** The fastest SAGE variant of a workload (its median decides). */
export function bestSage(results: readonly VariantResult[], workload: WorkloadId): VariantResult | undefined {
  return results.filter((r) => r.workload === workload && r.sage).sort((a, b) => a.medianMs - b.medianMs)[0];
}

/** SAGE against each target of the suite. */
export function checkTargets(results: readonly VariantResult[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const ratioCheck = (workload: WorkloadId, name: string, min: number) => {
    const sage = bestSage(results, workload);
    if (!sage) return;
    const ratio = ratioToLoop(sage, results);
    const bestRatio = ratioToLoop(sage, results, "best");
    const shown = ratio === undefined ? "n/a" : `${fmtRatio(ratio)} (best runs: ${fmtRatio(bestRatio!)})`;
    checks.push({ metric: `${name} throughput vs loop`, sage: shown, target: `>= ${min}x`, met: ratio === undefined ? undefined : ratio >= min, variant: sage.peer });
  };
  ratioCheck("w1", "W1", 0.5);
  const w1 = bestSage(results, "w1");
  if (w1) checks.push({ metric: "W1 peak RSS (fresh child)", sage: `${w1.rss.peakMB.toFixed(0)} MB`, target: "< 100 MB", met: w1.rss.peakMB < 100, variant: w1.peer });
  ratioCheck("w2", "W2", 0.98);
  ratioCheck("w3", "W3", 0.5);
  const autostop = bestSage(results, "autostop");
  if (autostop) {
    checks.push({ metric: "Autostop latency median", sage: fmtMs(autostop.medianMs), target: "< 5 ms", met: autostop.medianMs < 5, variant: autostop.peer });
    checks.push({ metric: "Autostop latency p95", sage: fmtMs(autostop.p95Ms), target: "(reported)", met: undefined, variant: autostop.peer });
  }
  return checks;
}

/** Facts about this machine for the record. */
export function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${process.platform} ${os.release()} ${process.arch}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    totalMemMB: Math.round(os.totalmem() / 1024 / 1024),
  };
}

/** The markdown report: summary against targets, then one table per workload. */
export function renderMarkdown(specs: readonly WorkloadSpec[], results: readonly VariantResult[], checks: readonly TargetCheck[], mismatches: readonly ChecksumMismatch[], failures: readonly string[]): string {
  const lines: string[] = [];
  const machine = machineInfo();
  lines.push(`SAGE local-mode benchmark, ${new Date().toISOString().slice(0, 10)}, Node ${machine.node}, ${machine.cpus} x ${machine.cpuModel}`);
  lines.push("");
  lines.push("| metric | SAGE | target | met | SAGE variant |");
  lines.push("|---|---:|---|---|---|");
  for (const c of checks) lines.push(`| ${c.metric} | ${c.sage} | ${c.target} | ${c.met === undefined ? "-" : c.met ? "yes" : "**no**"} | ${c.variant ?? "-"} |`);

  for (const spec of specs) {
    const rows = results.filter((r) => r.workload === spec.id);
    if (rows.length === 0) continue;
    lines.push("");
    lines.push(`### ${spec.title}`);
    lines.push("");
    if (spec.kind === "latency") {
      lines.push("| variant | samples | median | p95 | min | max | submit -> resolved (median) |");
      lines.push("|---|---:|---:|---:|---:|---:|---:|");
      for (const r of rows) {
        const totals = (r.info.submitToResolveMs as number[] | undefined) ?? [];
        const sortedTotals = [...totals].sort((a, b) => a - b);
        const totalMedian = sortedTotals.length > 0 ? sortedTotals[sortedTotals.length >> 1]! : Number.NaN;
        lines.push(`| ${r.label} | ${r.samplesMs.length} | ${fmtMs(r.medianMs)} | ${fmtMs(r.p95Ms)} | ${fmtMs(r.bestMs)} | ${fmtMs(Math.max(...r.samplesMs))} | ${fmtMs(totalMedian)} |`);
      }
      continue;
    }
    const showOrder = rows.some((r) => "inOrder" in r.info);
    lines.push(`| variant | median | best | records/s | vs loop | vs loop (best) | peak RSS |${showOrder ? " order kept |" : ""} checksum |`);
    lines.push(`|---|---:|---:|---:|---:|---:|---:|${showOrder ? "---|" : ""}---|`);
    for (const r of rows) {
      const ratio = ratioToLoop(r, results);
      const bestRatio = ratioToLoop(r, results, "best");
      const order = showOrder ? ` ${r.info.inOrder === true ? "yes" : r.info.inOrder === false ? "no" : "-"} |` : "";
      const label = r.sage ? `**${r.label}**` : r.label;
      lines.push(`| ${label} | ${fmtMs(r.medianMs)} | ${fmtMs(r.bestMs)} | ${fmtRate(r.records / (r.medianMs / 1000))} | ${ratio === undefined ? "n/a" : fmtRatio(ratio)} | ${bestRatio === undefined ? "n/a" : fmtRatio(bestRatio)} | ${r.rss.peakMB.toFixed(0)} MB |${order} ${r.checksum} |`);
    }
    if (spec.id === "w2") {
      const floor = Math.ceil(rows[0]!.records / W2_CONCURRENCY) * W2_DELAY_MS;
      lines.push("");
      lines.push(`Latency floor: ceil(records / ${W2_CONCURRENCY}) x ${W2_DELAY_MS} ms = ${fmtMs(floor)}; the rest is HTTP client and server CPU (both on this machine).`);
    }
  }

  lines.push("");
  const runs = specs.filter((s) => s.kind === "throughput").map((s) => `${s.id}: ${s.rounds} x ${s.repeats}`).join(", ");
  if (runs !== "") lines.push(`Median of the measured runs (${runs}: rounds x runs per round); each round runs every peer of the workload in a fresh child process after unmeasured warm-up runs (w1: 2, w3: 4, others: 1), peers interleaved. "vs loop" = loop time / variant time. Peak RSS = the largest maxRSS of the variant's child processes (includes Node + tsx; the loop rows show that floor).`);
  if (specs.some((s) => s.id === "autostop")) {
    lines.push(`Autostop: ${AUTOSTOP_WARMUP} unmeasured repetitions, then ${AUTOSTOP_REPEATS} measured, each with a fresh LocalEnvironment.`);
  }
  if (mismatches.length > 0) {
    lines.push("");
    for (const m of mismatches) lines.push(`**CHECKSUM MISMATCH in ${m.workload}:** ${Object.entries(m.checksums).map(([peer, sum]) => `${peer}=${sum}`).join(", ")}`);
  }
  const lingering = results.filter((r) => r.lingering.length > 0);
  if (lingering.length > 0) {
    lines.push("");
    for (const r of lingering) lines.push(`Note: ${r.id} left handles open after its runs: ${r.lingering.join(", ")}`);
  }
  if (failures.length > 0) {
    lines.push("");
    for (const f of failures) lines.push(`**FAILED:** ${f}`);
  }
  return lines.join("\n");
}

/** `12.3 ms`, with more digits for small values. */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return "n/a";
  return `${ms < 10 ? ms.toFixed(2) : ms < 1000 ? ms.toFixed(1) : ms.toFixed(0)} ms`;
}

/** `0.52x`. */
export function fmtRatio(ratio: number): string {
  return `${ratio < 0.1 ? ratio.toFixed(3) : ratio.toFixed(2)}x`;
}

/** `12.3 M/s`, `456 k/s`. */
export function fmtRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)} M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k/s`;
  return `${perSecond.toFixed(0)} /s`;
}
