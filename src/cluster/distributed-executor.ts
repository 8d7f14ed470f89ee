import { randomUUID } from "node:crypto";
import type { NatsConnection } from "@nats-io/nats-core";
import type { BaseEnvironment } from "../api/environment.js";
import { PipelineDefinitionError } from "../api/errors.js";
import { pipelineEntry, type JobExecutor, type RunningJob, type StartContext } from "../api/executor.js";
import { createLogger, defaultLogLevel } from "../api/logger.js";
import type { SubmitOptions } from "../api/types.js";
import { compile } from "../graph/compile.js";
import type { ExecutionGraph } from "../graph/execution-graph.js";
import { graphFingerprint } from "../graph/fingerprint.js";
import { JobController } from "../runtime/job-controller.js";
import { bundleEntry } from "./bundle.js";
import { publishBundle } from "./cluster-bundles.js";
import { ClusterDeployment } from "./cluster-deployment.js";
import { closeConnection, connectCluster, redactUrl } from "./connect.js";
import { startEmbeddedCluster } from "./embedded-cluster.js";
import { jobEnvProblems } from "./job-env.js";
import { natsChannelCapacity } from "./nats-transport.js";
import { listWorkers } from "./worker-registry.js";

/** The default lease: a worker or driver silent this long counts as gone. */
export const DEFAULT_LEASE_MS = 5000;

/** How long a job waits for the cluster to have a worker before it fails. */
const NO_WORKERS_WAIT_MS = 5000;

interface OpenCluster {
  nc: NatsConnection;
  url: string;
  release(): Promise<void>;
}

/** The cluster an environment runs its remote parts on: its `cluster` setting, SAGE_CLUSTER, or an embedded one. */
async function openCluster(env: BaseEnvironment, leaseMs: number): Promise<OpenCluster> {
  const url = (typeof env.config.cluster === "string" && env.config.cluster) || process.env.SAGE_CLUSTER;
  if (url) {
    const creds = (typeof env.config.clusterCreds === "string" && env.config.clusterCreds) || process.env.SAGE_CLUSTER_CREDS || undefined;
    const nc = await connectCluster({ url, ...(creds && { creds }) }, { name: `sage-driver ${env.name}` });
    return { nc, url, release: () => closeConnection(nc) };
  }
  const workers = typeof env.config.workers === "number" && env.config.workers >= 1 ? Math.floor(env.config.workers) : 2;
  const cluster = await startEmbeddedCluster({ workers, leaseMs });
  return { nc: cluster.nc, url: cluster.url, release: () => cluster.stop() };
}

// The live workers; an empty cluster is waited for a little (workers may be starting), then refused.
async function workersOf(cluster: OpenCluster): Promise<ReturnType<typeof listWorkers>> {
  const deadline = Date.now() + NO_WORKERS_WAIT_MS;
  for (;;) {
    const workers = await listWorkers(cluster.nc);
    if (workers.length > 0 || Date.now() > deadline) {
      if (workers.length === 0) {
        throw new Error(`the cluster at ${redactUrl(cluster.url)} has no workers: start one with 'sage worker start --cluster ${redactUrl(cluster.url)}'`);
      }
      return workers;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// The variables a driver passes to its job's code on the workers (config.env), refused up front
// by the rule the workers apply.
function validJobEnv(value: unknown): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const problem = jobEnvProblems(value);
  if (problem) throw new PipelineDefinitionError(`config.env: ${problem}`);
  return value as Record<string, string>;
}

/** What a distributed job's deployment needs besides its environment. */
export interface DistributedJobSpec {
  jobId: string;
  /** The job module's code (a bundle), as its job hosts load it. */
  code: string;
  /** The module's submit() number of this pipeline. */
  pipelineIndex: number;
}

/**
 * Opens the environment's cluster (configured, SAGE_CLUSTER, or an embedded one), publishes the
 * job's code there and places its remote parts; the deployment releases the cluster when it closes.
 */
export async function deployOnCluster(env: BaseEnvironment, graph: ExecutionGraph, spec: DistributedJobSpec): Promise<ClusterDeployment> {
  const leaseMs = typeof env.config.leaseMs === "number" && env.config.leaseMs > 0 ? env.config.leaseMs : DEFAULT_LEASE_MS;
  const jobEnv = validJobEnv(env.config.env);
  const logger = createLogger(`job ${env.name}`, env.config.logLevel ?? defaultLogLevel());
  const cluster = await openCluster(env, leaseMs);
  try {
    await workersOf(cluster);
    const bundle = await publishBundle(cluster.nc, spec.code);
    const capacity = natsChannelCapacity(env.config);
    return await ClusterDeployment.create({
      nc: cluster.nc,
      jobId: spec.jobId,
      env,
      graph,
      host: {
        jobId: spec.jobId,
        bundle,
        pipelineIndex: spec.pipelineIndex,
        pipelineName: env.name,
        graphFingerprint: graphFingerprint(graph),
        leaseMs,
        argv: process.argv.slice(2),
        ...(jobEnv && { env: jobEnv }),
      },
      capacity,
      logger,
      workers: () => listWorkers(cluster.nc),
      release: () => cluster.release(),
    });
  } catch (error) {
    await cluster.release();
    throw error;
  }
}

/** Whether a compiled job has anything to place on a cluster. */
export function hasRemoteParts(env: BaseEnvironment, graph: ExecutionGraph): boolean {
  return graph.tasks.some((t) => t.remote) || [...env.serviceFactories.values()].some((f) => f.remote);
}

/**
 * Distributed mode's driver: bundles the pipeline's entry file for the workers, places the
 * remote parts (ClusterDeployment) and runs the job's controller here, as local mode does.
 */
export class DistributedExecutor implements JobExecutor {
  async start(env: BaseEnvironment, options: SubmitOptions, context: StartContext): Promise<RunningJob> {
    const graph = compile(env);
    const entry = pipelineEntry();
    if (!entry) throw new PipelineDefinitionError("distributed mode needs the pipeline's entry file: run the pipeline as a script (node, tsx or sage run)");
    const code = await bundleEntry(entry);
    const jobId = randomUUID();
    const deployment = await deployOnCluster(env, graph, { jobId, code, pipelineIndex: context.pipelineIndex });
    const job = new JobController(env, graph, { ...options, platform: "distributed", jobId, deployment });
    context.created?.(job);
    await job.start();
    return job;
  }
}
