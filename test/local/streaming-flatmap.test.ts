import { describe, expect, it } from "vitest";
import { LocalEnvironment } from "../../src/index.js";

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A flatMap whose function returns an async iterable (a token stream, say) hands each item downstream as it comes. */
describe("flatMap over an async iterable", () => {
  for (const concurrency of [1, 3]) {
    it(`emits items as they are produced, in input order (concurrency ${concurrency})`, async () => {
      const seen: Array<{ item: string; at: number }> = [];
      const produced = new Map<string, number>();
      const started = performance.now();
      const env = new LocalEnvironment("streaming_flatmap");
      env
        .fromBatch(["a", "b", "c"])
        .flatMap(
          async function* (word: string) {
            for (let i = 0; i < 3; i++) {
              await tick(word === "a" ? 60 : 5);
              produced.set(`${word}${i}`, performance.now() - started);
              yield `${word}${i}`;
            }
          },
          { concurrency },
        )
        .sink((item: string) => void seen.push({ item, at: performance.now() - started }));
      await env.submit({ autostop: true });
      await env.close();
      expect(seen.map((s) => s.item)).toEqual(["a0", "a1", "a2", "b0", "b1", "b2", "c0", "c1", "c2"]);
      // "a0" comes after ~60 ms, "a2" after ~180 ms: the first item must not wait for the last. It
      // reached the sink before "a2" was produced (timing the gap between their arrivals, > 80 ms,
      // failed when a descheduled process handed "a0" on late).
      expect(seen[0]!.at).toBeLessThan(produced.get("a2")!);
    });
  }

  it("stops reading the iterable when the job is aborted, and closes it", async () => {
    let closed = false;
    let produced = 0;
    const env = new LocalEnvironment("streaming_flatmap_abort");
    env
      .fromBatch(["x"])
      .flatMap(async function* () {
        try {
          for (;;) {
            await tick(5);
            produced++;
            yield produced;
          }
        } finally {
          closed = true;
        }
      })
      .sink(() => {});
    const job = await env.submit();
    await tick(60);
    await job.stop({ mode: "abort" });
    await env.close();
    // The step in flight at the abort may finish; nothing is asked for after it.
    const after = produced;
    await tick(40);
    expect(produced).toBeLessThanOrEqual(after + 1);
    const settled = produced;
    await tick(40);
    expect(produced).toBe(settled);
    expect(closed).toBe(true);
  });
});
