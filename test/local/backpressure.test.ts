import { describe, expect, it, vi } from "vitest";
import { LocalEnvironment } from "../../src/index.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("local mode - backpressure", () => {
  it("keeps an endless fast source within a bounded distance of a slow consumer", async () => {
    const env = new LocalEnvironment("bounded", { logLevel: "silent", batchSize: 64, channelCapacity: 4 });
    env
      .fromSource(function* () {
        for (let i = 0; ; i++) yield i;
      })
      .map((x: number) => x, { parallelism: 2 }) // a real channel between tasks, not a fused call
      .sink(async () => sleep(1), { concurrency: 2 });
    const job = await env.submit();
    await sleep(300);
    // A status once the sink consumed something: 300 ms that a descheduled process spent before
    // the first record got through would show none.
    const { operators } = await vi.waitFor(
      async () => {
        const status = await job.status();
        expect(status.operators.find((op) => op.kind === "sink")!.recordsIn).toBeGreaterThan(0);
        return status;
      },
      { timeout: 10_000, interval: 20 },
    );
    await job.stop({ mode: "abort" });
    const produced = operators.find((op) => op.kind === "source")!.recordsOut;
    const consumed = operators.find((op) => op.kind === "sink")!.recordsIn;
    // Two inboxes of (capacity + 1) batches of 64, plus a batch in hand per task: far below what
    // an unbounded source produces in 300 ms (millions).
    expect(produced - consumed).toBeLessThan(2_000);
    expect(consumed).toBeGreaterThan(0);
  });
});
