/**
 * The JobManager's `GET /metrics` (and `sage run --metrics-port`'s): Prometheus text built with
 * prom-client from the jobs' statuses at scrape time, so what Prometheus sees is exactly what
 * `GET /api/jobs/<id>` (or the local job's `status()`) says.
 * Finished jobs stay for a while after they end (a scrape interval or a few must see their
 * final counts), then drop out so the number of series stays bounded.
 */
import { Counter, Gauge, Registry, type MetricValueWithName } from "prom-client";
import type { JobState, JobStatus, LatencySummary } from "../api/types.js";
import { LATENCY_BUCKETS_MS } from "../runtime/latency-histogram.js";

/** What the exposition reads from the server, or from the process that runs the jobs. */
export interface MetricsSource {
  /** Every job the server (or process) knows. */
  jobs(): JobStatus[] | Promise<JobStatus[]>;
  /** The job processes alive now (a JobManager's; without it, no `sage_job_processes`). */
  processes?(): number;
  /** Seconds since the server started (a JobManager's; without it, no `sage_jobmanager_uptime_seconds`). */
  uptimeSeconds?(): number;
}

/** Options of {@link createJobManagerMetrics}. */
export interface JobManagerMetricsOptions {
  /** How long an ended job's series stay (default 10 minutes). */
  keepEndedMs?: number;
  /** The clock, replaceable in tests. */
  now?: () => number;
}

/** A registry that answers scrapes from the server's current job statuses. */
export interface JobManagerMetrics {
  /** The Prometheus text exposition. */
  scrape(): Promise<string>;
  /** The content type of a scrape's body. */
  readonly contentType: string;
}

type InstanceOf = NonNullable<JobStatus["operators"][number]["instances"]>[number];
type ServiceOf = NonNullable<JobStatus["serviceDetails"]>[number];

const JOB_STATES: JobState[] = ["created", "running", "finishing", "finished", "stopped", "failed"];
const JOB_LABELS = ["job", "job_name"] as const;

/** Builds the `sage_*` metrics over `source`. */
export function createJobManagerMetrics(source: MetricsSource, options: JobManagerMetricsOptions = {}): JobManagerMetrics {
  const keepEndedMs = options.keepEndedMs ?? 10 * 60_000;
  const now = options.now ?? Date.now;
  const registry = new Registry();
  // Every collector reads the same list, taken once per scrape.
  let scraped: JobStatus[] = [];
  const shown = () => scraped.filter((job) => !job.endedAt || now() - Date.parse(job.endedAt) <= keepEndedMs);
  const jobLabels = (job: JobStatus) => ({ job: job.id, job_name: job.name });

  new Gauge({
    name: "sage_jobs",
    help: "Jobs the JobManager (or sage run) knows, by state (ended jobs count until retention removes them).",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const counts = new Map(JOB_STATES.map((state) => [state, 0]));
      for (const job of scraped) counts.set(job.state, (counts.get(job.state) ?? 0) + 1);
      for (const [state, count] of counts) this.set({ state }, count);
    },
  });
  const { processes, uptimeSeconds } = source;
  if (processes) {
    new Gauge({
      name: "sage_job_processes",
      help: "Job processes alive now.",
      registers: [registry],
      collect() {
        this.set(processes());
      },
    });
  }
  if (uptimeSeconds) {
    new Gauge({
      name: "sage_jobmanager_uptime_seconds",
      help: "Seconds since the JobManager started.",
      registers: [registry],
      collect() {
        this.set(uptimeSeconds());
      },
    });
  }
  perJob("sage_job_state", "1 for the job's current state, one series per job.", ["state"], (job) => [[{ state: job.state }, 1]], Gauge);
  perJob("sage_job_runtime_seconds", "The job's run time so far, or in all when it ended.", [], (job) => [[{}, job.runtimeMs / 1000]], Gauge);
  perJob("sage_job_restarts_total", "Task restarts of the job (distributed mode re-placements).", [], (job) => [[{}, job.restartCount]], Counter);
  perJob("sage_job_tasks", "Live task instances of the job.", [], (job) => [[{}, job.tasks]], Gauge);
  perOperator("sage_operator_records_in_total", "Records an operator received, over its instances.", (op) => op.recordsIn, Counter);
  perOperator("sage_operator_records_out_total", "Records an operator emitted, over its instances.", (op) => op.recordsOut, Counter);
  perOperator("sage_operator_errors_total", "Records whose user function threw, over the operator's instances.", (op) => op.errors, Counter);
  perOperator("sage_operator_parallelism", "Instances the operator runs with.", (op) => op.parallelism, Gauge);
  perInstance("sage_instance_records_in_total", "Records an operator instance received.", (i) => i.recordsIn, Counter);
  perInstance("sage_instance_records_out_total", "Records an operator instance emitted.", (i) => i.recordsOut, Counter);
  perInstance("sage_instance_errors_total", "Records whose user function threw in this instance.", (i) => i.errors, Counter);
  perInstance("sage_instance_in_flight", "Async calls of the instance's user function in flight now.", (i) => i.inFlight, Gauge);
  perInstance("sage_instance_backlog", "Batches waiting in the inbox of the instance's task.", (i) => i.backlog, Gauge);
  perInstance("sage_instance_backlog_fill_ratio", "The inbox's backlog over its capacity (1 or more: full, senders wait).", (i) => i.backlogFill, Gauge);
  perInstance("sage_instance_busy_ratio", "Share of the last seconds the instance's task spent working.", (i) => i.busyMsPerSecond / 1000, Gauge);
  perInstance("sage_instance_idle_ratio", "Share of the last seconds the instance's task spent waiting for input.", (i) => i.idleMsPerSecond / 1000, Gauge);
  perInstance("sage_instance_backpressured_ratio", "Share of the last seconds the instance's task spent waiting to send downstream.", (i) => i.backPressuredMsPerSecond / 1000, Gauge);
  latencyHistogram(
    "sage_operator_latency_seconds",
    "Per-record latency of an operator's async user function, over its instances.",
    ["operator", "kind"],
    (job) => job.operators.map((op) => [{ operator: op.name, kind: op.kind }, op.latency]),
  );
  latencyHistogram(
    "sage_service_call_latency_seconds",
    "Latency of a service's answered calls as callers see them (queueing included).",
    ["service", "worker"],
    (job) => (job.serviceDetails ?? []).map((service) => [{ service: service.name, worker: service.worker ?? "" }, service.latency]),
  );
  perService("sage_service_errors_total", "Calls of a service that failed (timeouts included).", (service) => service.errors, Counter);
  perService("sage_service_in_flight", "Calls of a service running now.", (service) => service.inFlight, Gauge);
  perService("sage_service_queued", "Calls waiting for a turn in a service's mailbox.", (service) => service.queued, Gauge);
  perJob(
    "sage_service_calls_total",
    "Calls a service answered.",
    ["service", "worker"],
    (job) => (job.serviceDetails ?? []).map((service) => [{ service: service.name, worker: service.worker ?? "" }, service.calls]),
    Counter,
  );
  perJob(
    "sage_service_up",
    "1 while a service is running.",
    ["service", "worker"],
    (job) => (job.serviceDetails ?? []).map((service) => [{ service: service.name, worker: service.worker ?? "" }, service.state === "running" ? 1 : 0]),
    Gauge,
  );
  // A service's own counters have names the framework does not know (the LLM service's tokens,
  // a user's cache hits): one gauge with the counter's name as a label, not a metric per name.
  perJob(
    "sage_service_metric",
    "A counter or gauge a service publishes (its metrics(), e.g. the LLM service's promptTokens), by name.",
    ["service", "worker", "metric"],
    (job) =>
      (job.serviceDetails ?? []).flatMap((service) =>
        Object.entries(service.metrics ?? {}).map(([metric, value]): [Record<string, string>, number] => [{ service: service.name, worker: service.worker ?? "", metric }, value]),
      ),
    Gauge,
  );

  // One metric whose series are one or more per shown job, re-made at each scrape.
  function perJob(
    name: string,
    help: string,
    extraLabels: string[],
    samples: (job: JobStatus) => Array<[Record<string, string>, number]>,
    kind: typeof Gauge | typeof Counter,
  ): void {
    const fill = (metric: Gauge | Counter) => {
      metric.reset();
      for (const job of shown()) {
        for (const [labels, value] of samples(job)) {
          if (!Number.isFinite(value)) continue;
          const all = { ...jobLabels(job), ...labels };
          if (metric instanceof Gauge) metric.set(all, value);
          else metric.inc(all, Math.max(0, value));
        }
      }
    };
    const labelNames = [...JOB_LABELS, ...extraLabels];
    if (kind === Gauge) new Gauge({ name, help, labelNames, registers: [registry], collect() { fill(this); } });
    else new Counter({ name, help, labelNames, registers: [registry], collect() { fill(this); } });
  }

  function perOperator(name: string, help: string, value: (operator: JobStatus["operators"][number]) => number, kind: typeof Gauge | typeof Counter): void {
    perJob(name, help, ["operator", "kind"], (job) => job.operators.map((op) => [{ operator: op.name, kind: op.kind }, value(op)]), kind);
  }

  function perInstance(name: string, help: string, value: (instance: InstanceOf) => number, kind: typeof Gauge | typeof Counter): void {
    perJob(
      name,
      help,
      ["operator", "instance", "worker"],
      (job) =>
        job.operators.flatMap((op) =>
          (op.instances ?? []).map((instance): [Record<string, string>, number] => [{ operator: op.name, instance: String(instance.index), worker: instance.worker ?? "" }, value(instance)]),
        ),
      kind,
    );
  }

  function perService(name: string, help: string, value: (service: ServiceOf) => number | undefined, kind: typeof Gauge | typeof Counter): void {
    perJob(
      name,
      help,
      ["service", "worker"],
      (job) =>
        (job.serviceDetails ?? []).flatMap((service): Array<[Record<string, string>, number]> => {
          const v = value(service);
          return v === undefined ? [] : [[{ service: service.name, worker: service.worker ?? "" }, v]];
        }),
      kind,
    );
  }

  // A histogram built from the buckets a status carries (prom-client's Histogram only observes
  // values one by one): the exposition's _bucket, _sum and _count lines, in seconds.
  function latencyHistogram(name: string, help: string, extraLabels: string[], samples: (job: JobStatus) => Array<[Record<string, string>, LatencySummary | undefined]>): void {
    const bounds = LATENCY_BUCKETS_MS.map((ms) => String(ms / 1000));
    registry.registerMetric({
      name,
      get: async () => {
        const values: Array<MetricValueWithName<string>> = [];
        for (const job of shown()) {
          for (const [labels, latency] of samples(job)) {
            if (!latency?.buckets) continue;
            const all = { ...jobLabels(job), ...labels };
            latency.buckets.forEach((value, i) => values.push({ metricName: `${name}_bucket`, labels: { ...all, le: bounds[i]! }, value }));
            values.push({ metricName: `${name}_bucket`, labels: { ...all, le: "+Inf" }, value: latency.count });
            values.push({ metricName: `${name}_sum`, labels: all, value: latency.sumMs / 1000 });
            values.push({ metricName: `${name}_count`, labels: all, value: latency.count });
          }
        }
        return { name, help, type: "histogram", values, aggregator: "sum" };
      },
    } as unknown as Parameters<Registry["registerMetric"]>[0]);
  }

  return {
    contentType: registry.contentType,
    async scrape() {
      scraped = await source.jobs();
      return registry.metrics();
    },
  };
}
