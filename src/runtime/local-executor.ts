import type { BaseEnvironment } from "../api/environment.js";
import type { JobExecutor, RunningJob, StartContext } from "../api/executor.js";
import type { SubmitOptions } from "../api/types.js";
import { compile } from "../graph/compile.js";
import { JobController } from "./job-controller.js";

/** Runs jobs in this process. */
export class LocalExecutor implements JobExecutor {
  async start(env: BaseEnvironment, options: SubmitOptions, context?: StartContext): Promise<RunningJob> {
    const job = new JobController(env, compile(env), { ...options, platform: "local" });
    context?.created?.(job);
    await job.start();
    return job;
  }
}
