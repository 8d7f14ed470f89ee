/**
 * The messages between a job's driver, the workers and the job host processes on them (JSON on
 * the subjects of subjects.ts). Records and service calls travel with the codec, not as these.
 */
import type { LogFormat } from "../api/log-format.js";

import type { HistogramSnapshot } from "../runtime/latency-histogram.js";
import type { ClockReading } from "../runtime/task-clock.js";

/** A worker's entry in the registry bucket (key: token(name)), rewritten at every heartbeat. */
export interface WorkerEntry {
  /** Unique in the cluster: a second worker with a taken name is refused. */
  name: string;
  /** Differs on every start of a worker process, so a restarted worker is a new member. */
  id: string;
  /** Instances (operator instances and services) it takes at once. */
  slots: number;
  /** Slots taken by the job hosts it runs. */
  used: number;
  hostname: string;
  pid: number;
  startedAt: string;
  /** When this entry was written (ms since the epoch); a stale one means a dead worker. */
  beatAt: number;
  /** The worker's heartbeat interval; it counts as dead after `leaseMs` without a beat. */
  beatMs: number;
  leaseMs: number;
  /** Ids of the jobs it hosts parts of. */
  jobs: string[];
  /** The worker's package version (a driver warns when it differs from its own). */
  version: string;
}

/** What a driver asks a worker (request/reply on subjects.workerControl(name)). */
export type WorkerRequest =
  /** Starts (or reuses) the job's host process on this worker, with `slots` more instances. */
  | { type: "start-host"; jobId: string; slots: number; host: JobHostOptions }
  /** Ends the job's host process here (and everything it started). */
  | { type: "stop-host"; jobId: string };

/** A worker's answer. */
export type WorkerReply =
  /** `outputs` (stop-host): how many output reports the worker forwarded for the job, its host's last lines included. */
  | { ok: true; outputs?: number }
  | { ok: false; error: string };

/** What a job host process is started with (JSON in its environment, SAGE_JOB_HOST). */
export interface JobHostOptions {
  jobId: string;
  /** The worker it runs on. */
  worker: string;
  /** Content hash of the job's bundle in the bundles object store. */
  bundle: string;
  /** The number of the `submit()` call of the module that is the job (see claimPipelineIndex). */
  pipelineIndex: number;
  /** The name of the driver's environment for that pipeline. */
  pipelineName: string;
  /** graphFingerprint() of the driver's pipeline: the host refuses a different one. */
  graphFingerprint: string;
  /** How long the host waits without a driver heartbeat before it tears the job down. */
  leaseMs: number;
  /** Environment variables for the job's code. */
  env?: Record<string, string>;
  /** The driver's script arguments (process.argv from index 2): the module sees the same ones. */
  argv?: string[];
  /** Set by the worker (not the driver): `json` when the worker logs JSON, so the host hands it log records, not text lines. */
  logFormat?: LogFormat;
}

/** One instance placed on a worker: a task instance or a service. */
export type Placement = { kind: "task"; task: string; index: number } | { kind: "service"; service: string };

/** The driver's requests to a job host (request/reply on subjects.host(job, worker)). */
export type HostRequest =
  /** Starts the given instances here (they start consuming at once; services set up first). */
  | { type: "place"; placements: Placement[] }
  /** The job aborts: the host fires its ctx.signal (work in flight is cancelled) and stops its instances; no reply awaited. */
  | { type: "abort" }
  /** What became of the instances placed here (reports travel on core NATS and can be lost). */
  | { type: "state" }
  /** Cleans up one service here. */
  | { type: "cleanup-service"; service: string; timeoutMs: number }
  /** The job ended: leave (the host process exits). */
  | { type: "end" };

/** A job host's answer to a HostRequest; `state` lists the reports it sent about its instances' ends. */
export type HostReply = { ok: true; ended?: DriverReport[] } | { ok: false; error: string; stack?: string };

/** How long a driver or job host goes on without the broker before it gives the job up. */
export function outageLimitMs(leaseMs: number): number {
  return Math.max(3 * leaseMs, 10_000);
}

/** Counters of one operator instance, as a host reports them. */
export interface InstanceCounters {
  operator: string;
  index: number;
  recordsIn: number;
  recordsOut: number;
  errors: number;
  /** Async calls in flight. */
  inFlight?: number;
  /** Where the instance's task spent its time, and its inbox. */
  clock?: ClockReading;
  /** Latency of its async calls. */
  latency?: HistogramSnapshot;
}

/** How the calls of a service hosted on a worker go. */
export interface ServiceCallReport {
  errors: number;
  inFlight: number;
  queued: number;
  latency?: HistogramSnapshot;
}

/** What job hosts tell the driver (published on subjects.driver(job)). */
export type DriverReport =
  | { type: "host-ready"; worker: string; pid: number }
  | { type: "host-failed"; worker: string; error: string; stack?: string }
  | { type: "task-ended"; worker: string; task: string; index: number }
  | { type: "task-failed"; worker: string; task: string; index: number; operator?: string; error: string; stack?: string }
  | { type: "service-ready"; worker: string; service: string }
  | { type: "service-failed"; worker: string; service: string; error: string; stack?: string }
  | { type: "service-cleaned"; worker: string; service: string; error?: string }
  | {
      type: "metrics";
      worker: string;
      counters: InstanceCounters[];
      serviceCalls: Record<string, number>;
      /** What each service hosted there publishes (its metrics(), sampled there), when it does. */
      serviceMetrics?: Record<string, Record<string, number>>;
      /** How each hosted service's calls go. */
      serviceStats?: Record<string, ServiceCallReport>;
    }
  | { type: "log"; worker: string; level: string; message: string }
  /** A line the job's code printed on the worker (forwarded by the worker, bounded). */
  | { type: "output"; worker: string; stream: "out" | "err"; line: string };

/** The driver's heartbeat (on subjects.beat(job)). */
export interface DriverBeat {
  at: number;
}
