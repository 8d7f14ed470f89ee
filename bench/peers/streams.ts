/** Node.js stream peers: object-mode Readable -> Transform(s) -> Writable through `pipeline`. */
import { Readable, Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Checksum } from "../lib/checksum.js";
import type { PrepareFn } from "../lib/types.js";
import { RunningSum, w1Filter, w1Map, w1Source } from "../workloads/w1.js";
import { createW2Agent, fetchW2, W2_CONCURRENCY, W2Sink, w2Source, type W2Reply } from "../workloads/w2.js";
import { w3Source, w3Step } from "../workloads/w3.js";

/** An object-mode Transform applying `fn`; `undefined` results are dropped. */
function mapTransform<T, U>(fn: (value: T) => U | undefined): Transform {
  return new Transform({
    objectMode: true,
    transform(chunk: T, _encoding, callback) {
      const out = fn(chunk);
      if (out === undefined) callback();
      else callback(null, out);
    },
  });
}

/** An object-mode Writable calling `fn` per record. */
function sinkWritable<T>(fn: (value: T) => void): Writable {
  return new Writable({
    objectMode: true,
    write(chunk: T, _encoding, callback) {
      fn(chunk);
      callback();
    },
  });
}

/** W1: Readable.from(generator) -> map -> filter -> running sum -> Writable. */
export const w1Streams: PrepareFn = () => ({
  async run(n) {
    const state = new RunningSum();
    const sink = new Checksum();
    await pipeline(
      Readable.from(w1Source(n)),
      mapTransform(w1Map),
      mapTransform((y: number) => (w1Filter(y) ? y : undefined)),
      mapTransform((y: number) => state.add(y)),
      sinkWritable((v: number) => sink.add(v)),
    );
    return { checksum: sink.value };
  },
});

/** W2: Readable.from(generator).map(fetch, { concurrency: 64 }) (ordered) -> Writable. */
export const w2Streams: PrepareFn = ({ httpPort }) => {
  const agent = createW2Agent();
  const port = httpPort!;
  return {
    async run(n) {
      const sink = new W2Sink();
      await pipeline(
        Readable.from(w2Source(n)).map((x: number) => fetchW2(agent, port, x), { concurrency: W2_CONCURRENCY }),
        sinkWritable((reply: W2Reply) => sink.add(reply)),
      );
      return { checksum: sink.checksum, info: { inOrder: sink.inOrder } };
    },
    dispose: () => agent.destroy(),
  };
};

/** W3: Readable.from(generator) -> Transform(get + put) -> Writable. */
export const w3Streams: PrepareFn = async () => {
  // Imported here: the KV class extends BaseService, and only W3 children should load SAGE.
  const { KvService } = await import("../workloads/kv-service.js");
  return {
    async run(n) {
      const kv = new KvService();
      const sink = new Checksum();
      await pipeline(
        Readable.from(w3Source(n)),
        mapTransform((x: number) => w3Step(kv, x)),
        sinkWritable((v: number) => sink.add(v)),
      );
      return { checksum: sink.value };
    },
  };
};
