import type { BaseEnvironment } from "./environment.js";
import type { JobHandle, Platform, SubmitOptions } from "./types.js";

/** A started job as an executor hands it to its environment. */
export interface RunningJob extends JobHandle {
  /** Cleans up services a `keepServices` job left running; a no-op otherwise. */
  release(): Promise<void>;
}

/**
 * Runs environments of one platform. The api layer only knows this interface; the root module
 * registers the implementations, so imports keep pointing downward.
 */
export interface JobExecutor {
  /**
   * Starts the job; resolves once it is running, or has already failed or ended. `created` is
   * told the job as soon as it exists (before its services are set up), so that it can be
   * stopped while it starts; an executor that cannot tell earlier need not call it.
   */
  start(env: BaseEnvironment, options: SubmitOptions, created?: (job: RunningJob) => void): Promise<RunningJob>;
}

const executors = new Map<Platform, () => JobExecutor>();

/** Registers the executor that runs environments of `platform`. */
export function registerExecutor(platform: Platform, create: () => JobExecutor): void {
  executors.set(platform, create);
}

/**
 * What a JobManager's job process provides: the job it runs, and the channel to report on. Set on
 * globalThis, since the job's bundle carries its own copy of this package.
 */
export interface JobProcessHook {
  readonly jobId: string;
  /** Submit options the server was given (they override the module's own `keepServices`). */
  readonly options: { keepServices?: boolean; graphFingerprint?: string };
  /** True for the first submit only: a job module runs one pipeline. */
  claim(): boolean;
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
 * The executor of `platform`; throws when none is registered (the package root registers them).
 * Inside a JobManager job process every environment runs there, whatever its platform, so a
 * script written for LocalEnvironment can be submitted as it is.
 */
export function executorFor(platform: Platform): JobExecutor {
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
