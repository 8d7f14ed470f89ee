import { describe, expect, it } from "vitest";
import type { FunctionContext } from "../../api/types.js";
import { NO_WORK_TRACKING, newCounters } from "../metrics.js";
import { SourceReader } from "../source-reader.js";
import { FusedRun, SOURCE_DONE, SOURCE_MORE } from "./fused-run.js";
import { SinkStage } from "./sink-stage.js";
import type { StageEnv } from "./stage.js";

const ctx = {} as FunctionContext;

function stageEnv(): StageEnv {
  return { operator: "sink", counters: newCounters(), work: NO_WORK_TRACKING, concurrency: 1, abortSignal: new AbortController().signal, fail: () => {} };
}

/** A generator source read straight through a fused run ending in a sink that collects. */
function pipeline(count: number) {
  const seen: number[] = [];
  const reader = new SourceReader("batch", function* () {
    for (let i = 0; i < count; i++) yield i;
  }, undefined, ctx, new AbortController().signal);
  const sink = new SinkStage(stageEnv(), undefined, (x) => void seen.push(x as number), ctx);
  const run = new FusedRun([sink.fusion()], sink);
  const pull = run.sourceLoop(reader, newCounters(), (error) => error as Error)!;
  return { seen, pull };
}

describe("FusedRun.sourceLoop", () => {
  it("reads a short first batch, so the end of a batch runs before V8 optimizes the loop, then whole batches", () => {
    const { seen, pull } = pipeline(5000);

    expect(pull(1024)).toBe(SOURCE_MORE);
    expect(seen.length).toBe(16);
    expect(pull(1024)).toBe(SOURCE_MORE);
    expect(seen.length).toBe(16 + 1024);
    expect(pull(1024)).toBe(SOURCE_MORE);
    expect(seen.length).toBe(16 + 2048);
  });

  it("keeps every record, in order, across the short first batch", () => {
    const { seen, pull } = pipeline(3000);

    let status: unknown;
    do status = pull(1024);
    while (status === SOURCE_MORE);

    expect(status).toBe(SOURCE_DONE);
    expect(seen).toEqual(Array.from({ length: 3000 }, (_, i) => i));
  });

  it("reads no more than asked for in the first batch", () => {
    const { seen, pull } = pipeline(100);

    expect(pull(4)).toBe(SOURCE_MORE);
    expect(seen).toEqual([0, 1, 2, 3]);
  });
});

describe("a source read through a fused run, end to end", () => {
  for (const source of ["generator", "array"] as const) {
    it(`counts every record of every operator exactly, across the short first batch and an async turn mid-batch (${source} source)`, async () => {
      const { LocalEnvironment } = await import("../../index.js");
      const env = new LocalEnvironment("fused_counts", { logLevel: "silent", batchSize: 100 });
      const seen: number[] = [];
      const values = Array.from({ length: 1000 }, (_, i) => i);
      const head =
        source === "generator"
          ? env.fromBatch(function* () {
              yield* values;
            })
          : env.fromBatch(values);
      head
        .map((x: number) => (x === 250 ? Promise.resolve(x * 2) : x * 2))
        .filter((y: number) => y % 4 === 0)
        .sink((y: number) => void seen.push(y));
      const job = await env.submit({ autostop: true });
      const { operators, state } = await job.status();
      await env.close();

      expect(state).toBe("finished");
      expect(seen).toEqual(Array.from({ length: 500 }, (_, i) => i * 4));
      const byKind = (kind: string) => operators.find((op) => op.kind === kind)!;
      expect(byKind("batch").recordsOut).toBe(1000);
      expect(byKind("map")).toMatchObject({ recordsIn: 1000, recordsOut: 1000 });
      expect(byKind("filter")).toMatchObject({ recordsIn: 1000, recordsOut: 500 });
      expect(byKind("sink").recordsIn).toBe(500);
    });
  }
});

describe("what a fused run counts, from its drops", () => {
  /** Runs source -> map (drops multiples of 7) -> filter (even) -> map (throws at `failAt`) -> sink and returns the operators' counts. */
  async function countsOf(source: "generator" | "array", failAt: number | undefined) {
    const { LocalEnvironment } = await import("../../index.js");
    const env = new LocalEnvironment("fused_drops", { logLevel: "silent", batchSize: 64 });
    const values = Array.from({ length: 1000 }, (_, i) => i);
    const seen: number[] = [];
    const head =
      source === "generator"
        ? env.fromBatch(function* () {
            yield* values;
          })
        : env.fromBatch(values);
    head
      .map((x: number) => (x % 7 === 0 ? undefined : x) as number, { name: "drop7" })
      .filter((x: number) => x % 2 === 0, { name: "even" })
      .map(
        (x: number) => {
          if (x === failAt) throw new Error("boom");
          return x;
        },
        { name: "check" },
      )
      .sink((x: number) => void seen.push(x), { name: "collect" });
    const { JobFailedError } = await import("../../api/errors.js");
    const status = await env.submit({ autostop: true }).then(
      (job) => job.status(),
      (error: unknown) => {
        if (error instanceof JobFailedError) return error.status;
        throw error;
      },
    );
    await env.close();
    const counts = Object.fromEntries(status.operators.map((op) => [op.name, { in: op.recordsIn, out: op.recordsOut, errors: op.errors }]));
    return { counts, seen, state: status.state };
  }

  for (const source of ["generator", "array"] as const) {
    it(`counts each operator's input and output exactly when records are dropped (${source} source)`, async () => {
      const { counts, seen, state } = await countsOf(source, undefined);
      const kept = Array.from({ length: 1000 }, (_, i) => i).filter((x) => x % 7 !== 0 && x % 2 === 0);

      expect(state).toBe("finished");
      expect(seen).toEqual(kept);
      expect(counts["drop7"]).toMatchObject({ in: 1000, out: 1000 - 143 });
      expect(counts["even"]).toMatchObject({ in: 857, out: kept.length });
      expect(counts["check"]).toMatchObject({ in: kept.length, out: kept.length });
      expect(counts["collect"]).toMatchObject({ in: kept.length });
    });

    it(`counts the record in flight up to the operator that threw, mid-batch (${source} source)`, async () => {
      const { counts, seen, state } = await countsOf(source, 500);
      // Records 0..500 entered the pipeline; 500 reached `check`, which threw on it.
      const before = Array.from({ length: 500 }, (_, i) => i).filter((x) => x % 7 !== 0 && x % 2 === 0);

      expect(state).toBe("failed");
      expect(seen).toEqual(before);
      const dropped7 = Array.from({ length: 501 }, (_, i) => i).filter((x) => x % 7 === 0).length;
      expect(counts["drop7"]).toMatchObject({ in: 501, out: 501 - dropped7 });
      expect(counts["even"]).toMatchObject({ in: 501 - dropped7, out: before.length + 1 });
      expect(counts["check"]).toMatchObject({ in: before.length + 1, out: before.length, errors: 1 });
      expect(counts["collect"]).toMatchObject({ in: before.length });
    });
  }
});
