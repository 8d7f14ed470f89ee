/** The hand-written loops: the ceiling every other peer is compared with. */
import { Checksum } from "../lib/checksum.js";
import type { PrepareFn } from "../lib/types.js";
import { RunningSum, w1Filter, w1Map } from "../workloads/w1.js";
import { createW2Agent, fetchW2, W2_CONCURRENCY, W2Sink, type W2Reply } from "../workloads/w2.js";
import { w3Step } from "../workloads/w3.js";

/** W1 as a plain `for` loop over the integers. */
export const w1Loop: PrepareFn = () => ({
  async run(n) {
    const state = new RunningSum();
    const sink = new Checksum();
    for (let x = 0; x < n; x++) {
      const y = w1Map(x);
      if (!w1Filter(y)) continue;
      sink.add(state.add(y));
    }
    return { checksum: sink.value };
  },
});

/**
 * W1 as a `for...of` loop over a generator like the natural SAGE variant's: the ceiling of a
 * generator source (shows what the iterator protocol alone costs).
 */
export const w1LoopGenerator: PrepareFn = () => ({
  async run(n) {
    const state = new RunningSum();
    const sink = new Checksum();
    const source = function* () {
      for (let i = 0; i < n; i++) yield i;
    };
    for (const x of source()) {
      const y = w1Map(x);
      if (!w1Filter(y)) continue;
      sink.add(state.add(y));
    }
    return { checksum: sink.value };
  },
});

/** W2 with an ordered sliding window of 64 promises. */
export const w2Loop: PrepareFn = ({ httpPort }) => {
  const agent = createW2Agent();
  const port = httpPort!;
  return {
    async run(n) {
      const sink = new W2Sink();
      const ring = new Array<Promise<W2Reply>>(W2_CONCURRENCY);
      for (let x = 0; x < n; x++) {
        const slot = x % W2_CONCURRENCY;
        if (x >= W2_CONCURRENCY) sink.add(await ring[slot]!);
        ring[slot] = fetchW2(agent, port, x);
      }
      for (let x = Math.max(0, n - W2_CONCURRENCY); x < n; x++) sink.add(await ring[x % W2_CONCURRENCY]!);
      return { checksum: sink.checksum, info: { inOrder: sink.inOrder } };
    },
    dispose: () => agent.destroy(),
  };
};

/** W3 calling the KV class directly. */
export const w3Loop: PrepareFn = async () => {
  // Imported here: the KV class extends BaseService, and only W3 children should load SAGE.
  const { KvService } = await import("../workloads/kv-service.js");
  return {
    async run(n) {
      const kv = new KvService();
      const sink = new Checksum();
      for (let x = 0; x < n; x++) sink.add(w3Step(kv, x));
      return { checksum: sink.value };
    },
  };
};

/** W3 as a `for...of` loop over a generator like the natural SAGE variant's: the ceiling of a generator source. */
export const w3LoopGenerator: PrepareFn = async () => {
  const { KvService } = await import("../workloads/kv-service.js");
  return {
    async run(n) {
      const kv = new KvService();
      const sink = new Checksum();
      const source = function* () {
        for (let i = 0; i < n; i++) yield i;
      };
      for (const x of source()) sink.add(w3Step(kv, x));
      return { checksum: sink.value };
    },
  };
};
