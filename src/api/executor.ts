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
  /** Starts the job; resolves once it is running, or has already failed or ended. */
  start(env: BaseEnvironment, options: SubmitOptions): Promise<RunningJob>;
}

const executors = new Map<Platform, () => JobExecutor>();

/** Registers the executor that runs environments of `platform`. */
export function registerExecutor(platform: Platform, create: () => JobExecutor): void {
  executors.set(platform, create);
}

/** The executor of `platform`; throws when none is registered (the package root registers them). */
export function executorFor(platform: Platform): JobExecutor {
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
