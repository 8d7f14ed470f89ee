/**
 * The benchmark harness: `npm run bench` measures SAGE local mode side by side with a
 * hand-written loop, RxJS 7 and Node streams, each variant in a fresh child process (this
 * script run with `--child <id>`), verifies that every peer of a workload produced the same
 * checksum, prints a markdown report and writes the raw numbers to bench/results/.
 *
 * Options: `--only=w1,w3,natural` (workloads; `natural` = the cold natural-code-path rows), `--quick` (10% of the records, one round), `--scale=<f>`,
 * `--rounds=<n>` (child processes per variant), `--repeats=<n>` (measured runs per child),
 * `--timeout=<s>` (per child, default 120), `--pin=<cpu>` (run every child on that CPU alone, Linux taskset).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { RESULT_MARKER, runVariant, type ChildOptions } from "./lib/child.js";
import { checkTargets, findMismatches, fmtMs, machineInfo, mergeRounds, renderMarkdown } from "./lib/report.js";
import { runChild } from "./lib/spawn.js";
import type { VariantResult } from "./lib/types.js";
import { checkNatural, NATURAL_ROUNDS, NATURAL_WORKLOADS, renderNatural } from "./lib/natural.js";
import { VARIANTS, WORKLOADS, workloadSpec, type Variant } from "./variants.js";
import { startDelayServer, type DelayServer } from "./workloads/w2.js";

const { values } = parseArgs({
  options: {
    child: { type: "string" },
    only: { type: "string" },
    quick: { type: "boolean", default: false },
    scale: { type: "string" },
    repeats: { type: "string" },
    rounds: { type: "string" },
    port: { type: "string" },
    timeout: { type: "string", default: "120" },
    cold: { type: "boolean", default: false },
    pin: { type: "string" },
  },
});

const scale = values.scale !== undefined ? Number(values.scale) : values.quick ? 0.1 : 1;
const repeats = values.repeats !== undefined ? Number(values.repeats) : undefined;
const rounds = values.rounds !== undefined ? Number(values.rounds) : values.quick ? 1 : undefined;
const pin = values.pin !== undefined ? Number(values.pin) : undefined;
if (pin !== undefined && !(Number.isInteger(pin) && pin >= 0)) throw new Error(`--pin takes a CPU number (0, 1, ...), got '${values.pin}'`);

if (values.child !== undefined) await childMain(values.child);
else await main();

/** Child mode: run one variant and print its result line. */
async function childMain(id: string): Promise<void> {
  const variant = VARIANTS.find((v) => v.id === id);
  if (!variant) throw new Error(`unknown variant ${id}; known: ${VARIANTS.map((v) => v.id).join(", ")}`);
  const options: ChildOptions = { scale, repeats, cold: values.cold, httpPort: values.port !== undefined ? Number(values.port) : undefined };
  const result = await runVariant(variant, workloadSpec(variant.workload), options);
  // Exit explicitly: a handle a peer left open must not hang the harness (it is reported instead).
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`, () => process.exit(0));
}

/** Runs `variants` in interleaved rounds (each round runs every variant once, in order) and merges each one's rounds. */
async function runRounds(script: string, variants: readonly Variant[], roundCount: number, childOptions: ChildOptions, timeoutMs: number, failures: string[]): Promise<VariantResult[]> {
  const perVariant = new Map<string, VariantResult[]>(variants.map((v) => [v.id, []]));
  const tag = childOptions.cold ? " (cold)" : "";
  for (let round = 1; round <= roundCount; round++) {
    for (const variant of variants) {
      process.stderr.write(`${(variant.id + tag).padEnd(29)} round ${round}/${roundCount}  `);
      try {
        const result = await runChild(script, variant.id, childOptions, timeoutMs);
        perVariant.get(variant.id)!.push(result);
        process.stderr.write(`median ${fmtMs(result.medianMs).padStart(10)}  peak RSS ${result.rss.peakMB.toFixed(0)} MB\n`);
      } catch (error) {
        failures.push(`round ${round}${tag}: ${error instanceof Error ? error.message : String(error)}`);
        process.stderr.write(`FAILED: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
  }
  return [...perVariant.values()].filter((rounds) => rounds.length > 0).map((rounds) => mergeRounds(rounds));
}

/**
 * Orchestrator mode: every selected variant in its own child, then the report. `--only` names
 * workloads and/or `natural` (the cold natural-code-path rows); without it everything runs.
 */
async function main(): Promise<void> {
  const startedAt = performance.now();
  const only = values.only?.split(",").map((s) => s.trim());
  const known = [...WORKLOADS.map((w) => w.id as string), "natural"];
  const unknown = only?.filter((id) => !known.includes(id)) ?? [];
  if (unknown.length > 0) throw new Error(`--only: unknown ${unknown.join(", ")}; known: ${known.join(", ")}`);
  const specs = WORKLOADS.filter((w) => !only || only.includes(w.id));
  const natural = !only || only.includes("natural");
  const script = fileURLToPath(import.meta.url);
  const timeoutMs = Number(values.timeout) * 1000;

  let server: DelayServer | undefined;
  const results: VariantResult[] = [];
  const naturalResults: VariantResult[] = [];
  const failures: string[] = [];
  try {
    if (specs.some((s) => s.id === "w2")) server = await startDelayServer();
    for (const spec of specs) {
      // The job with no records belongs to the cold natural table only: warm, it has nothing to compare.
      const variants = VARIANTS.filter((v) => v.workload === spec.id && !v.fixedCost);
      results.push(...(await runRounds(script, variants, rounds ?? spec.rounds, { scale, repeats, pin, httpPort: server?.port }, timeoutMs, failures)));
    }
    if (natural) {
      // Cold rows, interleaved across both workloads, so every round shares one time window.
      const variants = VARIANTS.filter((v) => v.natural && NATURAL_WORKLOADS.includes(v.workload));
      naturalResults.push(...(await runRounds(script, variants, rounds ?? NATURAL_ROUNDS, { scale, repeats, pin, cold: true }, timeoutMs, failures)));
    }
  } finally {
    await server?.close();
  }

  const mismatches = findMismatches([...results, ...naturalResults]);
  const checks = [...checkTargets(results), ...checkNatural(naturalResults)];
  // With fewer records a job's fixed cost weighs more: such a run is a smoke test, not a measure of the targets.
  const scaled = scale === 1 ? [] : ["", `Note: records scaled by ${scale} (${values.quick ? "--quick" : "--scale"}): the ratios are not comparable with the targets, which are set for the full sizes.`];
  const markdown = [renderMarkdown(specs, results, checks, mismatches, failures), ...renderNatural(naturalResults), ...scaled].join("\n");
  process.stdout.write(`\n${markdown}\n`);

  const resultsDir = fileURLToPath(new URL("./results/", import.meta.url));
  mkdirSync(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const record = { date: new Date().toISOString(), machine: machineInfo(), options: { scale, repeats, rounds, pin: pin ?? null, only: only ?? null }, workloads: specs, targets: checks, checksumMismatches: mismatches, failures, results, naturalCold: naturalResults };
  const file = `${resultsDir}bench-${stamp}.json`;
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  writeFileSync(`${resultsDir}latest.json`, `${JSON.stringify(record, null, 2)}\n`);
  process.stderr.write(`\nresults written to bench/results/bench-${stamp}.json (${((performance.now() - startedAt) / 1000).toFixed(0)} s in all)\n`);

  if (mismatches.length > 0) {
    process.stderr.write(`\nERROR: checksum mismatch in ${mismatches.map((m) => m.workload).join(", ")}: the peers did not compute the same thing\n`);
    process.exitCode = 1;
  }
  if (failures.length > 0) process.exitCode = 1;
}
