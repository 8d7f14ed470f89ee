/** The `/metrics` exposition over job statuses: parsed by a real Prometheus text parser; ended jobs drop out after their time. */
import { describe, expect, it } from "vitest";
import type { JobStatus } from "../api/types.js";
import { parseHistogram, parsePrometheus as parse } from "../../test/support/prometheus.js";
import { createJobManagerMetrics } from "./prometheus-metrics.js";
import { LATENCY_BUCKETS_MS } from "../runtime/latency-histogram.js";

function job(id: string, overrides: Partial<JobStatus> = {}): JobStatus {
  return {
    id,
    name: `name-${id}`,
    state: "running",
    autostop: true,
    platform: "remote",
    submittedAt: "2026-12-02T10:00:00.000Z",
    startedAt: "2026-12-02T10:00:01.000Z",
    runtimeMs: 2500,
    restartCount: 0,
    tasks: 3,
    services: 1,
    isRunning: true,
    operators: [
      { name: "Source", kind: "source", parallelism: 1, recordsIn: 0, recordsOut: 40, errors: 0 },
      { name: "map#1", kind: "map", parallelism: 2, recordsIn: 40, recordsOut: 38, errors: 2 },
    ],
    serviceDetails: [{ name: "llm", state: "running", remote: false, calls: 38, metrics: { promptTokens: 1234, inFlight: 3 } }],
    ...overrides,
  };
}

describe("JobManager Prometheus metrics", () => {
  it("exposes jobs by state, per operator and per service, named and labelled as Prometheus expects", async () => {
    const jobs = [job("a"), job("b", { state: "finished", isRunning: false, endedAt: "2026-12-02T10:00:05.000Z", tasks: 0 })];
    const metrics = createJobManagerMetrics({ jobs: () => jobs, processes: () => 1, uptimeSeconds: () => 42 }, { now: () => Date.parse("2026-12-02T10:01:00.000Z") });
    const families = parse(await metrics.scrape());
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const values = (name: string) => families.get(name)!.metrics.map((m) => [m.labels ?? {}, Number(m.value)]);
    expect(values("sage_jobs")).toEqual(expect.arrayContaining([[{ state: "running" }, 1], [{ state: "finished" }, 1], [{ state: "failed" }, 0]]));
    expect(values("sage_job_processes")).toEqual([[{}, 1]]);
    expect(values("sage_jobmanager_uptime_seconds")).toEqual([[{}, 42]]);
    expect(families.get("sage_operator_records_in_total")!.type).toBe("COUNTER");
    expect(values("sage_operator_records_out_total")).toContainEqual([{ job: "a", job_name: "name-a", operator: "map#1", kind: "map" }, 38]);
    expect(values("sage_operator_errors_total")).toContainEqual([{ job: "b", job_name: "name-b", operator: "map#1", kind: "map" }, 2]);
    expect(values("sage_operator_parallelism")).toContainEqual([{ job: "a", job_name: "name-a", operator: "map#1", kind: "map" }, 2]);
    expect(values("sage_job_runtime_seconds")).toContainEqual([{ job: "a", job_name: "name-a" }, 2.5]);
    expect(values("sage_job_state")).toEqual([[{ job: "a", job_name: "name-a", state: "running" }, 1], [{ job: "b", job_name: "name-b", state: "finished" }, 1]]);
    expect(values("sage_service_calls_total")).toContainEqual([{ job: "a", job_name: "name-a", service: "llm", worker: "" }, 38]);
    expect(values("sage_service_metric")).toContainEqual([{ job: "a", job_name: "name-a", service: "llm", worker: "", metric: "promptTokens" }, 1234]);
    expect(values("sage_service_up")).toContainEqual([{ job: "a", job_name: "name-a", service: "llm", worker: "" }, 1]);
  });

  it("exposes per-instance counters and levels, and latency histograms from the status's buckets", async () => {
    const latency = { count: 10, sumMs: 200, meanMs: 20, p50Ms: 18, p90Ms: 30, p99Ms: 40, maxMs: 41, buckets: LATENCY_BUCKETS_MS.map((ms) => (ms < 10 ? 0 : ms < 25 ? 6 : 10)) };
    const instance = (index: number, worker: string) => ({
      index, recordsIn: 20, recordsOut: 19, errors: 1, recordsInPerSecond: 5, recordsOutPerSecond: 5, inFlight: 2,
      backlog: 3, backlogFill: 0.25, backPressuredMsPerSecond: 100, busyMsPerSecond: 800, idleMsPerSecond: 100, worker,
    });
    const jobs = [
      job("a", {
        operators: [{ name: "Ask", kind: "map", parallelism: 2, recordsIn: 40, recordsOut: 38, errors: 2, latency, instances: [instance(0, "w1"), instance(1, "w2")] }],
        serviceDetails: [{ name: "llm", state: "running", remote: true, worker: "w1", calls: 10, errors: 1, inFlight: 4, queued: 5, latency }],
      }),
    ];
    const text = await createJobManagerMetrics({ jobs: () => jobs, processes: () => 1, uptimeSeconds: () => 1 }).scrape();
    const families = parse(text);
    const values = (name: string) => families.get(name)!.metrics.map((m) => [m.labels ?? {}, Number(m.value)]);
    const labels = (index: number, worker: string) => ({ job: "a", job_name: "name-a", operator: "Ask", instance: String(index), worker });
    expect(values("sage_instance_records_in_total")).toEqual([[labels(0, "w1"), 20], [labels(1, "w2"), 20]]);
    expect(values("sage_instance_in_flight")).toContainEqual([labels(1, "w2"), 2]);
    expect(values("sage_instance_backlog_fill_ratio")).toContainEqual([labels(0, "w1"), 0.25]);
    expect(values("sage_instance_busy_ratio")).toContainEqual([labels(0, "w1"), 0.8]);
    expect(values("sage_instance_backpressured_ratio")).toContainEqual([labels(0, "w1"), 0.1]);
    expect(families.get("sage_operator_latency_seconds")!.type).toBe("HISTOGRAM");
    const histogram = parseHistogram(text, "sage_operator_latency_seconds", { job: "a", job_name: "name-a", operator: "Ask", kind: "map" })!;
    expect(histogram.buckets).toMatchObject({ "0.005": "0", "0.01": "6", "0.025": "10", "+Inf": "10" });
    expect(Number(histogram.count)).toBe(10);
    expect(Number(histogram.sum)).toBeCloseTo(0.2);
    const serviceLatency = parseHistogram(text, "sage_service_call_latency_seconds", { job: "a", job_name: "name-a", service: "llm", worker: "w1" })!;
    expect(serviceLatency.buckets["+Inf"]).toBe("10");
    expect(values("sage_service_errors_total")).toEqual([[{ job: "a", job_name: "name-a", service: "llm", worker: "w1" }, 1]]);
    expect(values("sage_service_queued")).toEqual([[{ job: "a", job_name: "name-a", service: "llm", worker: "w1" }, 5]]);
  });

  it("drops an ended job's series after keepEndedMs, so the series count stays bounded", async () => {
    let clock = Date.parse("2026-12-02T10:00:06.000Z");
    const jobs = [job("old", { state: "finished", isRunning: false, endedAt: "2026-12-02T10:00:05.000Z" }), job("live")];
    const metrics = createJobManagerMetrics({ jobs: () => jobs, processes: () => 1, uptimeSeconds: () => 1 }, { keepEndedMs: 60_000, now: () => clock });
    const jobsIn = async () => new Set(parse(await metrics.scrape()).get("sage_operator_records_in_total")!.metrics.map((m) => m.labels!.job));
    expect(await jobsIn()).toEqual(new Set(["old", "live"]));
    clock += 61_000;
    expect(await jobsIn()).toEqual(new Set(["live"]));
    // the count by state still includes it: it is still a job of the server until retention removes it
    expect(parse(await metrics.scrape()).get("sage_jobs")!.metrics.find((m) => m.labels!.state === "finished")!.value).toBe("1");
  });

  it("reflects the statuses of each scrape, not the first", async () => {
    const status = job("a");
    const metrics = createJobManagerMetrics({ jobs: () => [status], processes: () => 0, uptimeSeconds: () => 0 });
    await metrics.scrape();
    status.operators[1]!.recordsIn = 400;
    const families = parse(await metrics.scrape());
    expect(families.get("sage_operator_records_in_total")!.metrics.find((m) => m.labels!.operator === "map#1")!.value).toBe("400");
  });

  it("skips values that are not finite numbers instead of failing the scrape", async () => {
    const metrics = createJobManagerMetrics({ jobs: () => [job("a", { serviceDetails: [{ name: "s", state: "running", remote: false, calls: 1, metrics: { bad: Number.NaN, good: 2 } }] })], processes: () => 0, uptimeSeconds: () => 0 });
    const names = parse(await metrics.scrape()).get("sage_service_metric")!.metrics.map((m) => m.labels!.metric);
    expect(names).toEqual(["good"]);
  });

  it("reads statuses a source answers asynchronously, and leaves out the server's gauges for a source without them (a local run)", async () => {
    const metrics = createJobManagerMetrics({ jobs: async () => [job("a")] });
    const families = parse(await metrics.scrape());
    expect(families.get("sage_job_state")!.metrics.map((m) => m.labels)).toEqual([{ job: "a", job_name: "name-a", state: "running" }]);
    expect(families.has("sage_job_processes")).toBe(false);
    expect(families.has("sage_jobmanager_uptime_seconds")).toBe(false);
  });
});
