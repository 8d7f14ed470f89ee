import { describe, expect, it } from "vitest";
import { LocalEnvironment, type DataStream } from "../../src/index.js";

const later = <T>(value: T, ms: number) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

/** A small deterministic generator, so a failing trial can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
}

interface Step {
  kind: "map" | "filter";
  /** below 0.3: always sync; above 0.7: always async; between: async for even records. */
  asyncness: number;
  concurrency: number;
  mod: number;
}

// Random chains of maps and filters, each sync, async or mixed per record, with random
// concurrency and batch sizes, must give exactly what the same steps give on a plain array,
// in the same order. This is the property the fused loops and ordered windows exist to keep.
describe("local mode - order and completeness under mixed sync and async stages", () => {
  it.each([1, 2, 3, 4])("keeps every record, in order (seed %i)", async (seed) => {
    const rnd = random(seed * 7919);
    for (let trial = 0; trial < 15; trial++) {
      const input = Array.from({ length: 1 + Math.floor(rnd() * 40) }, (_, i) => i);
      const steps: Step[] = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => ({
        kind: rnd() < 0.6 ? "map" : "filter",
        asyncness: rnd(),
        concurrency: 1 + Math.floor(rnd() * 4),
        mod: 2 + Math.floor(rnd() * 3),
      }));
      const env = new LocalEnvironment(`fuzz-${seed}-${trial}`, { logLevel: "silent", batchSize: 1 + Math.floor(rnd() * 7) });
      let stream: DataStream<number> = env.fromBatch(input);
      let expected = input.slice();
      for (const step of steps) {
        const isAsync = (x: number) => (step.asyncness < 0.3 ? false : step.asyncness > 0.7 ? true : x % 2 === 0);
        if (step.kind === "map") {
          stream = stream.map((x: number) => (isAsync(x) ? later(x + 1, (x * 7) % 4) : x + 1), { concurrency: step.concurrency });
          expected = expected.map((x) => x + 1);
        } else {
          stream = stream.filter((x: number) => (isAsync(x) ? later(x % step.mod !== 0, (x * 3) % 4) : x % step.mod !== 0), { concurrency: step.concurrency });
          expected = expected.filter((x) => x % step.mod !== 0);
        }
      }
      const got: number[] = [];
      const asyncSink = rnd() > 0.5;
      stream.sink((x: number) => {
        got.push(x);
        return asyncSink && x % 3 === 0 ? later(undefined, 2) : undefined;
      }, { concurrency: 1 + Math.floor(rnd() * 3) });
      await env.submit({ autostop: true, timeoutMs: 10_000 });
      expect({ trial, steps, got }).toEqual({ trial, steps, got: expected });
    }
  });
});
