import { describe, expect, it } from "vitest";
import type { JobStatus, OperatorStatus, ServiceStatus } from "../api/types.js";
import { MetricsHistory } from "./metrics-history.js";

function status(operators: Array<Partial<OperatorStatus> & { name: string }>, services: Array<Partial<ServiceStatus> & { name: string }> = []): JobStatus {
  return {
    id: "j",
    name: "j",
    state: "running",
    autostop: false,
    platform: "remote",
    submittedAt: "2026-01-01T00:00:00.000Z",
    runtimeMs: 0,
    restartCount: 0,
    tasks: 1,
    services: services.length,
    isRunning: true,
    operators: operators.map((o) => ({ kind: "map", parallelism: 1, recordsIn: 0, recordsOut: 0, errors: 0, ...o })),
    serviceDetails: services.map((s) => ({ state: "running", remote: false, calls: 0, ...s })),
  };
}

const T0 = 1_700_000_000_000;

describe("MetricsHistory", () => {
  it("samples once per interval, with rates from the counters' growth over it", () => {
    const history = new MetricsHistory({ intervalMs: 1000 });
    expect(history.sample(status([{ name: "map", recordsOut: 0, backlog: 3, busyMsPerSecond: 250 }], [{ name: "llm", calls: 0 }]), T0)).toBe(true);
    // Too soon: not a sample.
    expect(history.sample(status([{ name: "map", recordsOut: 50 }]), T0 + 400)).toBe(false);
    history.sample(status([{ name: "map", recordsIn: 100, recordsOut: 200 }], [{ name: "llm", calls: 10, latency: { count: 10, sumMs: 50, meanMs: 5, p50Ms: 4, p90Ms: 8, p99Ms: 9.5, maxMs: 12 } }]), T0 + 2000);
    expect(history.toJSON()).toEqual({
      intervalMs: 1000,
      t: [T0, T0 + 2000],
      operators: [{ name: "map", recordsInPerSecond: [null, 50], recordsOutPerSecond: [null, 100], backlog: [3, null], busyMsPerSecond: [250, null], backPressuredMsPerSecond: [null, null] }],
      services: [{ name: "llm", callsPerSecond: [null, 5], latencyP50Ms: [null, 4], latencyP99Ms: [null, 9.5] }],
    });
  });

  it("takes a final sample sooner than an interval, but not within a quarter of one", () => {
    const history = new MetricsHistory({ intervalMs: 1000 });
    history.sample(status([{ name: "a" }]), T0);
    expect(history.sample(status([{ name: "a" }]), T0 + 100, { final: true })).toBe(false);
    expect(history.sample(status([{ name: "a", recordsOut: 30 }]), T0 + 300, { final: true })).toBe(true);
    expect(history.toJSON().operators[0]!.recordsOutPerSecond).toEqual([null, 100]);
  });

  it("keeps every column as long as the time axis when operators come and go", () => {
    const history = new MetricsHistory({ intervalMs: 10 });
    history.sample(status([{ name: "a", backlog: 1 }]), T0);
    history.sample(status([{ name: "a", backlog: 2 }, { name: "b", backlog: 5 }]), T0 + 10);
    history.sample(status([{ name: "b", backlog: 6 }]), T0 + 20);
    const { t, operators } = history.toJSON();
    expect(t).toHaveLength(3);
    expect(operators.map((o) => [o.name, o.backlog])).toEqual([["a", [1, 2, null]], ["b", [null, 5, 6]]]);
    for (const o of operators) for (const column of [o.recordsInPerSecond, o.recordsOutPerSecond, o.busyMsPerSecond, o.backPressuredMsPerSecond]) expect(column).toHaveLength(3);
  });

  it("sums the instances' backlogs when the operator reports none of its own", () => {
    const history = new MetricsHistory();
    const instance = { recordsIn: 0, recordsOut: 0, errors: 0, recordsInPerSecond: 0, recordsOutPerSecond: 0, inFlight: 0, backlogFill: 0, backPressuredMsPerSecond: 0, busyMsPerSecond: 0, idleMsPerSecond: 0 };
    history.sample(status([{ name: "a", instances: [{ ...instance, index: 0, backlog: 2 }, { ...instance, index: 1, backlog: 3 }] }]), T0);
    expect(history.toJSON().operators[0]!.backlog).toEqual([5]);
  });

  it("stays within its bound once full, merging the finest neighbours so the whole life stays covered", () => {
    const history = new MetricsHistory({ intervalMs: 1, maxPoints: 40 });
    for (let i = 0; i < 1000; i++) history.sample(status([{ name: "a", recordsOut: i * 10, backlog: i % 2 === 0 ? 0 : 10 }], [{ name: "s", latency: { count: 1, sumMs: 1, meanMs: 1, p50Ms: 1, p90Ms: 1, p99Ms: i === 500 ? 100 : 1, maxMs: 100 } }]), T0 + i);
    const { t, operators, services } = history.toJSON();
    expect(t).toHaveLength(40);
    // In order, from near the start to the last sample, no sample covering much more than its share.
    expect([...t].sort((a, b) => a - b)).toEqual(t);
    expect(t.at(-1)).toBe(T0 + 999);
    expect(t[0]).toBeLessThan(T0 + 64);
    const spans = t.slice(1).map((at, i) => at - t[i]!);
    expect(Math.max(...spans)).toBeLessThanOrEqual(64);
    // The recent end is never coarser than the old one.
    expect(spans.at(-1)!).toBeLessThanOrEqual(spans[0]!);
    for (const column of [operators[0]!.backlog, operators[0]!.recordsOutPerSecond, services[0]!.latencyP99Ms]) expect(column).toHaveLength(40);
    // Levels average over the time merged (a backlog alternating 0 and 10 becomes about 5); a rate of 10/ms stays 10000/s.
    expect(operators[0]!.backlog.slice(0, 30).every((v) => v !== null && v > 3 && v < 7)).toBe(true);
    expect(operators[0]!.recordsOutPerSecond.slice(1).every((v) => v === 10_000)).toBe(true);
    // A tail latency keeps its spike however far it was merged.
    expect(services[0]!.latencyP99Ms.filter((v) => v === 100)).toHaveLength(1);
  });

  it("keeps at most 64 operator series however many names a status lists", () => {
    const history = new MetricsHistory();
    history.sample(status(Array.from({ length: 100 }, (_, i) => ({ name: `op${i}` }))), T0);
    expect(history.toJSON().operators).toHaveLength(64);
  });
});
