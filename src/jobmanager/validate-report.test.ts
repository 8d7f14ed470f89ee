import { describe, expect, it } from "vitest";
import type { JobStatus } from "../api/types.js";
import { isJobId } from "./paths.js";
import { expiredJobs, parseDuration } from "./retention.js";
import { checkReport } from "./validate-report.js";

const ID = "0b6f3a5e-8d1c-4e2a-9f00-123456789abc";
const status = (overrides: Record<string, unknown> = {}) => ({
  id: "../../elsewhere", name: "n", state: "running", autostop: true, platform: "local", submittedAt: "2026-01-01T00:00:00.000Z",
  runtimeMs: 5, restartCount: 0, tasks: 1, services: 0, isRunning: true, operators: [], extra: "dropped", ...overrides,
});

describe("checkReport", () => {
  it("rebuilds a status from known fields, with the server's id", () => {
    const checked = checkReport({ type: "event", event: { type: "metrics", jobId: "x", at: "2026-01-01T00:00:01Z", status: status() } }, ID, 100);
    expect(checked.ok).toBe(true);
    const event = (checked as { message: { event: { jobId: string; status: JobStatus } } }).message.event;
    expect(event.jobId).toBe(ID);
    expect(event.status).toMatchObject({ id: ID, platform: "remote", tasks: 1 });
    expect(event.status).not.toHaveProperty("extra");
  });

  it.each([
    [{ tasks: "<img>" }, /status.tasks must be a finite number/],
    [{ runtimeMs: -1 }, /status.runtimeMs must be a finite number >= 0/],
    [{ state: "exploded" }, /status.state "exploded" is not a job state/],
    [{ operators: [{ name: "a", kind: "map", parallelism: 1, recordsIn: Infinity, recordsOut: 0, errors: 0 }] }, /operators\[0\].recordsIn/],
    [{ operators: new Array(1001).fill(0) }, /1001 entries/],
    [{ startedAt: "yesterday" }, /startedAt must be a date/],
  ])("refuses a status with %j", (overrides, problem) => {
    const checked = checkReport({ type: "event", event: { type: "metrics", status: status(overrides) } }, ID, 100);
    expect(checked).toMatchObject({ ok: false, problem: expect.stringMatching(problem) });
  });

  it("keeps the runtime's numbers, instances, progress, latency and edges; refuses forged ones", () => {
    const latency = { count: 3, sumMs: 4.5, meanMs: 1.5, p50Ms: 1, p90Ms: 2, p99Ms: 2, maxMs: 2, extra: 1 };
    const instance = {
      index: 0, recordsIn: 5, recordsOut: 5, errors: 0, recordsInPerSecond: 10, recordsOutPerSecond: 10, inFlight: 1,
      backlog: 2, backlogFill: 0.125, backPressuredMsPerSecond: 0, busyMsPerSecond: 900, idleMsPerSecond: 100, latency, worker: "w1",
    };
    const op = {
      name: "Ask", kind: "map", parallelism: 1, recordsIn: 5, recordsOut: 5, errors: 0, recordsInPerSecond: 10, recordsOutPerSecond: 10,
      inFlight: 1, backlog: 2, backPressuredMsPerSecond: 0, busyMsPerSecond: 900, latency, instances: [instance],
    };
    const source = { name: "Src", kind: "batch", parallelism: 1, recordsIn: 0, recordsOut: 5, errors: 0, progress: { done: 5, total: 10, unit: "records" } };
    const edges = [{ from: "Src", to: "Ask", partition: "forward", chained: true }];
    const service = { name: "llm", state: "running", remote: false, calls: 4, errors: 1, inFlight: 2, queued: 3, latency };
    const checked = checkReport({ type: "event", event: { type: "metrics", status: status({ operators: [source, op], edges, serviceDetails: [service] }) } }, ID, 100);
    expect(checked.ok).toBe(true);
    const kept = (checked as { message: { event: { status: JobStatus } } }).message.event.status;
    const { extra: _, ...clean } = latency;
    expect(kept.operators[1]).toEqual({ ...op, latency: clean, instances: [{ ...instance, latency: clean }] });
    expect(kept.operators[0]!.progress).toEqual({ done: 5, total: 10, unit: "records" });
    expect(kept.edges).toEqual(edges);
    expect(kept.serviceDetails![0]).toEqual({ ...service, latency: clean });
    const refuse = (overrides: Record<string, unknown>, problem: RegExp) =>
      expect(checkReport({ type: "event", event: { type: "metrics", status: status(overrides) } }, ID, 100)).toMatchObject({ ok: false, problem: expect.stringMatching(problem) });
    refuse({ operators: [{ ...op, busyMsPerSecond: "<img onerror=x>" }] }, /operators\[0\].busyMsPerSecond must be a finite number/);
    refuse({ operators: [{ ...op, instances: [{ ...instance, backlogFill: -1 }] }] }, /instances\[0\].backlogFill/);
    refuse({ operators: [{ ...op, latency: { ...latency, p99Ms: NaN } }] }, /latency.p99Ms/);
    refuse({ operators: [{ ...source, progress: { done: 1, total: 2, unit: "furlongs" } }] }, /progress.unit "furlongs"/);
    refuse({ edges: [{ from: "a", to: "b", partition: "teleport" }] }, /edges\[0\].partition "teleport"/);
    refuse({ edges: [{ from: "a", to: { x: 1 }, partition: "hash" }] }, /edges\[0\].to must be a string/);
    refuse({ serviceDetails: [{ ...service, queued: -3 }] }, /serviceDetails\[0\].queued/);
    refuse({ operators: [{ ...op, busyMsPerSecond: 1e9 }] }, /busyMsPerSecond is 1000000000, above the limit of 1000/);
    refuse({ operators: [{ ...op, instances: [{ ...instance, idleMsPerSecond: 1001 }] }] }, /idleMsPerSecond is 1001/);
    refuse({ operators: [{ ...op, instances: [instance, instance] }] }, /has 2 entries for a parallelism of 1/);
    refuse({ operators: [{ ...op, parallelism: 2, instances: [instance, instance] }] }, /repeats an index/);
    refuse({ operators: [{ ...op, instances: [{ ...instance, index: 1 }] }] }, /index 1 is not below the parallelism of 1/);
    refuse({ operators: [{ ...op, instances: [{ ...instance, index: 0.5 }] }] }, /index must be a whole number/);
    refuse({ operators: [{ ...source, progress: { done: 11, total: 10, unit: "records" } }] }, /progress.done is 11, above the limit of 10/);
    refuse({ operators: [{ ...op, latency: { ...latency, buckets: [5, 4, ...new Array(13).fill(4)] } }] }, /buckets are not cumulative/);
    refuse({ operators: [{ ...op, latency: { ...latency, buckets: new Array(15).fill(4) } }] }, /buckets are not cumulative counts up to count \(3\)/);
    refuse({ operators: [{ ...op, latency: { ...latency, p50Ms: 5 } }] }, /percentiles must not fall/);
  });

  it("cuts long strings and refuses unknown messages", () => {
    const long = checkReport({ type: "event", event: { type: "log", level: "info", message: "é".repeat(100) } }, ID, 10);
    expect((long as { message: { event: { message: string } } }).message.event.message).toBe("ééééé");
    expect(checkReport({ type: "spawn", command: "rm" }, ID, 10)).toMatchObject({ ok: false, problem: "unknown message type \"spawn\"" });
    expect(checkReport(null, ID, 10)).toMatchObject({ ok: false });
    expect(checkReport({ type: "module-done", submitted: "yes" }, ID, 10)).toMatchObject({ ok: false });
  });

  it("keeps a distributed job's platform, workers and restarts, bounded; any other platform reads remote", () => {
    const op = { name: "Tag", kind: "map", parallelism: 2, recordsIn: 1, recordsOut: 1, errors: 0 };
    const distributed = status({
      platform: "distributed",
      restartCount: 3,
      operators: [{ ...op, workers: ["w1", "x".repeat(1000), ...new Array(400).fill("w9")] }, op],
      serviceDetails: [{ name: "counter", state: "running", remote: true, calls: 4, worker: "w2".repeat(500) }, { name: "local", state: "running", remote: false, calls: 0 }],
    });
    const checked = checkReport({ type: "event", event: { type: "metrics", status: distributed } }, ID, 100);
    const rebuilt = (checked as { message: { event: { status: JobStatus } } }).message.event.status;
    expect(rebuilt).toMatchObject({ platform: "distributed", restartCount: 3 });
    const workers = rebuilt.operators[0]!.workers!;
    expect(workers).toHaveLength(256);
    expect(workers[0]).toBe("w1");
    expect(workers[1]).toHaveLength(256);
    expect(rebuilt.operators[1]).not.toHaveProperty("workers");
    expect(rebuilt.serviceDetails![0]!.worker).toHaveLength(256);
    expect(rebuilt.serviceDetails![1]).not.toHaveProperty("worker");
    const claimsLocal = checkReport({ type: "event", event: { type: "metrics", status: status({ platform: "local" }) } }, ID, 100);
    expect((claimsLocal as { message: { event: { status: JobStatus } } }).message.event.status.platform).toBe("remote");
    for (const [overrides, problem] of [
      [{ operators: [{ ...op, workers: "w1" }] }, /operators\[0\].workers is not an array/],
      [{ operators: [{ ...op, workers: [1] }] }, /operators\[0\].workers\[0\] must be a string/],
      [{ serviceDetails: [{ name: "s", state: "running", remote: true, calls: 0, worker: {} }] }, /worker must be a string/],
    ] as const) {
      expect(checkReport({ type: "event", event: { type: "metrics", status: status(overrides) } }, ID, 100)).toMatchObject({ ok: false, problem: expect.stringMatching(problem) });
    }
  });

  it("keeps a service's metrics (finite numbers, bounded names and count) and refuses what the job's sampler never sends", () => {
    const counters = { requests: 12, promptTokens: 340, ratio: -0.25 };
    const good = status({ serviceDetails: [{ name: "llm", state: "running", remote: false, calls: 12, metrics: counters }, { name: "plain", state: "running", remote: false, calls: 0 }] });
    const checked = checkReport({ type: "event", event: { type: "metrics", status: good } }, ID, 100);
    const rebuilt = (checked as { message: { event: { status: JobStatus } } }).message.event.status;
    expect(rebuilt.serviceDetails![0]!.metrics).toEqual(counters);
    expect(rebuilt.serviceDetails![1]).not.toHaveProperty("metrics");
    const service = (metrics: unknown) => status({ serviceDetails: [{ name: "llm", state: "running", remote: false, calls: 1, metrics }] });
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`m${i}`, i]));
    for (const [metrics, problem] of [
      ["12", /serviceDetails\[0\].metrics is not an object/],
      [[1, 2], /serviceDetails\[0\].metrics is not an object/],
      [{ requests: "<b>12</b>" }, /serviceDetails\[0\].metrics.requests must be a finite number, got "<b>12<\/b>"/],
      [{ requests: null }, /metrics.requests must be a finite number, got null/],
      [{ ["x".repeat(65)]: 1 }, /the metric name "x{40}" has 65 characters \(1 to 64\)/],
      [{ "": 1 }, /the metric name "" has 0 characters/],
      [JSON.parse('{"__proto__": 1}'), /may not name a metric __proto__/],
      [many, /serviceDetails\[0\].metrics has 65 entries \(at most 64\)/],
    ] as const) {
      expect(checkReport({ type: "event", event: { type: "metrics", status: service(metrics) } }, ID, 100), JSON.stringify(metrics)).toMatchObject({ ok: false, problem: expect.stringMatching(problem) });
    }
    // A NaN or an infinity cannot travel in JSON: it arrives as null, refused above.
    expect(JSON.parse(JSON.stringify({ n: NaN, i: Infinity }))).toEqual({ n: null, i: null });
  });
});

describe("job ids and retention", () => {
  it("only UUIDs are job ids", () => {
    expect(isJobId(ID)).toBe(true);
    for (const bad of ["../../victim", `${ID}/..`, "", ID.toUpperCase()]) expect(isJobId(bad)).toBe(false);
  });

  it("parses durations and refuses what is not one", () => {
    expect(parseDuration("7d")).toBe(7 * 86_400_000);
    expect(parseDuration("12h")).toBe(12 * 3_600_000);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(() => parseDuration("7 days")).toThrow(/not a duration/);
  });

  it("chooses the oldest ended jobs past the count and those past the age, never a live or running one", () => {
    const now = Date.parse("2026-01-10T00:00:00Z");
    const job = (id: string, state: string, endedAt?: string) => ({ ...status({ state, endedAt }), id }) as unknown as JobStatus;
    const jobs = [
      job("old", "finished", "2026-01-01T00:00:00Z"),
      job("running", "running"),
      job("live", "stopped", "2026-01-09T00:00:00Z"),
      job("a", "failed", "2026-01-09T01:00:00Z"),
      job("b", "finished", "2026-01-09T02:00:00Z"),
      job("c", "finished", "2026-01-09T03:00:00Z"),
    ];
    expect(expiredJobs(jobs, { maxJobs: 2, maxAgeMs: 3 * 86_400_000 }, now, (id) => id === "live")).toEqual(["old", "a"]);
    expect(expiredJobs(jobs, { maxJobs: 100, maxAgeMs: 3 * 86_400_000 }, now, () => false)).toEqual(["old"]);
  });
});
