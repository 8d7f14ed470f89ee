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
  type SourceKind = "generator" | "array" | "batchFunction" | "asyncBatchFunction";

  /** The values 0..999 as a source of `kind` (an async BatchFunction answers every 100th record with a Promise). */
  async function sourceOf(env: import("../../api/local-environment.js").LocalEnvironment, kind: SourceKind, throwAt?: number) {
    const { BatchFunction } = await import("../../index.js");
    const values = Array.from({ length: 1000 }, (_, i) => i);
    const next = (i: number) => {
      if (i === throwAt) throw new Error("source broke");
      return i;
    };
    class Counting extends BatchFunction<number> {
      i = 0;
      execute(): number | null | Promise<number | null> {
        if (this.i >= values.length) return null;
        const x = next(this.i++);
        return kind === "asyncBatchFunction" && x % 100 === 50 ? Promise.resolve(x) : x;
      }
    }
    switch (kind) {
      case "generator":
        return env.fromBatch(function* () {
          for (const i of values) yield next(i);
        }, { name: "source" });
      case "array":
        return env.fromBatch(values, { name: "source" });
      default:
        return env.fromBatch(Counting, { name: "source" });
    }
  }

  /** The final status, whether the job finished or failed. */
  async function endStatus(env: import("../../api/local-environment.js").LocalEnvironment) {
    const { JobFailedError } = await import("../../api/errors.js");
    const status = await env.submit({ autostop: true }).then(
      (job) => job.status(),
      (error: unknown) => {
        if (error instanceof JobFailedError) return error.status;
        throw error;
      },
    );
    await env.close();
    return status;
  }

  const countsIn = (status: import("../../api/types.js").JobStatus) =>
    Object.fromEntries(status.operators.map((op) => [op.name, { in: op.recordsIn, out: op.recordsOut, errors: op.errors }]));

  /** Runs source -> map (drops multiples of 7) -> filter (even) -> map (throws at `failAt`) -> sink and returns the operators' counts. */
  async function countsOf(source: SourceKind, failAt: number | undefined) {
    const { LocalEnvironment } = await import("../../index.js");
    const env = new LocalEnvironment("fused_drops", { logLevel: "silent", batchSize: 64 });
    const seen: number[] = [];
    (await sourceOf(env, source))
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
    const status = await endStatus(env);
    return { counts: countsIn(status), seen, state: status.state };
  }

  for (const source of ["generator", "array", "batchFunction", "asyncBatchFunction"] as const) {
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

  for (const source of ["generator", "batchFunction"] as const) {
    it(`counts the error of a source that throws inside the fused loop, and what it sent before (${source} source)`, async () => {
      const { LocalEnvironment } = await import("../../index.js");
      const env = new LocalEnvironment("fused_source_throws", { logLevel: "silent", batchSize: 64 });
      const seen: number[] = [];
      (await sourceOf(env, source, 500)).map((x: number) => x + 1, { name: "plus1" }).sink((x: number) => void seen.push(x), { name: "collect" });
      const status = await endStatus(env);
      const counts = countsIn(status);

      expect(status.state).toBe("failed");
      expect(status.error?.operator).toBe("source");
      expect(seen).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
      expect(counts["source"]).toMatchObject({ out: 500, errors: 1 });
      expect(counts["plus1"]).toMatchObject({ in: 500, out: 500, errors: 0 });
      expect(counts["collect"]).toMatchObject({ in: 500 });
    });
  }

  it("counts a run that ends in a keyBy feeding a parallel operator over channels", async () => {
    const { LocalEnvironment } = await import("../../index.js");
    const env = new LocalEnvironment("fused_keyby_end", { logLevel: "silent", batchSize: 64 });
    const seen: number[] = [];
    (await sourceOf(env, "generator"))
      .filter((x: number) => x % 3 !== 0, { name: "not3" })
      .keyBy((x: number) => x % 5, { name: "by5" })
      .map((x: number) => x * 2, { name: "double", parallelism: 2 })
      .sink((x: number) => void seen.push(x), { name: "collect" });
    const status = await endStatus(env);
    const counts = countsIn(status);
    const kept = Array.from({ length: 1000 }, (_, i) => i).filter((x) => x % 3 !== 0);

    expect(status.state).toBe("finished");
    expect(seen.sort((a, b) => a - b)).toEqual(kept.map((x) => x * 2));
    expect(counts["not3"]).toMatchObject({ in: 1000, out: kept.length });
    expect(counts["by5"]).toMatchObject({ in: kept.length, out: kept.length });
    expect(counts["double"]).toMatchObject({ in: kept.length, out: kept.length });
    expect(counts["collect"]).toMatchObject({ in: kept.length });
  });
});
