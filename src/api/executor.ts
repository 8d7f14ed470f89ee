import type { BaseEnvironment } from "./environment.js";
import type { JobEvent, JobHandle, JobState, JobStatus, Platform, StopOptions, SubmitOptions } from "./types.js";

/** A started job as an executor hands it to its environment. */
export interface RunningJob extends JobHandle {
  /** Cleans up services a `keepServices` job left running; a no-op otherwise. */
  release(): Promise<void>;
  /** The current state, when this process knows it without asking anyone (a job it runs itself). */
  readonly state?: JobState;
  /** Like wait(), resolving with the terminal state alone, when that is cheaper than a whole status. */
  waitForState?(timeoutMs?: number): Promise<JobState>;
}

/**
 * Runs environments of one platform. The api layer only knows this interface; the root module
 * registers the implementations, so imports keep pointing downward.
 */
export interface JobExecutor {
  /** Starts the job; resolves once it is running, or has already failed or ended. */
  start(env: BaseEnvironment, options: SubmitOptions, context: StartContext): Promise<RunningJob>;
}

/** What an executor learns about the submit it serves. */
export interface StartContext {
  /** The number of this `submit()` among every environment's submits in this process, from 0. */
  pipelineIndex: number;
  /**
   * Told the job as soon as it exists (before its services are set up), so that it can be stopped
   * while it starts; an executor that cannot tell earlier need not call it.
   */
  created?: (job: RunningJob) => void;
}

// On globalThis: a CLI and the pipeline it runs may hold two copies of this package.
const SUBMITS_KEY = Symbol.for("sage.submitCount");

/** Numbers the submits of this process, over every environment (a job module counts the same way). */
export function claimPipelineIndex(): number {
  const scope = globalThis as Record<symbol, number | undefined>;
  const index = scope[SUBMITS_KEY] ?? 0;
  scope[SUBMITS_KEY] = index + 1;
  return index;
}

const executors = new Map<Platform, () => JobExecutor>();

/** Registers the executor that runs environments of `platform`. */
export function registerExecutor(platform: Platform, create: () => JobExecutor): void {
  executors.set(platform, create);
}

/**
 * What a JobManager's job process provides: the job it runs, and where each pipeline the job module
 * submits goes. Set on globalThis, since the job's bundle carries its own copy of this package.
 */
export interface JobProcessHook {
  readonly jobId: string;
  /** Submit options the server was given (they override the module's own `keepServices`). */
  readonly options: JobProcessOptions;
  /** Called by each `submit()` of the module, in order: whether this pipeline runs here. */
  beginPipeline(): PipelineTurn;
  /** Hands over a pipeline the turn said to run, before it starts: its events are reported from now on. */
  attach(job: HookedPipeline): void;
  /** True once the job was stopped: no more of the module's code may run after its pipeline. */
  readonly halted: boolean;
  /** Sends the supervisor a report over the job process's channel, after the reports before it. */
  report(message: JobProcessReport): void;
}

/** What the job module's copy of the package reports itself: why the module's pipeline was refused. */
export type JobProcessReport = { type: "module-error"; message: string; stack?: string };

/** The options a job process runs its module with. */
export interface JobProcessOptions {
  keepServices?: boolean;
  /** The fingerprint of the pipeline the client built (RemoteEnvironment), checked for the target pipeline. */
  graphFingerprint?: string;
  /**
   * Set when a RemoteEnvironment client submitted one pipeline of its script: the number of the
   * `submit()` call (counted over every environment of the process) that runs here. Earlier ones
   * already ran on the client and are skipped; code after it runs on the client only.
   */
  pipelineIndex?: number;
  /** The name of the client's environment for that pipeline: the target pipeline must carry it. */
  pipelineName?: string;
}

/**
 * What a job module's `submit()` does inside a job process: `run` the pipeline (`target` when it is
 * the one a RemoteEnvironment client submitted), `skip` it (it ran on the client), or refuse it:
 * `stopped` (the job was stopped, nothing more runs) or `busy` (another pipeline still runs).
 */
export type PipelineTurn = { action: "run"; index: number; target: boolean } | { action: "skip" | "stopped" | "busy"; index: number };

/** A started pipeline as the job process hook sees it (structural: the bundle has its own classes). */
export interface HookedPipeline {
  readonly id: string;
  snapshot(): JobStatus;
  events(): AsyncIterable<JobEvent>;
  stop(options?: StopOptions): Promise<JobStatus>;
  release(): Promise<void>;
}

const JOB_PROCESS_KEY = Symbol.for("sage.jobProcess");
let jobProcessExecutor: (() => JobExecutor) | undefined;

/** The hook when this process is a JobManager job process. */
export function jobProcessHook(): JobProcessHook | undefined {
  return (globalThis as Record<symbol, unknown>)[JOB_PROCESS_KEY] as JobProcessHook | undefined;
}

/** Installs the job process hook (the job process does this before loading the job module). */
export function installJobProcessHook(hook: JobProcessHook): void {
  (globalThis as Record<symbol, unknown>)[JOB_PROCESS_KEY] = hook;
}

/** Registers the executor every environment uses inside a job process. */
export function registerJobProcessExecutor(create: () => JobExecutor): void {
  jobProcessExecutor = create;
}

/**
 * What a job host process on a cluster worker provides: which of the job module's pipelines is the
 * job (the driver's `submit()` number) and what to build it with. On globalThis, like the job
 * process hook, since the job's bundle carries its own copy of this package.
 */
export interface ClusterHostHook {
  /** JobHostOptions (cluster/protocol.ts), as plain data. */
  readonly options: { jobId: string; worker: string; pipelineIndex: number; pipelineName: string; graphFingerprint: string; leaseMs: number };
  /** Numbers the module's submits: the one equal to `options.pipelineIndex` is the job. */
  nextPipeline(): number;
  /** Reports that the module cannot host the job (a different pipeline, a module error). */
  refuse(message: string, stack?: string): void;
}

const CLUSTER_HOST_KEY = Symbol.for("sage.clusterHost");
let clusterHostExecutor: (() => JobExecutor) | undefined;

/** The cluster host hook when this process is a job host on a worker. */
export function clusterHostHook(): ClusterHostHook | undefined {
  return (globalThis as Record<symbol, unknown>)[CLUSTER_HOST_KEY] as ClusterHostHook | undefined;
}

/** Installs the cluster host hook (a job host does this before loading the job's bundle). */
export function installClusterHostHook(hook: ClusterHostHook): void {
  (globalThis as Record<symbol, unknown>)[CLUSTER_HOST_KEY] = hook;
}

/** Registers the executor every environment uses inside a job host. */
export function registerClusterHostExecutor(create: () => JobExecutor): void {
  clusterHostExecutor = create;
}

/**
 * The executor of `platform`; throws when none is registered (the package root registers them).
 * Inside a JobManager job process every environment runs there, whatever its platform, so a
 * script written for LocalEnvironment can be submitted as it is.
 */
export function executorFor(platform: Platform): JobExecutor {
  if (clusterHostHook() && clusterHostExecutor) return clusterHostExecutor();
  if (jobProcessHook() && jobProcessExecutor) return jobProcessExecutor();
  const create = executors.get(platform);
  if (!create) throw new Error(`no executor is registered for platform '${platform}': import SAGE from the package root ("sage")`);
  return create();
}

/** Told about every job an environment starts in this process (the `sage run` display listens). */
export type JobObserver = (env: BaseEnvironment, job: RunningJob) => void;

// On globalThis, so a CLI and a pipeline that loaded two copies of the package still meet.
const OBSERVERS_KEY = Symbol.for("sage.jobObservers");
const observers: Set<JobObserver> = ((globalThis as Record<symbol, unknown>)[OBSERVERS_KEY] ??= new Set<JobObserver>()) as Set<JobObserver>;

/** Calls `observer` for each job started from now on; returns the unsubscribe function. */
export function observeJobs(observer: JobObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

/** Tells the observers that `env` started `job`. */
export function announceJob(env: BaseEnvironment, job: RunningJob): void {
  for (const observer of observers) observer(env, job);
}

const ENTRY_KEY = Symbol.for("sage.pipelineEntry");

/** Tells environments which file the running pipeline came from (`sage run` sets it). */
export function setPipelineEntry(path: string): void {
  (globalThis as Record<symbol, unknown>)[ENTRY_KEY] = path;
}

/** The pipeline's entry file: the one `sage run` loaded, else the main module. */
export function pipelineEntry(): string | undefined {
  return ((globalThis as Record<symbol, unknown>)[ENTRY_KEY] as string | undefined) ?? process.argv[1];
}
