import { describe, expect, it } from "vitest";
import type { JobHandle, JobStatus, OperatorStatus } from "../api/types.js";
import { bottleneckOf, EtaEstimator, jobProgress, progressLine } from "./job-progress.js";
import { operatorLines } from "./format.js";
import { createProgressDisplay } from "./progress.js";
import { fakeTerminal, jobStatus } from "../../test/support/job-status.js";

const source = (done: number, total: number, unit: "records" | "bytes" = "records", name = "Source"): OperatorStatus => ({
  name, kind: "batch", parallelism: 1, recordsIn: 0, recordsOut: done, errors: 0, progress: { done, total, unit },
});
const map = (name: string, busyMsPerSecond: number, extra: Partial<OperatorStatus> = {}): OperatorStatus => ({
  name, kind: "map", parallelism: 1, recordsIn: 10, recordsOut: 10, errors: 0, busyMsPerSecond, ...extra,
});
const at = (runtimeMs: number, operators: OperatorStatus[]): JobStatus => jobStatus({ runtimeMs, operators });

describe("sage run / job watch - progress, ETA and bottleneck", () => {
  it("adds up sources of one unit; with mixed units the least advanced source decides", () => {
    expect(jobProgress(at(1, [source(30, 100), source(20, 100, "records", "Other")]))).toEqual({ done: 50, total: 200, unit: "records", fraction: 0.25, measure: "read" });
    expect(jobProgress(at(1, [source(90, 100), source(10, 1000, "bytes", "Files")]))).toMatchObject({ unit: "bytes", fraction: 0.01 });
    expect(jobProgress(at(1, [map("m", 0)]))).toBeUndefined();
    // a source that does not know its size leaves the job's progress unknown
    expect(jobProgress(at(1, [source(30, 100), { ...map("gen", 0), kind: "source" }]))).toBeUndefined();
  });

  it("counts records through to the sinks when every operator after the one source is one-to-one", () => {
    const sink = (recordsIn: number, name = "Save"): OperatorStatus => ({ name, kind: "sink", parallelism: 1, recordsIn, recordsOut: 0, errors: 0 });
    // read all 300 at once (one batch), 88 through the slow map: 29%, not 100%
    expect(jobProgress(at(1, [source(300, 300), map("Ask", 990), sink(88)]))).toEqual({ done: 88, total: 300, unit: "records", fraction: 88 / 300, measure: "done" });
    // two sinks: the one further behind
    expect(jobProgress(at(1, [source(300, 300), map("Ask", 990), sink(88), sink(50, "Audit")]))!.done).toBe(50);
    // a filter drops records: only what was read can be said
    const filtered = at(1, [source(300, 300), { ...map("f", 0), kind: "filter" }, sink(10)]);
    expect(jobProgress(filtered)).toMatchObject({ done: 300, measure: "read" });
    expect(progressLine(filtered, undefined)).toBe("read 100% · 300/300 records");
  });

  it("names the busiest operator as the bottleneck once it is busy half the time, never a source", () => {
    expect(bottleneckOf(at(1, [{ ...source(1, 2), busyMsPerSecond: 1000 }, map("Embed", 400), map("Ask", 970, { inFlight: 8 })]))!.operator.name).toBe("Ask");
    expect(bottleneckOf(at(1, [map("Embed", 400)]))).toBeUndefined();
    // chained in one task, equally busy: the one whose async calls take its time
    const chain = at(1, [map("parse", 1000), map("llm", 1000, { latency: { count: 9, sumMs: 900, meanMs: 100, p50Ms: 100, p90Ms: 100, p99Ms: 100, maxMs: 100 }, recordsInPerSecond: 9, inFlight: 8 })]);
    expect(bottleneckOf(chain)!.operator.name).toBe("llm");
  });

  it("estimates the time left from the recent pace", () => {
    const eta = new EtaEstimator(10_000);
    expect(eta.update(at(100, [source(0, 1000)]))).toBeUndefined();
    const fresh = new EtaEstimator(10_000);
    // one reading: the average pace since the start (100 in 1 s)
    expect(fresh.update(at(1000, [source(100, 1000)]))).toBeCloseTo(9000, -1);
    // 100 records per second: 700 left after 3 s
    expect(fresh.update(at(3000, [source(300, 1000)]))).toBeCloseTo(7000, -1);
    // it slows down: the estimate follows the last 10 s (from the reading at 3 s: 30% in 18 s), not
    // the whole run's pace (60% in 21 s would say 14 s)
    fresh.update(at(20_000, [source(400, 1000)]));
    expect(fresh.update(at(21_000, [source(600, 1000)]))).toBeCloseTo((0.4 * 18_000) / 0.3, -1);
    expect(fresh.update(at(22_000, [source(1000, 1000)]))).toBe(0);
  });

  it("says it in one line", () => {
    const status = at(2000, [source(3000, 3000), map("Ask", 970, { inFlight: 8 }), { name: "Save", kind: "sink", parallelism: 1, recordsIn: 1260, recordsOut: 0, errors: 0 }]);
    expect(progressLine(status, 12_500)).toBe("42% · 1,260/3,000 records · ETA 12.5s · bottleneck: Ask (busy 97%, 8 in flight)");
    expect(progressLine(at(1, [source(512, 2048, "bytes")]), undefined)).toBe("read 25% · 512 B/2.0 KB");
    expect(progressLine(at(1, [map("m", 10)]), undefined)).toBeUndefined();
  });

  it("operator lines show a running operator's own rate and whether it is busy or backpressured", () => {
    const running = at(2000, [map("Embed", 120, { recordsOutPerSecond: 1500, backPressuredMsPerSecond: 700 }), map("Ask", 990, { recordsOutPerSecond: 40 })]);
    const lines = operatorLines(running);
    expect(lines[0]).toMatch(/Embed .*1,500\/s backpressured 70%$/);
    expect(lines[1]).toMatch(/Ask .*40\/s busy 99%$/);
    expect(operatorLines({ ...running, state: "finished", isRunning: false }).join("\n")).not.toMatch(/busy|backpressured|\/s/);
  });

  it("the live display of sage run shows the progress line under the headline", async () => {
    const terminal = fakeTerminal();
    const display = createProgressDisplay(terminal);
    const status = at(2000, [source(600, 1000), map("Ask", 990)]);
    const job = { id: status.id, status: async () => status } as unknown as JobHandle;
    display.track(job, status);
    await new Promise((resolve) => setTimeout(resolve, 400)); // two refreshes feed the estimator
    expect(terminal.text).toContain("  read 60% · 600/1,000 records");
    expect(terminal.text).toContain("bottleneck: Ask (busy 99%)");
    display.close([{ ...status, state: "finished", isRunning: false }]);
  });
});
