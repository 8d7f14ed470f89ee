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
