import type { BaseEnvironment } from "../api/environment.js";
import { clusterHostHook, type JobExecutor, type RunningJob } from "../api/executor.js";
import type { JobEvent, JobStatus, SubmitOptions } from "../api/types.js";
import { compile } from "../graph/compile.js";
import { describeGraph, graphFingerprint } from "../graph/fingerprint.js";
import { connectCluster } from "./connect.js";
import { exitAfterOutput } from "./exit-after-output.js";
import { tieToWorker } from "./host-lifeline.js";
import { HostedJob } from "./hosted-job.js";
import type { JobHostOptions } from "./protocol.js";

/**
 * Runs inside a job host on a worker: the job module's `submit()` calls land here. The driver's
 * pipeline (by its submit number) is hosted: its placed parts run here until the job ends; the
 * module's code after that submit never runs on a worker. Earlier pipelines of the module ran
 * in the driver already and are skipped.
 */
export class ClusterHostExecutor implements JobExecutor {
  async start(env: BaseEnvironment, _options: SubmitOptions): Promise<RunningJob> {
    const hook = clusterHostHook()!;
    const options = hook.options as JobHostOptions;
    const index = hook.nextPipeline();
    if (index < options.pipelineIndex) return skipped(options.jobId, env.name);
    if (index > options.pipelineIndex) return new Promise<never>(() => {});
    const graph = compile(env);
    if (graphFingerprint(graph) !== options.graphFingerprint || env.name !== options.pipelineName) {
      const message =
        `the job module built a different pipeline on worker '${options.worker}' than in the driver (here: '${env.name}', ${describeGraph(graph)}): ` +
        "how a script builds its pipeline must not depend on the driver's environment variables, arguments or files";
      hook.refuse(message);
      return new Promise<never>(() => {});
    }
    const url = process.env.SAGE_CLUSTER;
    if (!url) throw new Error("a job host needs SAGE_CLUSTER");
    const nc = await connectCluster({ url, ...(process.env.SAGE_CLUSTER_CREDS && { creds: process.env.SAGE_CLUSTER_CREDS }) }, { name: `sage-host ${options.worker} ${options.jobId}`, requireJetStream: false });
    const hosted = await HostedJob.start(env, graph, options, nc);
    tieToWorker(() => hosted.end(), () => hosted.ending);
    void hosted.ended.then(() => exitAfterOutput(0));
    return new Promise<never>(() => {});
  }
}

// A pipeline of the module that ran in the driver before the job's own: it ends at once here.
function skipped(id: string, name: string): RunningJob {
  const now = new Date().toISOString();
  const status: JobStatus = {
    id, name, state: "finished", autostop: true, platform: "distributed", submittedAt: now, startedAt: now, endedAt: now,
    runtimeMs: 0, restartCount: 0, tasks: 0, services: 0, isRunning: false, operators: [], serviceDetails: [],
  };
  return {
    id,
    status: async () => status,
    wait: async () => status,
    stop: async () => status,
    release: async () => {},
    async *events(): AsyncIterable<JobEvent> {
      yield { type: "state", jobId: id, state: "finished", at: now, status };
    },
  };
}
