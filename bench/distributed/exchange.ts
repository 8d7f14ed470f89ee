/**
 * Keyed exchange benchmark of distributed mode's data plane: W1-style records (x*3+1, keyed by
 * W1's key) go from this process to 2 receiving processes (forked) in batches of 1000, once
 * through NatsTransport and once through raw nats.js JetStream doing the same (raw-jetstream.ts: a
 * stream, a durable pull consumer per partition with AckPolicy.All, an end marker), and prints the ratio.
 *
 *   node --import tsx bench/distributed/exchange.ts [--records=1000000] [--batch=1000] [--capacity=128]
 */
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { decode, encode } from "../../src/cluster/codec.js";
import { deleteJobStream, ensureJobStream } from "../../src/cluster/job-stream.js";
import { NATS_CHANNEL_CAPACITY, NatsTransport } from "../../src/cluster/nats-transport.js";
import { startNatsServer } from "../../src/cluster/nats-server-process.js";
import type { EdgeSpec, TaskId } from "../../src/graph/execution-graph.js";
import { median } from "../lib/stats.js";
import { consumeRaw, createRawExchange, RawPublisher } from "./raw-jetstream.js";
import { w1Key, w1Map } from "../workloads/w1.js";

type Mode = "sage" | "raw";
const RECEIVERS = 2;
const A = "tA" as TaskId;
const B = "tB" as TaskId;
const EDGE: EdgeSpec = { id: 0, from: A, to: B, partition: "hash", inputIndex: 0, feedback: false };

/** What a receiving process reports. */
interface Received {
  count: number;
  sum: number;
  /** CPU the receiving process used from ready to done, ms. */
  cpuMs?: number;
}

/** CPU time a process used so far (Linux /proc), ms; NaN elsewhere. */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

function option(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? Number(arg.slice(name.length + 3)) : fallback;
}

/** Feeds `records` W1 records, batched per partition, to `send`; then `end` for each partition. */
async function produce(records: number, batch: number, send: (to: number, records: number[], keys: number[]) => void | Promise<void>): Promise<void> {
  const buffers = Array.from({ length: RECEIVERS }, () => ({ records: [] as number[], keys: [] as number[] }));
  for (let x = 0; x < records; x++) {
    const y = w1Map(x);
    const key = w1Key(y);
    const to = key % RECEIVERS;
    const buffer = buffers[to]!;
    buffer.records.push(y);
    buffer.keys.push(key);
    if (buffer.records.length === batch) {
      const pending = send(to, buffer.records, buffer.keys);
      buffers[to] = { records: [], keys: [] };
      if (pending) await pending;
    }
  }
  for (const [to, buffer] of buffers.entries()) if (buffer.records.length > 0) await send(to, buffer.records, buffer.keys);
}

// --- the receiving processes ---

async function receiveSage(nc: NatsConnection, jobId: string, index: number, ready: () => void): Promise<Received> {
  // The receiver's capacity sets how often it reports progress: the same as the sender's.
  const transport = await NatsTransport.create(nc, { jobId, capacity: option("capacity", NATS_CHANNEL_CAPACITY) });
  const inbox = transport.inbox(B, index);
  await inbox.ready();
  ready();
  let count = 0;
  let sum = 0;
  for (;;) {
    const message = inbox.poll() ?? (await inbox.take());
    if (!message || message.eos) break;
    count += message.records.length;
    for (const r of message.records) sum += r as number;
  }
  await transport.taskEnded(B, index);
  await transport.close();
  return { count, sum };
}

async function receiveRaw(nc: NatsConnection, run: string, index: number, ready: () => void): Promise<Received> {
  let count = 0;
  let sum = 0;
  const consuming = consumeRaw(nc, run, index, (body) => {
    const records = decode<number[]>(body);
    count += records.length;
    for (const r of records) sum += r;
  });
  await consuming.ready;
  ready();
  await consuming.done;
  return { count, sum };
}

async function child(): Promise<void> {
  const [mode, url, run, index] = process.argv.slice(3) as [Mode, string, string, string];
  const nc = await connect({ servers: url, name: `bench-receiver-${index}` });
  let cpu = process.cpuUsage();
  const ready = () => {
    cpu = process.cpuUsage();
    process.send!({ ready: true });
  };
  const received = mode === "sage" ? await receiveSage(nc, run, Number(index), ready) : await receiveRaw(nc, run, Number(index), ready);
  const used = process.cpuUsage(cpu);
  process.send!({ received: { ...received, cpuMs: (used.user + used.system) / 1000 } });
  await nc.close();
  process.disconnect();
}

// --- the sending process ---

function startReceivers(mode: Mode, url: string, run: string): Promise<{ children: ChildProcess[]; done: Promise<Received[]> }> {
  const self = fileURLToPath(import.meta.url);
  const children = Array.from({ length: RECEIVERS }, (_, i) => fork(self, ["--receiver", mode, url, run, String(i), ...process.argv.filter((a) => a.startsWith("--capacity="))], { execArgv: process.execArgv }));
  const ready = children.map((c) => new Promise<void>((resolve, reject) => {
    c.on("message", (m: { ready?: boolean }) => m.ready && resolve());
    c.once("exit", (code) => reject(new Error(`receiver exited with ${code}`)));
  }));
  const done = Promise.all(children.map((c) => new Promise<Received>((resolve, reject) => {
    c.on("message", (m: { received?: Received }) => m.received && resolve(m.received));
    c.once("exit", (code) => code !== 0 && reject(new Error(`receiver exited with ${code}`)));
  })));
  return Promise.all(ready).then(() => ({ children, done }));
}

/** One measured exchange. */
interface Run {
  ms: number;
  received: Received[];
  /** CPU of the sender, the broker and the receivers during the run, ms. */
  cpu: { sender: number; server: number; receivers: number };
  /** How long the sender waited on backpressure, ms. */
  waitedMs: number;
}

/** Times `exchange` (from the first record to both receivers done), with the CPU each process used. */
async function measure(serverPid: number, done: Promise<Received[]>, exchange: () => Promise<number>): Promise<Run> {
  const serverCpu = processCpuMs(serverPid);
  const senderCpu = process.cpuUsage();
  const started = performance.now();
  const waitedMs = await exchange();
  const received = await done;
  const ms = performance.now() - started;
  const sender = process.cpuUsage(senderCpu);
  return {
    ms,
    received,
    waitedMs,
    cpu: {
      sender: (sender.user + sender.system) / 1000,
      server: processCpuMs(serverPid) - serverCpu,
      receivers: received.reduce((sum, r) => sum + (r.cpuMs ?? 0), 0),
    },
  };
}

async function runSage(nc: NatsConnection, server: { url: string; pid: number }, records: number, batch: number, capacity: number): Promise<Run> {
  const jobId = `bench${Date.now()}`;
  await ensureJobStream(nc, jobId);
  try {
    const { done } = await startReceivers("sage", server.url, jobId);
    const transport = await NatsTransport.create(nc, { jobId, capacity });
    const senders = Array.from({ length: RECEIVERS }, (_, to) => transport.sender(EDGE, 0, to));
    const run = await measure(server.pid, done, async () => {
      let waited = 0;
      await produce(records, batch, (to, r, k) => {
        const pending = senders[to]!.send(r, k);
        if (!pending) return;
        const since = performance.now();
        return pending.then(() => void (waited += performance.now() - since));
      });
      for (const sender of senders) sender.end();
      return waited;
    });
    await transport.close();
    return run;
  } finally {
    await deleteJobStream(nc, jobId);
  }
}

async function runRaw(nc: NatsConnection, server: { url: string; pid: number }, records: number, batch: number, window: number): Promise<Run> {
  const run = `r${Date.now()}`;
  const exchange = await createRawExchange(nc, run, RECEIVERS);
  try {
    const { done } = await startReceivers("raw", server.url, run);
    // PubAcks in flight, bounded as a careful publisher bounds them.
    const publisher = new RawPublisher(nc, window);
    return await measure(server.pid, done, async () => {
      await produce(records, batch, (to, r) => publisher.publish(exchange.subject(to), encode(r)));
      await publisher.end(exchange, RECEIVERS);
      return publisher.waitedMs;
    });
  } finally {
    await exchange.remove();
  }
}

async function main(): Promise<void> {
  const records = option("records", 1_000_000);
  const batch = option("batch", 1000);
  const capacity = option("capacity", NATS_CHANNEL_CAPACITY);
  const rounds = option("rounds", 5);
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url, name: "bench-sender" });
  try {
    const sage: Run[] = [];
    const raw: Run[] = [];
    // Alternating rounds spread the noise of a shared machine over both.
    for (let round = 0; round < rounds; round++) {
      const r = await runRaw(nc, server, records, batch, 128);
      const s = await runSage(nc, server, records, batch, capacity);
      raw.push(r);
      sage.push(s);
      const cpu = (run: Run) => `cpu sender ${run.cpu.sender.toFixed(0)} broker ${run.cpu.server.toFixed(0)} receivers ${run.cpu.receivers.toFixed(0)}, waited ${run.waitedMs.toFixed(0)}`;
      console.error(`round ${round + 1}: raw ${r.ms.toFixed(0)} ms (${cpu(r)}), NatsTransport ${s.ms.toFixed(0)} ms (${cpu(s)})`);
    }
    const total = (r: Received[]) => r.reduce((a, b) => ({ count: a.count + b.count, sum: a.sum + b.sum }), { count: 0, sum: 0 });
    for (const [s, r] of sage.map((run, i) => [total(run.received), total(raw[i]!.received)] as const)) {
      if (s.count !== records || s.count !== r.count || s.sum !== r.sum) throw new Error(`CHECKSUM MISMATCH: NatsTransport ${JSON.stringify(s)}, raw ${JSON.stringify(r)}`);
    }
    const rate = (ms: number) => `${(records / ms / 1000).toFixed(2)} M records/s`;
    const row = (name: string, runs: Run[]) => {
      const ms = median(runs.map((r) => r.ms));
      const cpu = median(runs.map((r) => r.cpu.sender + r.cpu.server + r.cpu.receivers));
      return `| ${name} | ${ms.toFixed(0)} ms | ${rate(ms)} | ${cpu.toFixed(0)} ms | ${runs.map((r) => r.ms.toFixed(0)).join(", ")} |`;
    };
    const ratio = median(raw.map((r) => r.ms)) / median(sage.map((r) => r.ms));
    console.log(`Keyed exchange, ${records} records in batches of ${batch}, 1 sender -> ${RECEIVERS} receiving processes (medians of ${rounds} alternating rounds, Node ${process.version})\n`);
    console.log("| exchange | time | throughput | CPU, all processes | runs |\n|---|---:|---:|---:|---|");
    console.log(row(`NatsTransport (capacity ${capacity})`, sage));
    console.log(row("raw nats.js JetStream", raw));
    console.log(`\nratio NatsTransport / raw: ${ratio.toFixed(2)}x (goal >= 0.8x)`);
  } finally {
    await nc.close();
    await server.stop();
  }
}

if (process.argv[2] === "--receiver") await child();
else await main();
