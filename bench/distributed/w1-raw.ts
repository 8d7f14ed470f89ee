/**
 * W1 by hand on raw nats.js JetStream, the baseline of distributed W1: this process reads the
 * source, maps, filters and keys, and publishes the records in batches per partition (key % 2)
 * through raw-jetstream.ts; 2 receiving processes (forked, fresh) keep the running sum per key and
 * fold the sums into a checksum. Prints one JSON line: the time from the first record to both
 * receivers done, and the checksum.
 *
 *   SAGE_CLUSTER=nats://... SAGE_BENCH_RECORDS=5000000 SAGE_BENCH_BATCH=256 node --import tsx bench/distributed/w1-raw.ts
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { decode, encode } from "../../src/cluster/codec.js";
import { Checksum } from "../lib/checksum.js";
import { RunningSum, w1Filter, w1Key, w1Map } from "../workloads/w1.js";
import { consumeRaw, createRawExchange, RawPublisher } from "./raw-jetstream.js";

const PARTITIONS = 2;

/** What a receiver reports at the end. */
interface Received {
  count: number;
  acc: number;
}

async function receiver(url: string, run: string, index: number): Promise<void> {
  const nc = await connect({ servers: url, name: `raw-w1-receiver-${index}` });
  const state = new RunningSum();
  const sum = new Checksum();
  const consuming = consumeRaw(nc, run, index, (body) => {
    for (const y of decode<number[]>(body)) sum.add(state.add(y));
  });
  await consuming.ready;
  process.send!({ ready: true });
  await consuming.done;
  process.send!({ received: { count: sum.count, acc: sum.acc } satisfies Received });
  await nc.close();
  process.disconnect();
}

async function sender(url: string, records: number, batch: number): Promise<void> {
  const nc = await connect({ servers: url, name: "raw-w1-sender" });
  const run = `w1${Date.now()}`;
  const exchange = await createRawExchange(nc, run, PARTITIONS);
  try {
    const self = fileURLToPath(import.meta.url);
    const children = Array.from({ length: PARTITIONS }, (_, i) => fork(self, ["--receiver", url, run, String(i)], { execArgv: process.execArgv }));
    const ready = children.map((c) => new Promise<void>((resolve, reject) => {
      c.on("message", (m: { ready?: boolean }) => m.ready && resolve());
      c.once("exit", (code) => reject(new Error(`receiver exited with ${code}`)));
    }));
    const done = children.map((c) => new Promise<Received>((resolve, reject) => {
      c.on("message", (m: { received?: Received }) => m.received && resolve(m.received));
      c.once("exit", (code) => code !== 0 && reject(new Error(`receiver exited with ${code}`)));
    }));
    await Promise.all(ready);

    const started = performance.now();
    const publisher = new RawPublisher(nc);
    const buffers: number[][] = Array.from({ length: PARTITIONS }, () => []);
    let messages = 0;
    for (let x = 0; x < records; x++) {
      const y = w1Map(x);
      if (!w1Filter(y)) continue;
      const p = w1Key(y) % PARTITIONS;
      const buffer = buffers[p]!;
      buffer.push(y);
      if (buffer.length === batch) {
        buffers[p] = [];
        messages++;
        const wait = publisher.publish(exchange.subject(p), encode(buffer));
        if (wait) await wait;
      }
    }
    for (let p = 0; p < PARTITIONS; p++) {
      if (buffers[p]!.length === 0) continue;
      messages++;
      await publisher.publish(exchange.subject(p), encode(buffers[p]));
    }
    await publisher.end(exchange, PARTITIONS);
    const received = await Promise.all(done);
    const ms = performance.now() - started;
    const total = new Checksum();
    for (const r of received) {
      total.count += r.count;
      total.acc = (total.acc + r.acc) | 0;
    }
    console.log(JSON.stringify({ ms, checksum: total.value, messages, waitedMs: publisher.waitedMs }));
  } finally {
    await exchange.remove();
    await nc.close();
  }
}

if (process.argv[2] === "--receiver") await receiver(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
else await sender(process.env.SAGE_CLUSTER!, Number(process.env.SAGE_BENCH_RECORDS ?? 5_000_000), Number(process.env.SAGE_BENCH_BATCH ?? 256));
