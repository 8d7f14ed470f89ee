/**
 * The distributed-mode benchmark (`npm run bench:distributed`): one run on a cluster of its own
 * (a nats-server on a free loopback port and 2 workers started through the CLI, as users start
 * them), each measurement against raw nats.js doing the same, every driver a fresh process:
 * - W1 with its keyed stage (running sum and sink) remote on the 2 workers (w1-job.ts), against
 *   the same records in batches of the same size through a hand-written JetStream exchange
 *   (w1-raw.ts); the SAGE time is the job's runtime (placement included, bundling and host
 *   start not), the raw time from the first record to both receivers done;
 * - remote service calls against request/reply (service-calls.ts, its own broker);
 * - autostop latency with 3 remote services (autostop-job.ts).
 * Prints a table of the values, ratios and goals (issue 7), and writes the samples to
 * bench/results/distributed-<timestamp>.json.
 *
 * Options: `--only=w1,calls,autostop`, `--rounds=<n>` (W1 rounds, default 5), `--records=<n>`
 * (W1 input records, default 5,000,000), `--autostop-runs=<n>` (default 10).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { decode } from "../../src/cluster/codec.js";
import { startNatsServer, type NatsServerProcess } from "../../src/cluster/nats-server-process.js";
import { listWorkers } from "../../src/cluster/worker-registry.js";
import { Checksum } from "../lib/checksum.js";
import { median, percentile } from "../lib/stats.js";
import { RunningSum, w1Filter, w1Map } from "../workloads/w1.js";
import { endChild } from "../../src/cluster/end-child.js";

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    rounds: { type: "string", default: "5" },
    records: { type: "string", default: "5000000" },
    "autostop-runs": { type: "string", default: "10" },
  },
});
const PARTS = ["w1", "calls", "autostop"] as const;
const only = values.only?.split(",").map((s) => s.trim()) ?? [...PARTS];
const unknown = only.filter((p) => !(PARTS as readonly string[]).includes(p));
if (unknown.length > 0) throw new Error(`--only: unknown ${unknown.join(", ")}; known: ${PARTS.join(", ")}`);
const rounds = Number(values.rounds);
const records = Number(values.records);
const autostopRuns = Number(values["autostop-runs"]);

const here = fileURLToPath(new URL(".", import.meta.url));
const SAGE_BIN = fileURLToPath(new URL("../../bin/sage.js", import.meta.url));
const WORKERS = 2;

/**
 * CPU used so far by the processes `pids` and the children they reaped (utime + stime + cutime +
 * cstime from /proc), ms; a driver's job hosts are its workers' children, a raw sender's
 * receivers its own. NaN without /proc.
 */
function cpuMs(pids: number[]): number {
  let ticks = 0;
  try {
    for (const pid of pids) {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    }
  } catch {
    return Number.NaN;
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

/** Runs `file` (TypeScript) in a fresh Node process; resolves with the last line starting with `marker`, parsed. */
function runScript<T>(file: string, env: Record<string, string>, args: string[] = [], marker = "{"): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", `${here}${file}`, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk));
    child.on("exit", (code) => {
      const line = out.split("\n").filter((l) => l.startsWith(marker)).at(-1);
      if (code !== 0 || !line) reject(new Error(`${file} exited with ${code}: ${out.slice(-2000)}`));
      else resolve(JSON.parse(line.slice(marker === "{" ? 0 : marker.length)) as T);
    });
  });
}

/** Starts the 2 workers through the CLI and waits until both are in the registry. */
async function startWorkers(broker: NatsServerProcess, nc: NatsConnection): Promise<ChildProcess[]> {
  const children = Array.from({ length: WORKERS }, (_, i) =>
    spawn(process.execPath, [SAGE_BIN, "worker", "start", "--cluster", broker.url, "--name", `bench-w${i + 1}`, "--slots", "4"], { stdio: ["ignore", "ignore", "inherit"] }),
  );
  const deadline = Date.now() + 20_000;
  while ((await listWorkers(nc)).length < WORKERS) {
    if (Date.now() > deadline) throw new Error("the benchmark's workers did not join within 20 s");
    if (children.some((c) => c.exitCode !== null)) throw new Error("a benchmark worker exited while starting");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return children;
}

function stopWorkers(children: ChildProcess[]): Promise<void[]> {
  return Promise.all(children.map((child) => endChild(child)));
}

/** The checksum W1 must produce: the running sums of the filtered records. */
function expectedW1(n: number): string {
  const state = new RunningSum();
  const sum = new Checksum();
  for (let x = 0; x < n; x++) {
    const y = w1Map(x);
    if (w1Filter(y)) sum.add(state.add(y));
  }
  return sum.value;
}

interface SageW1 {
  elapsedMs: number;
  runtimeMs: number;
  state: string;
  checksum: string;
  workers?: string[];
}
interface RawW1 {
  ms: number;
  checksum: string;
  messages: number;
  waitedMs: number;
}
interface Autostop {
  latencyMs: number;
  submitToResolveMs: number;
  count: number;
  state: string;
  tasks: number;
  services: number;
  serviceStates: string[];
}
interface ServiceCalls {
  p50Ms: { raw: number; lean: number; sage: number };
  p99Ms: { raw: number; lean: number; sage: number };
  callsPerS: { raw: number; lean: number; sage: number };
  sequential: number;
  concurrentCalls: number;
  inFlight: number;
  rounds: number;
}

/** Counts the data messages of SAGE jobs (and their records) while `run` runs. */
async function countingBatches<T>(nc: NatsConnection, run: () => Promise<T>): Promise<{ result: T; messages: number; records: number }> {
  let messages = 0;
  let count = 0;
  const sub = nc.subscribe("sage.job.*.data.>", {
    callback: (_error, msg) => {
      if (msg.data.length === 0) return;
      messages++;
      count += decode<{ records: unknown[] }>(msg.data).records.length;
    },
  });
  try {
    return { result: await run(), messages, records: count };
  } finally {
    sub.unsubscribe();
  }
}

async function benchW1(url: string, nc: NatsConnection, broker: NatsServerProcess, workerPids: number[]) {
  const expected = expectedW1(records);
  const env = { SAGE_CLUSTER: url, SAGE_BENCH_RECORDS: String(records) };
  // Unmeasured first round (broker store, page cache); it also learns SAGE's batch size on the wire.
  const warm = await countingBatches(nc, () => runScript<SageW1>("w1-job.ts", env));
  const batch = Math.round(warm.records / warm.messages);
  process.stderr.write(`w1 warm-up: SAGE ${warm.result.runtimeMs} ms, ${warm.messages} data messages, ${batch} records per message\n`);
  const rawEnv = { ...env, SAGE_BENCH_BATCH: String(batch) };
  await runScript<RawW1>("w1-raw.ts", rawEnv);
  const sage: Array<SageW1 & { cpuMs: number }> = [];
  const raw: Array<RawW1 & { cpuMs: number }> = [];
  // Everything that works for a run: this process's children (the driver or the raw sender and
  // what they reaped), the broker, the workers and their reaped job hosts.
  const all = [process.pid, broker.pid, ...workerPids];
  const measured = async <T>(run: () => Promise<T>): Promise<T & { cpuMs: number }> => {
    const before = cpuMs(all);
    const result = await run();
    return { ...result, cpuMs: cpuMs(all) - before };
  };
  for (let round = 0; round < rounds; round++) {
    // Alternating order spreads the noise of a shared machine over both.
    const order = round % 2 === 0 ? (["raw", "sage"] as const) : (["sage", "raw"] as const);
    for (const way of order) {
      if (way === "raw") raw.push(await measured(() => runScript<RawW1>("w1-raw.ts", rawEnv)));
      else sage.push(await measured(() => runScript<SageW1>("w1-job.ts", env)));
    }
    const r = raw.at(-1)!;
    const s = sage.at(-1)!;
    process.stderr.write(`w1 round ${round + 1}/${rounds}: raw ${r.ms.toFixed(0)} ms (CPU ${r.cpuMs} ms), SAGE runtime ${s.runtimeMs} ms (submit -> resolved ${s.elapsedMs.toFixed(0)} ms, CPU ${s.cpuMs} ms)\n`);
  }
  const wrong = [...sage.map((s) => s.checksum), ...raw.map((r) => r.checksum)].filter((c) => c !== expected);
  if (wrong.length > 0) throw new Error(`W1 CHECKSUM MISMATCH: expected ${expected}, got ${wrong.join(", ")}`);
  if (sage.some((s) => s.state !== "finished" || s.workers?.length !== WORKERS)) throw new Error(`a SAGE W1 job did not finish on both workers: ${JSON.stringify(sage)}`);
  return { batch, expected, sage, raw };
}

async function benchAutostop(url: string) {
  const runs: Autostop[] = [];
  for (let i = 0; i < autostopRuns; i++) {
    const run = await runScript<Autostop>("autostop-job.ts", { SAGE_CLUSTER: url });
    if (run.state !== "finished" || run.tasks !== 0 || run.services !== 0 || run.serviceStates.some((s) => !s.includes(":stopped:"))) {
      throw new Error(`autostop resolved before the job was cleaned up: ${JSON.stringify(run)}`);
    }
    runs.push(run);
    process.stderr.write(`autostop ${i + 1}/${autostopRuns}: ${run.latencyMs.toFixed(1)} ms\n`);
  }
  return runs;
}

// Every job's services are gone (none answers $SRV.INFO) and no worker holds a slot.
async function checkClean(nc: NatsConnection): Promise<string[]> {
  const problems: string[] = [];
  try {
    for await (const reply of await nc.requestMany("$SRV.INFO", undefined, { maxWait: 300 })) {
      const info = reply.json<{ name: string; metadata?: Record<string, string> }>();
      if (info.metadata?.sage_job) problems.push(`service ${info.name} of job ${info.metadata.sage_job} still answers`);
    }
  } catch {
    // no responders: none
  }
  for (const w of await listWorkers(nc)) if (w.used > 0 || w.jobs.length > 0) problems.push(`worker ${w.name} still hosts ${w.jobs.join(", ")}`);
  return problems;
}

const ms = (v: number) => `${v.toFixed(v < 10 ? 1 : 0)} ms`;
const us = (v: number) => `${(v * 1000).toFixed(0)} µs`;
const verdict = (ok: boolean) => (ok ? "ok" : "MISSED");

const startedAt = Date.now();
const broker = await startNatsServer();
const nc = await connect({ servers: broker.url, name: "bench-distributed" });
let workers: ChildProcess[] = [];
const rows: string[][] = [];
const record: Record<string, unknown> = { date: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, loadavgBefore: loadavg() };
try {
  workers = await startWorkers(broker, nc);
  if (only.includes("w1")) {
    const w1 = await benchW1(broker.url, nc, broker, workers.map((w) => w.pid!));
    record.w1 = w1;
    const raw = median(w1.raw.map((r) => r.ms));
    const runtime = median(w1.sage.map((s) => s.runtimeMs));
    const elapsed = median(w1.sage.map((s) => s.elapsedMs));
    const rate = (t: number) => `${((records / t) * 1000 / 1e6).toFixed(2)} M rec/s`;
    rows.push([`W1 ${records / 1e6}M records, keyed stage remote on ${WORKERS} workers (${w1.batch} records per message): job runtime`, `${ms(raw)} (${rate(raw)})`, `${ms(runtime)} (${rate(runtime)})`, `${(raw / runtime).toFixed(2)}x`, `>= 0.8x ${verdict(raw / runtime >= 0.8)}`]);
    rows.push(["  W1 submit -> resolved (bundle, host start, job, teardown)", "", ms(elapsed), `${(raw / elapsed).toFixed(2)}x`, ""]);
    const rawCpu = median(w1.raw.map((r) => r.cpuMs));
    const sageCpu = median(w1.sage.map((s) => s.cpuMs));
    rows.push(["  W1 CPU time of all processes (broker, workers, hosts, driver / sender, receivers; start-up included)", ms(rawCpu), ms(sageCpu), `${(rawCpu / sageCpu).toFixed(2)}x`, ""]);
  }
  if (only.includes("calls")) {
    const calls = await runScript<ServiceCalls>("service-calls.ts", {}, ["--json"], "@@service-calls ");
    record.serviceCalls = calls;
    const p50 = calls.p50Ms.sage / calls.p50Ms.raw;
    const rate = calls.callsPerS.sage / calls.callsPerS.raw;
    rows.push([`remote service call p50 (${calls.sequential} sequential calls)`, us(calls.p50Ms.raw), us(calls.p50Ms.sage), `${p50.toFixed(2)}x`, `<= 1.5x ${verdict(p50 <= 1.5)}`]);
    rows.push([`remote service calls/s, ${calls.inFlight} in flight`, calls.callsPerS.raw.toFixed(0), calls.callsPerS.sage.toFixed(0), `${rate.toFixed(2)}x`, `>= 0.7x ${verdict(rate >= 0.7)}`]);
  }
  if (only.includes("autostop")) {
    const runs = await benchAutostop(broker.url);
    record.autostop = runs;
    const latencies = runs.map((r) => r.latencyMs);
    const latency = median(latencies);
    rows.push([`autostop latency, 3 remote services (median of ${runs.length} drivers; max ${ms(Math.max(...latencies))}, p90 ${ms(percentile(latencies, 90))})`, "", ms(latency), "", `< 50 ms ${verdict(latency < 50)}`]);
  }
  const problems = await checkClean(nc);
  if (problems.length > 0) throw new Error(`left behind after the benchmark: ${problems.join("; ")}`);
} finally {
  await stopWorkers(workers);
  await nc.close();
  await broker.stop();
}
record.loadavgAfter = loadavg();
record.rows = rows;

const load = (l: number[]) => l.map((v) => v.toFixed(1)).join(" ");
console.log(`\nSAGE distributed-mode benchmark, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} CPUs, load average ${load(record.loadavgBefore as number[])} -> ${load(record.loadavgAfter as number[])}\n`);
console.log("| measurement | raw nats.js | SAGE | ratio | goal |\n|---|---:|---:|---:|---|");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
const resultsDir = fileURLToPath(new URL("../results/", import.meta.url));
mkdirSync(resultsDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
writeFileSync(`${resultsDir}distributed-${stamp}.json`, `${JSON.stringify(record, null, 2)}\n`);
process.stderr.write(`\nresults written to bench/results/distributed-${stamp}.json (${((Date.now() - startedAt) / 1000).toFixed(0)} s in all)\n`);
