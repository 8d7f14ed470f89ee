import type { GraphEdge, InstanceStatus, JobEvent, JobState, JobStatus, LatencySummary, LogLevel, OperatorStatus, ServiceStatus, SourceProgress } from "../api/types.js";
import { cutUtf8 } from "../cluster/line-splitter.js";
import type { JobProcessMessage } from "./protocol.js";
import { MAX_PARALLELISM } from "../api/validate-options.js";
import { LATENCY_BUCKETS_MS } from "../runtime/latency-histogram.js";
import { isMetricName, MAX_METRIC_NAME, MAX_SERVICE_METRICS } from "../runtime/service-metrics.js";

/**
 * A job process runs user code, so what it reports over its report channel is untrusted input: every message is
 * checked field by field and rebuilt from known fields only, with the job's id set to the one the
 * server gave it. A message that does not fit is refused with the reason.
 */
export type Checked = { ok: true; message: JobProcessMessage } | { ok: false; problem: string };

const JOB_STATES: ReadonlySet<string> = new Set<JobState>(["created", "running", "finishing", "finished", "stopped", "failed"]);
const LOG_LEVELS: ReadonlySet<string> = new Set<LogLevel>(["debug", "info", "warn", "error", "silent"]);
const SERVICE_STATES: ReadonlySet<string> = new Set<ServiceStatus["state"]>(["starting", "running", "stopped", "failed"]);
const PARTITIONS: ReadonlySet<string> = new Set<GraphEdge["partition"]>(["forward", "rebalance", "hash", "broadcast"]);
const PROGRESS_UNITS: ReadonlySet<string> = new Set<SourceProgress["unit"]>(["records", "bytes"]);

const MAX_NAME = 256;
const MAX_MESSAGE = 16 * 1024;
const MAX_STACK = 64 * 1024;
const MAX_ENTRIES = 1000;
// Edges of a job are at most a few per operator; a module's pipelines add theirs up.
const MAX_EDGES = 4 * MAX_ENTRIES;
// Instances listed in one status, over all operators (the runtime lists at most MAX_LISTED_INSTANCES).
const MAX_STATUS_INSTANCES = 4096;
const MAX_BACKLOG_FILL = 1024;
// The workers of one operator are at most its instances; more are cut (the status is for display).
const MAX_WORKERS = 256;

/** Checks one report (a decoded frame) from the job process of job `jobId`; `maxLogLineBytes` bounds log events. */
export function checkReport(raw: unknown, jobId: string, maxLogLineBytes: number): Checked {
  try {
    return { ok: true, message: message(raw, jobId, maxLogLineBytes) };
  } catch (error) {
    if (error instanceof Malformed) return { ok: false, problem: error.message };
    throw error;
  }
}

class Malformed extends Error {}

function message(raw: unknown, jobId: string, maxLogLineBytes: number): JobProcessMessage {
  const m = record(raw, "the message");
  switch (m.type) {
    case "module-done":
      return { type: "module-done", submitted: bool(m.submitted, "submitted") };
    case "module-error":
      return { type: "module-error", message: text(m.message, "message", MAX_MESSAGE), ...optional("stack", m.stack, MAX_STACK) };
    case "event":
      return { type: "event", event: event(m.event, jobId, maxLogLineBytes) };
    default:
      throw new Malformed(`unknown message type ${short(m.type)}`);
  }
}

function event(raw: unknown, jobId: string, maxLogLineBytes: number): JobEvent {
  const e = record(raw, "the event");
  const at = timestamp(e.at, "at") ?? new Date().toISOString();
  switch (e.type) {
    case "state": {
      const status = jobStatus(e.status, jobId);
      if (e.state !== status.state) throw new Malformed(`event state ${short(e.state)} differs from its status' state ${short(status.state)}`);
      return { type: "state", jobId, state: status.state, at, status };
    }
    case "metrics":
      return { type: "metrics", jobId, at, status: jobStatus(e.status, jobId) };
    case "log": {
      if (typeof e.level !== "string" || !LOG_LEVELS.has(e.level)) throw new Malformed(`log level ${short(e.level)} is not one of ${[...LOG_LEVELS].join(", ")}`);
      return { type: "log", jobId, at, level: e.level as LogLevel, message: text(e.message, "message", maxLogLineBytes) };
    }
    default:
      throw new Malformed(`unknown event type ${short(e.type)}`);
  }
}

/** A job status rebuilt from a report: known fields only, each checked, `id` set to `jobId`. */
export function jobStatus(raw: unknown, jobId: string): JobStatus {
  const s = record(raw, "the status");
  if (typeof s.state !== "string" || !JOB_STATES.has(s.state)) throw new Malformed(`status.state ${short(s.state)} is not a job state`);
  const startedAt = timestamp(s.startedAt, "status.startedAt");
  const endedAt = timestamp(s.endedAt, "status.endedAt");
  const status: JobStatus = {
    id: jobId,
    name: text(s.name, "status.name", MAX_NAME),
    state: s.state as JobState,
    autostop: bool(s.autostop, "status.autostop"),
    // Whatever the job process claims, it runs on the JobManager: remote, or distributed with parts on a cluster.
    platform: s.platform === "distributed" ? "distributed" : "remote",
    submittedAt: timestamp(s.submittedAt, "status.submittedAt") ?? new Date().toISOString(),
    ...(startedAt && { startedAt }),
    ...(endedAt && { endedAt }),
    runtimeMs: count(s.runtimeMs, "status.runtimeMs"),
    restartCount: count(s.restartCount, "status.restartCount"),
    tasks: count(s.tasks, "status.tasks"),
    services: count(s.services, "status.services"),
    isRunning: bool(s.isRunning, "status.isRunning"),
    operators: list(s.operators, "status.operators", operator),
  };
  const instances = status.operators.reduce((sum, op) => sum + (op.instances?.length ?? 0), 0);
  if (instances > MAX_STATUS_INSTANCES) throw new Malformed(`status.operators list ${instances} instances in all (at most ${MAX_STATUS_INSTANCES})`);
  if (s.error !== undefined) {
    const e = record(s.error, "status.error");
    status.error = { message: text(e.message, "status.error.message", MAX_MESSAGE), ...optional("operator", e.operator, MAX_NAME), ...optional("stack", e.stack, MAX_STACK) };
  }
  if (s.edges !== undefined) status.edges = list(s.edges, "status.edges", edge, MAX_EDGES);
  if (s.serviceDetails !== undefined) status.serviceDetails = list(s.serviceDetails, "status.serviceDetails", service);
  return status;
}

function operator(raw: unknown, what: string): OperatorStatus {
  const o = record(raw, what);
  const checked: OperatorStatus = {
    name: text(o.name, `${what}.name`, MAX_NAME),
    kind: text(o.kind, `${what}.kind`, MAX_NAME),
    parallelism: atMost(count(o.parallelism, `${what}.parallelism`), MAX_PARALLELISM, `${what}.parallelism`),
    recordsIn: count(o.recordsIn, `${what}.recordsIn`),
    recordsOut: count(o.recordsOut, `${what}.recordsOut`),
    errors: count(o.errors, `${what}.errors`),
    ...(o.workers !== undefined && { workers: names(o.workers, `${what}.workers`, MAX_WORKERS) }),
    ...optionalCounts(o, what, ["recordsInPerSecond", "recordsOutPerSecond", "inFlight", "backlog", "backPressuredMsPerSecond", "busyMsPerSecond"]),
    ...(o.latency !== undefined && { latency: latency(o.latency, `${what}.latency`) }),
    ...(o.progress !== undefined && { progress: progress(o.progress, `${what}.progress`) }),
    ...(o.instances !== undefined && { instances: list(o.instances, `${what}.instances`, instance, MAX_PARALLELISM) }),
  };
  if (checked.backPressuredMsPerSecond !== undefined) perSecond(checked.backPressuredMsPerSecond, `${what}.backPressuredMsPerSecond`);
  if (checked.busyMsPerSecond !== undefined) perSecond(checked.busyMsPerSecond, `${what}.busyMsPerSecond`);
  if (checked.instances) {
    if (checked.instances.length > checked.parallelism) throw new Malformed(`${what}.instances has ${checked.instances.length} entries for a parallelism of ${checked.parallelism}`);
    const indices = new Set(checked.instances.map((i) => i.index));
    if (indices.size < checked.instances.length) throw new Malformed(`${what}.instances repeats an index`);
    for (const i of checked.instances) if (i.index >= checked.parallelism) throw new Malformed(`${what}.instances: index ${i.index} is not below the parallelism of ${checked.parallelism}`);
  }
  return checked;
}

// A share of each second, in ms: 0..1000.
function perSecond(value: number, what: string): number {
  return atMost(value, 1000, what);
}

function instance(raw: unknown, what: string): InstanceStatus {
  const i = record(raw, what);
  const field = (name: keyof InstanceStatus) => count(i[name], `${what}.${name}`);
  const index = field("index");
  if (!Number.isInteger(index)) throw new Malformed(`${what}.index must be a whole number, got ${index}`);
  return {
    index,
    recordsIn: field("recordsIn"),
    recordsOut: field("recordsOut"),
    errors: field("errors"),
    recordsInPerSecond: field("recordsInPerSecond"),
    recordsOutPerSecond: field("recordsOutPerSecond"),
    inFlight: field("inFlight"),
    backlog: field("backlog"),
    // Above 1 when several senders each got one batch past a full inbox; a forged 1e9 is not.
    backlogFill: atMost(field("backlogFill"), MAX_BACKLOG_FILL, `${what}.backlogFill`),
    backPressuredMsPerSecond: perSecond(field("backPressuredMsPerSecond"), `${what}.backPressuredMsPerSecond`),
    busyMsPerSecond: perSecond(field("busyMsPerSecond"), `${what}.busyMsPerSecond`),
    idleMsPerSecond: perSecond(field("idleMsPerSecond"), `${what}.idleMsPerSecond`),
    ...(i.latency !== undefined && { latency: latency(i.latency, `${what}.latency`) }),
    ...optional("worker", i.worker, MAX_NAME),
  };
}

function latency(raw: unknown, what: string): LatencySummary {
  const l = record(raw, what);
  const field = (name: keyof LatencySummary) => count(l[name], `${what}.${name}`);
  const summary: LatencySummary = { count: field("count"), sumMs: field("sumMs"), meanMs: field("meanMs"), p50Ms: field("p50Ms"), p90Ms: field("p90Ms"), p99Ms: field("p99Ms"), maxMs: field("maxMs") };
  if (l.buckets !== undefined) {
    const buckets = list(l.buckets, `${what}.buckets`, count, LATENCY_BUCKETS_MS.length);
    if (buckets.length !== LATENCY_BUCKETS_MS.length) throw new Malformed(`${what}.buckets has ${buckets.length} entries, not one per bucket (${LATENCY_BUCKETS_MS.length})`);
    // Cumulative: never falling, never above the count (the +Inf bucket).
    buckets.forEach((value, i) => {
      if (value < (buckets[i - 1] ?? 0) || value > summary.count) throw new Malformed(`${what}.buckets are not cumulative counts up to count (${summary.count})`);
    });
    summary.buckets = buckets;
  }
  if (!(summary.p50Ms <= summary.p90Ms && summary.p90Ms <= summary.p99Ms && summary.p99Ms <= summary.maxMs)) {
    throw new Malformed(`${what}: percentiles must not fall (p50 <= p90 <= p99 <= max)`);
  }
  return summary;
}

function progress(raw: unknown, what: string): SourceProgress {
  const p = record(raw, what);
  if (typeof p.unit !== "string" || !PROGRESS_UNITS.has(p.unit)) throw new Malformed(`${what}.unit ${short(p.unit)} is not one of ${[...PROGRESS_UNITS].join(", ")}`);
  const total = count(p.total, `${what}.total`);
  return { done: atMost(count(p.done, `${what}.done`), total, `${what}.done`), total, unit: p.unit as SourceProgress["unit"] };
}

function edge(raw: unknown, what: string): GraphEdge {
  const e = record(raw, what);
  if (typeof e.partition !== "string" || !PARTITIONS.has(e.partition)) throw new Malformed(`${what}.partition ${short(e.partition)} is not one of ${[...PARTITIONS].join(", ")}`);
  return {
    from: text(e.from, `${what}.from`, MAX_NAME),
    to: text(e.to, `${what}.to`, MAX_NAME),
    partition: e.partition as GraphEdge["partition"],
    ...(e.chained !== undefined && { chained: bool(e.chained, `${what}.chained`) }),
    ...(e.feedback !== undefined && { feedback: bool(e.feedback, `${what}.feedback`) }),
    ...(e.input !== undefined && { input: atMost(count(e.input, `${what}.input`), MAX_ENTRIES, `${what}.input`) }),
  };
}

// Optional numeric fields: each, when present, a finite number >= 0.
function optionalCounts<K extends string>(raw: Record<string, unknown>, what: string, keys: readonly K[]): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const key of keys) if (raw[key] !== undefined) out[key] = count(raw[key], `${what}.${key}`);
  return out;
}

function service(raw: unknown, what: string): ServiceStatus {
  const s = record(raw, what);
  if (typeof s.state !== "string" || !SERVICE_STATES.has(s.state)) throw new Malformed(`${what}.state ${short(s.state)} is not a service state`);
  return {
    name: text(s.name, `${what}.name`, MAX_NAME),
    state: s.state as ServiceStatus["state"],
    remote: bool(s.remote, `${what}.remote`),
    calls: count(s.calls, `${what}.calls`),
    ...optional("worker", s.worker, MAX_NAME),
    ...(s.metrics !== undefined && { metrics: metrics(s.metrics, `${what}.metrics`) }),
    ...optionalCounts(s, what, ["errors", "inFlight", "queued"]),
    ...(s.latency !== undefined && { latency: latency(s.latency, `${what}.latency`) }),
  };
}

// The same bounds as the sampler in the job applies: a report beyond them did not come from it.
function metrics(raw: unknown, what: string): Record<string, number> {
  const m = record(raw, what);
  const names = Object.keys(m);
  if (names.length > MAX_SERVICE_METRICS) throw new Malformed(`${what} has ${names.length} entries (at most ${MAX_SERVICE_METRICS})`);
  const rebuilt: Record<string, number> = {};
  for (const name of names) {
    if (!isMetricName(name)) {
      throw new Malformed(name === "__proto__" ? `${what} may not name a metric __proto__` : `${what}: the metric name ${short(name)} has ${name.length} characters (1 to ${MAX_METRIC_NAME})`);
    }
    const value = m[name];
    if (typeof value !== "number" || !Number.isFinite(value)) throw new Malformed(`${what}.${name.slice(0, MAX_METRIC_NAME)} must be a finite number, got ${short(value)}`);
    rebuilt[name] = value;
  }
  return rebuilt;
}

function record(raw: unknown, what: string): Record<string, unknown> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Malformed(`${what} is not an object`);
  return raw as Record<string, unknown>;
}

function list<T>(raw: unknown, what: string, item: (raw: unknown, what: string) => T, max = MAX_ENTRIES): T[] {
  if (!Array.isArray(raw)) throw new Malformed(`${what} is not an array`);
  if (raw.length > max) throw new Malformed(`${what} has ${raw.length} entries (at most ${max})`);
  return raw.map((entry, i) => item(entry, `${what}[${i}]`));
}

// A list of names: each a string (cut at MAX_NAME), at most `max` of them (the rest cut off).
function names(raw: unknown, what: string, max: number): string[] {
  if (!Array.isArray(raw)) throw new Malformed(`${what} is not an array`);
  return raw.slice(0, max).map((entry, i) => text(entry, `${what}[${i}]`, MAX_NAME));
}

function count(raw: unknown, what: string): number {
  if (typeof raw !== "number" || !Number.isFinite(raw) || raw < 0) throw new Malformed(`${what} must be a finite number >= 0, got ${short(raw)}`);
  return raw;
}

function atMost(value: number, max: number, what: string): number {
  if (value > max) throw new Malformed(`${what} is ${value}, above the limit of ${max}`);
  return value;
}

function bool(raw: unknown, what: string): boolean {
  if (typeof raw !== "boolean") throw new Malformed(`${what} must be true or false, got ${short(raw)}`);
  return raw;
}

// Long strings are cut, not refused: an error message or a stack may well be long.
function text(raw: unknown, what: string, maxBytes: number): string {
  if (typeof raw !== "string") throw new Malformed(`${what} must be a string, got ${short(raw)}`);
  return raw.length * 3 <= maxBytes ? raw : cutUtf8(raw.length > maxBytes ? raw.slice(0, maxBytes) : raw, maxBytes);
}

function optional<K extends string>(key: K, raw: unknown, maxBytes: number): Partial<Record<K, string>> {
  return raw === undefined ? {} : ({ [key]: text(raw, key, maxBytes) } as Record<K, string>);
}

function timestamp(raw: unknown, what: string): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || raw.length > 40 || !Number.isFinite(Date.parse(raw))) throw new Malformed(`${what} must be a date, got ${short(raw)}`);
  return new Date(raw).toISOString();
}

// A value as an error message quotes it: bounded, whatever the job sent.
function short(value: unknown): string {
  const shown = typeof value === "string" ? JSON.stringify(value.slice(0, 40)) : typeof value === "object" && value !== null ? "an object" : String(value);
  return shown.length > 50 ? `${shown.slice(0, 50)}…` : shown;
}
