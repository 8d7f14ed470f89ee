/**
 * The benchmark harness: `npm run bench` measures SAGE local mode side by side with a
 * hand-written loop, RxJS 7 and Node streams, each variant in a fresh child process (this
 * script run with `--child <id>`), verifies that every peer of a workload produced the same
 * checksum, prints a markdown report and writes the raw numbers to bench/results/.
 *
 * Options: `--only=w1,w3` (workloads), `--quick` (10% of the records, one round), `--scale=<f>`,
 * `--rounds=<n>` (child processes per variant), `--repeats=<n>` (measured runs per child),
 * `--timeout=<s>` (per child, default 120).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { RESULT_MARKER, runVariant, type ChildOptions } from "./lib/child.js";
import { checkTargets, findMismatches, fmtMs, machineInfo, mergeRounds, renderMarkdown } from "./lib/report.js";
import { runChild } from "./lib/spawn.js";
import type { VariantResult, WorkloadId } from "./lib/types.js";
import { VARIANTS, WORKLOADS, workloadSpec } from "./variants.js";
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
  },
});

const scale = values.scale !== undefined ? Number(values.scale) : values.quick ? 0.1 : 1;
const repeats = values.repeats !== undefined ? Number(values.repeats) : undefined;
const rounds = values.rounds !== undefined ? Number(values.rounds) : values.quick ? 1 : undefined;

if (values.child !== undefined) await childMain(values.child);
else await main();

/** Child mode: run one variant and print its result line. */
async function childMain(id: string): Promise<void> {
  const variant = VARIANTS.find((v) => v.id === id);
  if (!variant) throw new Error(`unknown variant ${id}; known: ${VARIANTS.map((v) => v.id).join(", ")}`);
  const options: ChildOptions = { scale, repeats, httpPort: values.port !== undefined ? Number(values.port) : undefined };
  const result = await runVariant(variant, workloadSpec(variant.workload), options);
  // Exit explicitly: a handle a peer left open must not hang the harness (it is reported instead).
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`, () => process.exit(0));
}

/** Orchestrator mode: every selected variant in its own child, then the report. */
async function main(): Promise<void> {
  const startedAt = performance.now();
  const only = values.only?.split(",").map((s) => s.trim()) as WorkloadId[] | undefined;
  const specs = WORKLOADS.filter((w) => !only || only.includes(w.id));
  const script = fileURLToPath(import.meta.url);
  const timeoutMs = Number(values.timeout) * 1000;

  let server: DelayServer | undefined;
  const results: VariantResult[] = [];
  const failures: string[] = [];
  try {
    if (specs.some((s) => s.id === "w2")) server = await startDelayServer();
    for (const spec of specs) {
      const variants = VARIANTS.filter((v) => v.workload === spec.id);
      const perVariant = new Map<string, VariantResult[]>(variants.map((v) => [v.id, []]));
      const roundCount = rounds ?? spec.rounds;
      for (let round = 1; round <= roundCount; round++) {
        for (const variant of variants) {
          process.stderr.write(`${variant.id.padEnd(22)} round ${round}/${roundCount}  `);
          try {
            const result = await runChild(script, variant.id, { scale, repeats, httpPort: server?.port }, timeoutMs);
            perVariant.get(variant.id)!.push(result);
            process.stderr.write(`median ${fmtMs(result.medianMs).padStart(10)}  peak RSS ${result.rss.peakMB.toFixed(0)} MB\n`);
          } catch (error) {
            failures.push(`round ${round}: ${error instanceof Error ? error.message : String(error)}`);
            process.stderr.write(`FAILED: ${error instanceof Error ? error.message : String(error)}\n`);
          }
        }
      }
      for (const rounds of perVariant.values()) if (rounds.length > 0) results.push(mergeRounds(rounds));
    }
  } finally {
    await server?.close();
  }

  const mismatches = findMismatches(results);
  const checks = checkTargets(results);
  const markdown = renderMarkdown(specs, results, checks, mismatches, failures);
  process.stdout.write(`\n${markdown}\n`);

  const resultsDir = fileURLToPath(new URL("./results/", import.meta.url));
  mkdirSync(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const record = { date: new Date().toISOString(), machine: machineInfo(), options: { scale, repeats, rounds, only: only ?? null }, workloads: specs, targets: checks, checksumMismatches: mismatches, failures, results };
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
