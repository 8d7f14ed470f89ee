/** Lifecycle states of a job; see API.md. */
export type JobState = "created" | "running" | "finishing" | "finished" | "stopped" | "failed";

/** Where a job runs. */
export type Platform = "local" | "remote" | "distributed";

/** Latency of calls or records, in ms, from a log-linear histogram (percentiles within about 1.6%). */
export interface LatencySummary {
  count: number;
  /** Sum of every latency counted, exact (whole microseconds): only grows while the count does. */
  sumMs: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /**
   * Per operator and per service: cumulative counts at or below each of LATENCY_BUCKETS_MS
   * (Prometheus histogram buckets; `count` is the +Inf bucket).
   */
  buckets?: number[];
}

/**
 * Live numbers of one parallel instance of an operator. Rates and "ms per second" are over the last
 * few seconds (like Flink's `busyTimeMsPerSecond`); time shares and the backlog are those of the
 * task instance the operator runs in (operators chained in one task share them).
 */
export interface InstanceStatus {
  index: number;
  recordsIn: number;
  recordsOut: number;
  errors: number;
  recordsInPerSecond: number;
  recordsOutPerSecond: number;
  /** Async calls of the user function in flight now. */
  inFlight: number;
  /** Batches waiting in the task instance's inbox. */
  backlog: number;
  /** `backlog` over the inbox's capacity (0 empty, 1 or more full: senders wait; each sender may put one batch past it). */
  backlogFill: number;
  /** ms per second spent waiting to send downstream (backpressure). */
  backPressuredMsPerSecond: number;
  /** ms per second spent working (neither waiting for input nor backpressured). */
  busyMsPerSecond: number;
  /** ms per second spent waiting for input. */
  idleMsPerSecond: number;
  /** Per-record latency of an async user function (call to result), when it made async calls. */
  latency?: LatencySummary;
  /** Distributed mode: the worker it runs on. */
  worker?: string;
}

/** How far a source has read, when it knows its size (an array, a file). */
export interface SourceProgress {
  done: number;
  total: number;
  /** What `done` and `total` count. */
  unit: "records" | "bytes";
}

/** Per-operator counters, summed over the operator's parallel instances. */
export interface OperatorStatus {
  name: string;
  kind: string;
  parallelism: number;
  recordsIn: number;
  recordsOut: number;
  errors: number;
  /** Distributed mode: the workers its instances run on. */
  workers?: string[];
  /** Summed over instances. */
  recordsInPerSecond?: number;
  recordsOutPerSecond?: number;
  inFlight?: number;
  backlog?: number;
  /** The highest of its instances: the worst one decides whether it is a bottleneck. */
  backPressuredMsPerSecond?: number;
  busyMsPerSecond?: number;
  /** Merged over instances. */
  latency?: LatencySummary;
  /** Sources that know their size. */
  progress?: SourceProgress;
  /**
   * Each parallel instance, in index order; listed for whole operators while a status holds fewer
   * than 1,024 instances in all (the rest show their operator's aggregates only).
   */
  instances?: InstanceStatus[];
}

/** One edge of a job's graph, between operators by name. */
export interface GraphEdge {
  from: string;
  to: string;
  /** How records spread over the target's instances. */
  partition: "forward" | "rebalance" | "hash" | "broadcast";
  /** Runs in the same task as `from` (a function call, no channel). */
  chained?: boolean;
  /** Closes a feedback loop. */
  feedback?: boolean;
  /** The target's input index, for operators with several inputs (connected streams, joins). */
  input?: number;
}

/** One service of a job as the status reports it. */
export interface ServiceStatus {
  name: string;
  state: "starting" | "running" | "stopped" | "failed";
  remote: boolean;
  calls: number;
  /** Distributed mode: the worker it runs on. */
  worker?: string;
  /**
   * The counters the service publishes: what its `metrics()` method returns (and what BaseService's
   * `incrementMetric()` counted), sampled with the status; absent while it publishes none.
   */
  metrics?: Record<string, number>;
  /** Calls that threw or rejected (timeouts included). */
  errors?: number;
  /** Calls running now. */
  inFlight?: number;
  /** Calls waiting for a turn in the service's mailbox. */
  queued?: number;
  /**
   * Latency of answered calls, measured where the service runs (its queue included, the network to
   * a remote service not): every call that waits for an answer (async, or queued behind others). A
   * sync answer of an idle service is not timed: it runs in its caller's turn, within the
   * operator's busy time, and a clock read per call would cost a third of such a call.
   */
  latency?: LatencySummary;
}

/** A snapshot of a job; plain JSON. */
export interface JobStatus {
  id: string;
  name: string;
  state: JobState;
  autostop: boolean;
  platform: Platform;
  submittedAt: string;
  startedAt?: string;
  endedAt?: string;
  runtimeMs: number;
  restartCount: number;
  /** Live task instances. */
  tasks: number;
  /** Live service instances. */
  services: number;
  isRunning: boolean;
  error?: { message: string; operator?: string; stack?: string };
  operators: OperatorStatus[];
  /** The job's graph between its operators (every pipeline's, for a module of several). */
  edges?: GraphEdge[];
  serviceDetails?: ServiceStatus[];
}

/** Pushed job events: every state change, and periodic metrics while the job runs. */
export type JobEvent =
  | { type: "state"; jobId: string; state: JobState; at: string; status: JobStatus }
  | { type: "metrics"; jobId: string; at: string; status: JobStatus }
  | { type: "log"; jobId: string; at: string; level: LogLevel; message: string; /** The line's number in the job's log. */ line?: number };

/** Options of `env.submit()`. */
export interface SubmitOptions {
  /** Resolve only after the job finished AND every service is cleaned up. */
  autostop?: boolean;
  /** Autostop wait limit; on expiry the job is stopped and submit rejects with JobTimeoutError. */
  timeoutMs?: number;
  /** Leave services running after autostop (they are cleaned by `env.close()`). */
  keepServices?: boolean;
}

/** How a stop request ends a job. */
export interface StopOptions {
  /**
   * `drain` (default): sources stop, end-of-stream markers flow and in-flight work completes.
   * `abort`: queued records are dropped and `ctx.signal` fires to cancel in-flight calls.
   */
  mode?: "drain" | "abort";
  /** How long a drain may take before it turns into an abort (default 10 s). */
  graceMs?: number;
}

/** A submitted job. */
export interface JobHandle {
  readonly id: string;
  status(): Promise<JobStatus>;
  /** Resolves at a terminal status (finished, stopped or failed), never rejects for a failed job. */
  wait(options?: { timeoutMs?: number }): Promise<JobStatus>;
  stop(options?: StopOptions): Promise<JobStatus>;
  /** Pushed status changes and metrics; ends after the terminal state event. */
  events(): AsyncIterable<JobEvent>;
}

/** Options every operator takes. */
export interface OperatorOptions {
  /** Shown in status, logs and the dashboard. */
  name?: string;
  /** Parallel instances (default 1). */
  parallelism?: number;
  /** Async calls in flight per instance (default 1); output order is kept. */
  concurrency?: number;
  /** Constructor arguments for a function class. */
  args?: unknown[];
  /** Run the instances on cluster workers (distributed mode). */
  remote?: boolean;
}

/** Options of a source (`fromBatch`, `fromSource`, `fromCollection`). */
export interface SourceOptions {
  name?: string;
  args?: unknown[];
}

/** Free-form environment settings; the runtime reads the keys below. */
export interface EnvironmentConfig {
  /** Records per batch between tasks (default 512). */
  batchSize?: number;
  /** Batches a task inbox holds before senders wait (default 16; 128 between the processes of a distributed job). */
  channelCapacity?: number;
  /** Interval of metrics events (default 1000 ms). */
  metricsIntervalMs?: number;
  /** Default timeout of a service call (default 30 s). */
  serviceCallTimeoutMs?: number;
  /** Limit of each service's setup() (default 30 s) and cleanup() (default 10 s). */
  serviceSetupTimeoutMs?: number;
  serviceCleanupTimeoutMs?: number;
  /**
   * How long an abort waits for the functions' close() hooks before it ends the job anyway
   * (default 2 s). Calls still in flight are never waited for: their results are dropped.
   */
  abortGraceMs?: number;
  /**
   * Distributed mode: the NATS URL of the cluster that runs the `remote: true` parts (or
   * SAGE_CLUSTER); without one, such a job starts an embedded local cluster.
   */
  cluster?: string;
  /** A NATS credentials file for `cluster` (or SAGE_CLUSTER_CREDS). */
  clusterCreds?: string;
  /** Distributed mode: environment variables for the job's code on the workers (the driver's own are not sent). */
  env?: Record<string, string>;
  /** Workers of the embedded local cluster (default 2). */
  workers?: number;
  /** How long a silent worker or driver counts as alive (default 5000 ms). */
  leaseMs?: number;
  /** Log level of the job's logger (default "info", or SAGE_LOG_LEVEL). */
  logLevel?: LogLevel;
  [key: string]: unknown;
}

/** Levels of the job logger. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

/** The logger functions and services get; printf-style arguments like console.log. */
export interface Logger {
  debug(message: unknown, ...args: unknown[]): void;
  info(message: unknown, ...args: unknown[]): void;
  warn(message: unknown, ...args: unknown[]): void;
  error(message: unknown, ...args: unknown[]): void;
}

/** Options of a service proxy. */
export interface ServiceCallOptions {
  timeoutMs?: number;
}

type AnyFunction = (...args: any[]) => any;

/**
 * A typed handle on a service: each method answers `R | Promise<R>`.
 * @remarks A sync method of an idle in-process service answers directly; `await` is correct everywhere.
 */
export type ServiceProxy<S> = 0 extends 1 & S
  ? any
  : { [K in keyof S as S[K] extends AnyFunction ? K : never]: S[K] extends (...args: infer A) => infer R
      ? (...args: A) => Awaited<R> | Promise<Awaited<R>>
      : never };

/** What services see as `this.ctx`. */
export interface ServiceContext {
  readonly name: string;
  readonly jobId: string;
  readonly logger: Logger;
  /** Fires when the job is aborted. */
  readonly signal: AbortSignal;
  service<S = any>(name: string, options?: ServiceCallOptions): ServiceProxy<S>;
  callService<R = unknown>(name: string, method: string, ...args: unknown[]): R | Promise<R>;
}

/** What functions see as `this.ctx` (and plain functions as their second argument). */
export interface FunctionContext extends ServiceContext {
  readonly instanceIndex: number;
  readonly parallelism: number;
}
