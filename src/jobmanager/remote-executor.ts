import { isIP } from "node:net";
import type { BaseEnvironment } from "../api/environment.js";
import { PipelineDefinitionError } from "../api/errors.js";
import { pipelineEntry, type JobExecutor, type RunningJob } from "../api/executor.js";
import type { RemoteEnvironment } from "../api/remote-environment.js";
import type { JobEvent, JobStatus, StopOptions, SubmitOptions } from "../api/types.js";
import { compile } from "../graph/compile.js";
import { graphFingerprint as fingerprint } from "../graph/fingerprint.js";
import { bundleEntry } from "./bundle.js";
import { JobManagerClient } from "./client.js";
import { defaultDataDir, readToken } from "./paths.js";

/** Submits a RemoteEnvironment's pipeline to its JobManager as a bundled module. */
export class RemoteExecutor implements JobExecutor {
  async start(env: BaseEnvironment, options: SubmitOptions): Promise<RunningJob> {
    const remote = env as RemoteEnvironment;
    const client = new JobManagerClient({ host: remote.host, port: remote.port, token: remote.token ?? discoverToken(remote.host) });
    const entry = remote.entry ?? pipelineEntry();
    if (!entry) throw new PipelineDefinitionError("RemoteEnvironment needs the pipeline's entry file: pass { entry } or run the pipeline as a script");
    // A client that declared the pipeline checks the JobManager builds the same one; a client that
    // only names an entry file (the pipeline is declared there) has nothing to compare.
    const graphFingerprint = env.pipeline.length > 0 ? fingerprint(compile(env)) : undefined;
    const code = await bundleEntry(entry);
    const submitted = await client.submitJob({
      name: env.name,
      code,
      options: { autostop: options.autostop, timeoutMs: options.timeoutMs, keepServices: options.keepServices, graphFingerprint, env: remote.jobEnv },
    });
    const job = new RemoteJob(client, submitted.id, options.keepServices === true);
    // Without autostop, submit resolves once the job runs (or has already ended).
    await client.waitForJob(submitted.id, { until: (status) => status.state !== "created" });
    return job;
  }
}

/** A job running on a JobManager, seen from the client. */
export class RemoteJob implements RunningJob {
  constructor(
    readonly client: JobManagerClient,
    readonly id: string,
    private readonly keepServices: boolean,
  ) {}

  status(): Promise<JobStatus> {
    return this.client.getJob(this.id);
  }

  wait(options: { timeoutMs?: number } = {}): Promise<JobStatus> {
    return this.client.waitForJob(this.id, options);
  }

  stop(options?: StopOptions): Promise<JobStatus> {
    return this.client.stopJob(this.id, options);
  }

  events(): AsyncIterable<JobEvent> {
    return this.client.events(this.id);
  }

  async release(): Promise<void> {
    if (!this.keepServices) return;
    const status = await this.client.getJob(this.id);
    if (status.services > 0) await this.client.stopJob(this.id);
  }
}

// The token of a JobManager on this machine, when none was given.
function discoverToken(host: string): string | undefined {
  if (process.env.SAGE_TOKEN) return process.env.SAGE_TOKEN;
  const local = host === "localhost" || (isIP(host) !== 0 && (host.startsWith("127.") || host === "::1"));
  return local ? readToken(defaultDataDir()) : undefined;
}
