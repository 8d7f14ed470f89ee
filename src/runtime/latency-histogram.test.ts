/** LatencyHistogram: percentiles within 1.6% of exact ones, exact extremes, merging, snapshots, Prometheus buckets. */
import { describe, expect, it } from "vitest";
import { HISTOGRAM_SLOTS, LatencyHistogram } from "./latency-histogram.js";

/** A deterministic pseudo-random generator, so a failure can be re-run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** The exact value at `quantile` of sorted values, by the same rank rule (nearest rank). */
function exactPercentile(sorted: number[], quantile: number): number {
  return sorted[Math.max(0, Math.ceil(quantile * sorted.length) - 1)]!;
}

describe("LatencyHistogram", () => {
  it("answers percentiles within 1/64 of the exact ones over values from 1 us to an hour", () => {
    const next = random(7);
    const values = Array.from({ length: 50_000 }, () => Math.trunc(Math.exp(next() * Math.log(3.6e9))));
    const histogram = new LatencyHistogram();
    for (const value of values) histogram.record(value);
    values.sort((a, b) => a - b);
    for (const quantile of [0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999]) {
      const exact = exactPercentile(values, quantile);
      const reported = histogram.percentile(quantile);
      expect(Math.abs(reported - exact), `p${quantile * 100}: ${reported} vs ${exact}`).toBeLessThanOrEqual(Math.max(0.5, exact / 64));
    }
    expect(histogram.percentile(0)).toBe(values[0]);
    expect(histogram.percentile(1)).toBe(values.at(-1));
    expect(histogram.count).toBe(values.length);
  });

  it("counts small values exactly and clamps bad ones", () => {
    const histogram = new LatencyHistogram();
    for (const value of [0, 1, 2, 3, 31]) histogram.record(value);
    expect([0.2, 0.4, 0.6, 0.8, 1].map((q) => histogram.percentile(q))).toEqual([0, 1, 2, 3, 31]);
    histogram.record(-5);
    histogram.record(Number.NaN);
    histogram.record(1e15);
    expect(histogram.count).toBe(8);
    expect(histogram.percentile(0)).toBe(0);
    expect(histogram.percentile(1)).toBe(0xffff_ffff);
  });

  it("is empty before any record", () => {
    const histogram = new LatencyHistogram();
    expect(histogram.percentile(0.5)).toBe(0);
    expect(histogram.summary()).toEqual({ count: 0, sumMs: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0 });
    expect(histogram.snapshot()).toEqual({ count: 0, sumMicros: 0, minMicros: 0, maxMicros: 0, slots: [] });
  });

  it("merges instances into what one histogram of all their records holds", () => {
    const next = random(11);
    const whole = new LatencyHistogram();
    const parts = [new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram()];
    for (let i = 0; i < 9_000; i++) {
      const value = Math.trunc(next() * 250_000);
      whole.record(value);
      parts[i % 3]!.record(value);
    }
    const merged = new LatencyHistogram();
    merged.merge(parts[0]!);
    merged.merge(parts[1]!.snapshot());
    merged.merge(JSON.parse(JSON.stringify(parts[2]!.snapshot())));
    expect(merged.snapshot()).toEqual(whole.snapshot());
    expect(merged.summary()).toEqual(whole.summary());
  });

  it("travels as a small snapshot: only non-empty slots", () => {
    const histogram = new LatencyHistogram();
    for (let i = 0; i < 100_000; i++) histogram.recordMs(2.5);
    const snapshot = histogram.snapshot();
    expect(snapshot.slots).toHaveLength(2);
    expect(JSON.stringify(snapshot).length).toBeLessThan(100);
    expect(LatencyHistogram.fromSnapshot(snapshot).summary()).toMatchObject({ count: 100_000, meanMs: 2.5, p50Ms: 2.5, maxMs: 2.5 });
  });

  it("refuses a snapshot naming a slot it does not have", () => {
    const histogram = new LatencyHistogram();
    expect(() => histogram.merge({ count: 1, sumMicros: 1, minMicros: 1, maxMicros: 1, slots: [HISTOGRAM_SLOTS, 1] })).toThrow(/slot 896, outside 0\.\.895/);
  });

  it("gives Prometheus cumulative buckets that never count a value above its bound", () => {
    const next = random(3);
    const values = Array.from({ length: 20_000 }, () => Math.trunc(next() * 2_000_000));
    const histogram = new LatencyHistogram();
    for (const value of values) histogram.record(value);
    const bounds = [1_000, 5_000, 25_000, 100_000, 500_000, 1_000_000, 2_500_000];
    const buckets = histogram.cumulativeAt(bounds);
    bounds.forEach((bound, i) => {
      const atOrBelow = values.filter((v) => v <= bound).length;
      expect(buckets[i]).toBeLessThanOrEqual(atOrBelow);
      expect(buckets[i]).toBeGreaterThanOrEqual(values.filter((v) => v <= bound - bound / 32).length);
    });
    expect(buckets.at(-1)).toBe(values.length);
  });
});
