/**
 * The LLM bench (`npm run bench:llm`): 2,000 chat requests, 64 in flight, to the OpenAI-protocol
 * test server answering after 50 ms (in this process; every peer runs in a fresh child process
 * after a warm-up run). Rows: the ideal (requests x latency / in flight), SAGE (a pipeline whose
 * map calls the LLMService with concurrency 64, and the service under 64 plain callers), the
 * official openai client (default fetch, and over undici's fetch with a pooled Agent), global
 * fetch, undici's Pool.request, LangChain.js ChatOpenAI.batch, and SAGE with requestsPerMinute
 * set (achieved rate, as the server saw it, against the limit). The rate-limited row's warm-up
 * runs without the limit (its code is the same), so the measured run shows the limit alone.
 *
 * Options: `--rounds=<n>` (children per peer, interleaved; default 3), `--requests=<n>` (2000),
 * `--concurrency=<n>` (64), `--latency-ms=<n>` (50), `--rpm=<n>` (limit of the rate-limited row,
 * default 30000: 500 requests/s, below what 64 in flight at 50 ms allow, so the limit binds),
 * `--warmup=<n>` (requests of the unmeasured run before, default 2000: JIT-warm), `--only=<peer,...>`.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startOpenAIServer, type OpenAIServer } from "../../src/llm/testing/openai-server.js";
import { median } from "../lib/stats.js";
import { PEERS } from "./peers.js";
import { RESULT_MARKER, type PeerResult } from "./shared.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    requests: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "64" },
    "latency-ms": { type: "string", default: "50" },
    rpm: { type: "string", default: "30000" },
    warmup: { type: "string", default: "2000" },
    only: { type: "string" },
  },
});
const rounds = Number(values.rounds);
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);
const latencyMs = Number(values["latency-ms"]);
const rpm = Number(values.rpm);
const warmup = Number(values.warmup);
const peerIds = values.only ? values.only.split(",").map((s) => s.trim()) : Object.keys(PEERS);
const unknown = peerIds.filter((id) => !(id in PEERS));
if (unknown.length > 0) throw new Error(`--only: unknown ${unknown.join(", ")}; known: ${Object.keys(PEERS).join(", ")}`);

const PEER_SCRIPT = fileURLToPath(new URL("./peer.ts", import.meta.url));
const CHILD_TIMEOUT_MS = 120_000;

/** A child's result plus what the server saw of its measured run. */
interface Sample extends PeerResult {
  /** Requests per minute the server saw during the measured run. */
  seenRpm: number;
  maxInFlight: number;
}

function runPeer(server: OpenAIServer, peer: string): Promise<Sample> {
  server.reset();
  const args = ["--import", "tsx", PEER_SCRIPT, `--peer=${peer}`, `--url=${server.url}`, `--requests=${requests}`, `--concurrency=${concurrency}`, `--rpm=${rpm}`, `--warmup=${warmup}`];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const line = out.split("\n").find((l) => l.startsWith(RESULT_MARKER));
      if (code !== 0 || !line) return reject(new Error(`${peer}: exited with ${signal ?? `code ${code}`}${line ? "" : " and no result"}`));
      const result = JSON.parse(line.slice(RESULT_MARKER.length)) as PeerResult;
      const seen = server.requests.filter((r) => r.at >= result.startedAt);
      const span = seen.length > 1 ? seen.at(-1)!.at - seen[0]!.at : Number.NaN;
      resolve({ ...result, seenRpm: ((seen.length - 1) / span) * 60_000, maxInFlight: server.maxInFlight });
    });
  });
}

const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const range = (xs: number[], digits = 2): string => `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}-${fmt(Math.max(...xs), digits)})`;

async function main(): Promise<void> {
  const server = await startOpenAIServer({ latencyMs });
  const samples = new Map<string, Sample[]>(peerIds.map((id) => [id, []]));
  const failures: string[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const peer of peerIds) {
        process.stderr.write(`round ${round}/${rounds}: ${peer} ... `);
        try {
          const sample = await runPeer(server, peer);
          samples.get(peer)!.push(sample);
          process.stderr.write(`${fmt(sample.wallMs / 1000)} s, ${fmt(sample.cpuMs / 1000)} s CPU\n`);
        } catch (error) {
          failures.push((error as Error).message);
          process.stderr.write(`failed: ${(error as Error).message}\n`);
        }
      }
    }
  } finally {
    await server.close();
  }

  const idealMs = (requests * latencyMs) / concurrency;
  const wall = (id: string) => median(samples.get(id)?.map((s) => s.wallMs) ?? []);
  const cpu = (id: string) => median(samples.get(id)?.map((s) => s.cpuMs) ?? []);
  const lines: string[] = [];
  lines.push(`LLM bench, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? "?"}, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  lines.push(`${requests} chat requests, ${concurrency} in flight, server answering after ${latencyMs} ms (in the orchestrator's process); ${rounds} rounds, each peer a fresh process after an unmeasured warm-up run of ${warmup} requests (for SAGE: a whole job; the measured job starts a new service with new connections).`);
  lines.push("");
  lines.push("| row | wall s: median (range) | fraction of ideal | CPU s: median (range) | CPU ms / request | SAGE pipeline vs row (wall) | max in flight | checksum |");
  lines.push("|---|---:|---:|---:|---:|---:|---:|---|");
  lines.push(`| ideal (${requests} x ${latencyMs} ms / ${concurrency}) | ${fmt(idealMs / 1000)} | 1.00 | - | - | - | ${concurrency} | - |`);
  for (const id of peerIds) {
    const rows = samples.get(id)!;
    if (rows.length === 0) continue;
    const peer = PEERS[id]!;
    const ideal = id === "sage-rpm" ? Math.max(idealMs, (requests / rpm) * 60_000) : idealMs;
    const label = peer.sage ? `**${peer.label}**` : peer.label;
    const vsSage = id === "sage" ? "-" : `${fmt(wall(id) / wall("sage"))}x`;
    lines.push(`| ${label} | ${range(rows.map((s) => s.wallMs / 1000))} | ${fmt(ideal / wall(id))} | ${range(rows.map((s) => s.cpuMs / 1000))} | ${fmt(cpu(id) / requests, 3)} | ${vsSage} | ${Math.max(...rows.map((s) => s.maxInFlight))} | ${[...new Set(rows.map((s) => s.checksum))].join(" ")} |`);
  }
  const rated = samples.get("sage-rpm") ?? [];
  if (rated.length > 0) {
    lines.push("");
    lines.push(`Rate-limited row: limit ${rpm} requests/minute; the server saw ${range(rated.map((s) => s.seenRpm), 0)} requests/minute (${range(rated.map((s) => s.seenRpm / rpm), 3)} of the limit); its "fraction of ideal" is against ${fmt((requests / rpm) * 60)} s, what the limit allows.`);
  }
  lines.push("");
  lines.push("Goals (issue 8), by median wall time:");
  const goal = (text: string, met: boolean) => lines.push(`- ${text}: ${met ? "met" : "**not met**"}`);
  if (samples.get("sage")?.length) goal(`SAGE pipeline >= 0.85 of ideal (${fmt(idealMs / wall("sage"))})`, idealMs / wall("sage") >= 0.85);
  if (samples.get("openai")?.length) goal(`SAGE >= 1.2x the official client in a loop (${fmt(wall("openai") / wall("sage"))}x)`, wall("openai") / wall("sage") >= 1.2);
  if (samples.get("langchain")?.length) goal(`SAGE ahead of LangChain.js ChatOpenAI.batch (${fmt(wall("langchain") / wall("sage"))}x)`, wall("sage") < wall("langchain"));
  if (rated.length > 0) {
    const ratio = median(rated.map((s) => s.seenRpm / rpm));
    goal(`with requestsPerMinute, the achieved rate within 5% of the limit (${fmt(ratio, 3)})`, Math.abs(ratio - 1) <= 0.05);
  }
  const mismatch = new Set(peerIds.flatMap((id) => samples.get(id)!.map((s) => s.checksum))).size > 1;
  if (mismatch) lines.push("", "**CHECKSUM MISMATCH**: the peers' answers differ.");
  for (const id of peerIds) {
    const lingering = [...new Set(samples.get(id)!.flatMap((s) => s.lingering))];
    if (lingering.length > 0) lines.push(`Note: ${id} left handles open after dispose: ${lingering.join(", ")}`);
  }
  for (const failure of failures) lines.push(`**FAILED:** ${failure}`);
  process.stdout.write(`${lines.join("\n")}\n`);

  const dir = fileURLToPath(new URL("../results/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}llm-${new Date().toISOString().replace(/[:.]/g, "-")}.json`, JSON.stringify({ requests, concurrency, latencyMs, rpm, rounds, samples: Object.fromEntries(samples) }, null, 2));
  if (mismatch || failures.length > 0) process.exitCode = 1;
}

await main();
