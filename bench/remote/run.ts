/**
 * Remote-mode benchmark (`npm run bench:remote`): starts a JobManager on a free port and measures
 * (1) submit -> running latency of a small job, (2) finish -> resolve latency of
 * submit({ autostop: true }), (3) W1 throughput of a job on the JobManager as a ratio to the same
 * pipeline run locally. Every client is a fresh process, as a user's script would be.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
// The compiled server, as users run it: its job processes start without a TypeScript loader.
import { startJobManagerServer } from "../../dist/jobmanager/server.js";
import { median, percentile } from "../lib/stats.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), "sage-bench-jm-"));
const token = "bench-token";
const server = await startJobManagerServer({ port: 0, token, dataDir, version: "bench", logger: { debug() {}, info() {}, warn() {}, error: console.error } });
const env = { ...process.env, SAGE_BENCH_PORT: String(server.port), SAGE_BENCH_TOKEN: token };

/** Runs `file` in a fresh Node process and parses the last JSON line it prints. */
function client(file: string, extra: Record<string, string>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(here, file)], { env: { ...env, ...extra }, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.on("exit", (code) => {
      const line = out.trim().split("\n").filter((l) => l.startsWith("{")).at(-1);
      if (code !== 0 || !line) reject(new Error(`${file} exited with ${code}: ${out}`));
      else resolve(JSON.parse(line) as Record<string, unknown>);
    });
  });
}

try {
  const rounds = Number(process.env.SAGE_BENCH_ROUNDS ?? 8);
  const submitToRunning: number[] = [];
  const serverStart: number[] = [];
  const finishToResolve: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const running = await client("small-job.ts", { SAGE_BENCH_AUTOSTOP: "0" });
    submitToRunning.push(running.submitMs as number);
    serverStart.push(Date.parse(running.startedAt as string) - Date.parse(running.submittedAt as string));
    const autostop = await client("small-job.ts", { SAGE_BENCH_AUTOSTOP: "1" });
    finishToResolve.push((autostop.resolvedAt as number) - Date.parse(autostop.endedAt as string));
  }
  const local: number[] = [];
  const remoteRuntime: number[] = [];
  const remoteEndToEnd: number[] = [];
  const w1Rounds = Number(process.env.SAGE_BENCH_W1_ROUNDS ?? 7);
  for (let i = 0; i < w1Rounds; i++) {
    const l = await client("w1-job.ts", { SAGE_BENCH_MODE: "local" });
    local.push(l.elapsedMs as number);
    const r = await client("w1-job.ts", { SAGE_BENCH_MODE: "remote" });
    remoteRuntime.push(r.runtimeMs as number);
    if (process.env.SAGE_BENCH_VERBOSE) console.error(`w1 local ${l.elapsedMs} remote runtime ${r.runtimeMs} end-to-end ${r.elapsedMs}`);
    remoteEndToEnd.push(r.elapsedMs as number);
  }
  const rows = [
    ["submit -> running (client: bundle + upload + job process start)", `${median(submitToRunning).toFixed(0)} ms`, `p95 ${percentile(submitToRunning, 95).toFixed(0)} ms`],
    ["  of which server-side (submitted -> job running)", `${median(serverStart).toFixed(0)} ms`, ""],
    ["finish -> autostop resolved (server endedAt -> client)", `${median(finishToResolve).toFixed(1)} ms`, `max ${Math.max(...finishToResolve).toFixed(1)} ms`],
    ["W1 5M records, local (fresh process)", `${median(local).toFixed(0)} ms`, ""],
    ["W1 5M records, remote job runtime (server side)", `${median(remoteRuntime).toFixed(0)} ms`, `ratio to local ${(median(local) / median(remoteRuntime)).toFixed(2)}x`],
    ["W1 5M records, remote end to end (client)", `${median(remoteEndToEnd).toFixed(0)} ms`, `ratio to local ${(median(local) / median(remoteEndToEnd)).toFixed(2)}x`],
  ];
  console.log(`SAGE remote-mode benchmark, ${new Date().toISOString().slice(0, 10)}, Node ${process.version} (medians of ${rounds} small jobs and ${w1Rounds} W1 runs)\n`);
  console.log("| measurement | median | |\n|---|---:|---|");
  for (const [name, value, extra] of rows) console.log(`| ${name} | ${value} | ${extra} |`);
} finally {
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
