import { readFileSync } from "node:fs";
import type { BaseEnvironment } from "../api/environment.js";
import { PipelineDefinitionError } from "../api/errors.js";
import { jobProcessHook, type JobExecutor, type JobProcessHook, type RunningJob, type StartContext } from "../api/executor.js";
import type { JobEvent, JobStatus, StopOptions, SubmitOptions } from "../api/types.js";
import { compile } from "../graph/compile.js";
import type { ExecutionGraph } from "../graph/execution-graph.js";
import { describeGraph, graphFingerprint } from "../graph/fingerprint.js";
import { JobController } from "../runtime/job-controller.js";

/**
 * Runs an environment's job inside a JobManager job process: the local runtime, with the job
 * process hook deciding whether this pipeline runs here and reporting its events to the supervisor.
 */
export class InJobExecutor implements JobExecutor {
  async start(env: BaseEnvironment, options: SubmitOptions, context?: StartContext): Promise<RunningJob> {
    const hook = jobProcessHook()!;
    const turn = hook.beginPipeline();
    if (turn.action !== "run") {
      if (turn.action === "skip") return new SkippedPipeline(hook.jobId, env.name);
      if (turn.action === "busy") {
        throw new PipelineDefinitionError("on a JobManager a job module runs its pipelines one after another: wait for one to end (submit({ autostop: true }) or job.wait()) before submitting the next");
      }
      throw new PipelineDefinitionError("the job was stopped: the job module's later pipelines do not run");
    }
    const keepServices = hook.options.keepServices ?? options.keepServices;
    const graph = compile(env);
    const mismatch = clientMismatch(hook, turn, env, graph);
    if (mismatch) {
      throw reported(hook, new PipelineDefinitionError(
        `${mismatch}. Which pipelines a script submits, and how they are built, must not depend on the client's environment variables, arguments or files: pass values with RemoteEnvironment({ env })`,
      ));
    }
    // Remote parts go to the JobManager's cluster (SAGE_CLUSTER), or to an embedded one.
    const distributed = graph.tasks.some((t) => t.remote) || [...env.serviceFactories.values()].some((f) => f.remote);
    // Loaded only then: the cluster code brings NATS with it.
    const deployment = distributed ? await (await import("../cluster/distributed-executor.js")).deployOnCluster(env, graph, { jobId: hook.jobId, code: readFileSync(process.env.SAGE_JOB_BUNDLE!, "utf8"), pipelineIndex: turn.index }) : undefined;
    const job = new JobController(env, graph, { ...options, keepServices, platform: distributed ? "distributed" : "remote", jobId: hook.jobId, ...(deployment && { deployment }) });
    hook.attach(job);
    context?.created?.(job);
    await job.start();
    // The pipeline a RemoteEnvironment client submitted: what follows its submit() runs on the
    // client, so here the module stays at this point until the job process ends with the job.
    if (turn.target) return new Promise<never>(() => {});
    return new HaltingJob(job, () => hook.halted);
  }
}

/** A pipeline whose end, once the job was stopped, never returns control to the module's code. */
class HaltingJob implements RunningJob {
  constructor(
    readonly job: RunningJob,
    readonly halted: () => boolean,
  ) {}

  get id(): string {
    return this.job.id;
  }

  status(): Promise<JobStatus> {
    return this.job.status();
  }

  async wait(options?: { timeoutMs?: number }): Promise<JobStatus> {
    const status = await this.job.wait(options);
    return this.halted() ? new Promise<never>(() => {}) : status;
  }

  stop(options?: StopOptions): Promise<JobStatus> {
    return this.job.stop(options);
  }

  events(): AsyncIterable<JobEvent> {
    return this.job.events();
  }

  release(): Promise<void> {
    return this.job.release();
  }
}

/**
 * A pipeline of the job module that already ran on the client (a RemoteEnvironment script runs one
 * pipeline per job): it ends at once, so the module reaches the pipeline it was submitted for.
 */
class SkippedPipeline implements RunningJob {
  readonly #status: JobStatus;

  constructor(
    readonly id: string,
    name: string,
  ) {
    const now = new Date().toISOString();
    this.#status = {
      id, name, state: "finished", autostop: true, platform: "remote", submittedAt: now, startedAt: now, endedAt: now,
      runtimeMs: 0, restartCount: 0, tasks: 0, services: 0, isRunning: false, operators: [], serviceDetails: [],
    };
  }

  async status(): Promise<JobStatus> {
    return this.#status;
  }

  async wait(): Promise<JobStatus> {
    return this.#status;
  }

  async stop(): Promise<JobStatus> {
    return this.#status;
  }

  async *events(): AsyncIterable<JobEvent> {
    yield { type: "state", jobId: this.id, state: "finished", at: this.#status.endedAt!, status: this.#status };
  }

  async release(): Promise<void> {}
}

// How the pipeline built here differs from the one the client submitted, if it does. The client's
// own pipeline is checked: the target one, or the first of a module the client only named.
function clientMismatch(hook: JobProcessHook, turn: { index: number; target: boolean }, env: BaseEnvironment, graph: ExecutionGraph): string | undefined {
  const { graphFingerprint: expected, pipelineIndex, pipelineName } = hook.options;
  const checked = turn.target || (pipelineIndex === undefined && turn.index === 0);
  if (checked && expected !== undefined && graphFingerprint(graph) !== expected) {
    return `the job module built a different pipeline on the JobManager than on the client (here: ${describeGraph(graph)})`;
  }
  if (turn.target && pipelineName !== undefined && env.name !== pipelineName) {
    return `the job module's submit() number ${turn.index + 1} on the JobManager is environment '${env.name}', but on the client it was '${pipelineName}'`;
  }
  return undefined;
}

// The supervisor learns why the job never started even if the module catches the error. This
// runs in the job module's copy of the package: it reaches the channel through the hook only.
function reported(hook: JobProcessHook, error: Error): Error {
  hook.report({ type: "module-error", message: error.message, ...(error.stack !== undefined && { stack: error.stack }) });
  return error;
}
