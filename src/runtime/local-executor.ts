import type { BaseEnvironment } from "../api/environment.js";
import type { JobExecutor, RunningJob } from "../api/executor.js";
import type { SubmitOptions } from "../api/types.js";
import { compile } from "../graph/compile.js";
import { JobController } from "./job-controller.js";

/** Runs jobs in this process. */
export class LocalExecutor implements JobExecutor {
  async start(env: BaseEnvironment, options: SubmitOptions, created?: (job: RunningJob) => void): Promise<RunningJob> {
    const job = new JobController(env, compile(env), { ...options, platform: "local" });
    created?.(job);
    await job.start();
    return job;
  }
}
