/**
 * One peer of the LLM bench in a process of its own: a warm-up run, then one measured run of
 * `--requests` chat requests; prints its result as one JSON line after RESULT_MARKER.
 */
import { parseArgs } from "node:util";
import { fnv1a32 } from "../../src/llm/fnv.js";
import { PEERS } from "./peers.js";
import { RESULT_MARKER, promptsOf, type PeerResult } from "./shared.js";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      peer: { type: "string" },
      url: { type: "string" },
      requests: { type: "string", default: "2000" },
      concurrency: { type: "string", default: "64" },
      warmup: { type: "string", default: "2000" },
      rpm: { type: "string" },
      model: { type: "string", default: "sage-echo" },
    },
  });
  const peer = PEERS[values.peer ?? ""];
  if (!peer || !values.url) throw new Error(`usage: peer.ts --peer <${Object.keys(PEERS).join("|")}> --url <base URL>`);
  const prepared = await peer.prepare({
    baseURL: values.url,
    concurrency: Number(values.concurrency),
    model: values.model!,
    ...(values.rpm !== undefined && { requestsPerMinute: Number(values.rpm) }),
  });
  const warmup = Number(values.warmup);
  if (warmup > 0) await prepared.run(promptsOf(warmup).map((p) => `warm-up ${p}`), false);
  const prompts = promptsOf(Number(values.requests));
  const startedAt = performance.timeOrigin + performance.now();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const answers = await prepared.run(prompts, true);
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await prepared.dispose?.();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const result: PeerResult = {
    peer: values.peer!,
    startedAt,
    wallMs,
    cpuMs: (used.user + used.system) / 1000,
    requests: prompts.length,
    checksum: `${answers.length}:${fnv1a32(answers.join("\n"))}`,
    lingering: process.getActiveResourcesInfo().filter((kind) => kind !== "TTYWrap" && kind !== "PipeWrap"),
  };
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
}

// Exits at once after printing: a peer that leaves handles open (they are reported) must not hang the bench.
main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
