import type { BaseEnvironment } from "../api/environment.js";
import { PipelineDefinitionError } from "../api/errors.js";
import { jobProcessHook, type JobExecutor, type RunningJob } from "../api/executor.js";
import type { SubmitOptions } from "../api/types.js";
import { compile } from "../graph/compile.js";
import { describeGraph, graphFingerprint } from "../graph/fingerprint.js";
import { JobController } from "../runtime/job-controller.js";
import type { JobProcessMessage, SupervisorMessage } from "./protocol.js";

/**
 * Runs an environment's job inside a JobManager job process: the local runtime, with every event
 * forwarded to the supervisor and stop/release requests taken from it.
 */
export class InJobExecutor implements JobExecutor {
  async start(env: BaseEnvironment, options: SubmitOptions): Promise<RunningJob> {
    const hook = jobProcessHook()!;
    if (!hook.claim()) {
      throw new PipelineDefinitionError("a job module runs one pipeline, and this job module already submitted one");
    }
    const keepServices = hook.options.keepServices ?? options.keepServices;
    const graph = compile(env);
    const expected = hook.options.graphFingerprint;
    if (expected !== undefined && graphFingerprint(graph) !== expected) {
      throw reported(new PipelineDefinitionError(
        `the job module built a different pipeline on the JobManager than on the client (here: ${describeGraph(graph)}). ` +
          "A pipeline must not depend on the client's environment variables, arguments or files: pass values with RemoteEnvironment({ env })",
      ));
    }
    const job = new JobController(env, graph, { ...options, keepServices, platform: "remote", jobId: hook.jobId });
    const send = (message: JobProcessMessage) => {
      if (process.connected) process.send!(message);
    };
    const events = (async () => {
      for await (const event of job.events()) {
        // Output written before the end reaches the supervisor before the end does.
        if (event.type === "state" && TERMINAL.has(event.state)) await flushOutput();
        send({ type: "event", event });
      }
    })();
    // Kept services live on after the job: the process must wait for the release.
    let keepAlive: NodeJS.Timeout | undefined;
    const release = async () => {
      await job.release();
      clearInterval(keepAlive);
      send({ type: "event", event: { type: "state", jobId: job.id, state: job.snapshot().state, at: new Date().toISOString(), status: job.snapshot() } });
      process.off("message", onMessage);
    };
    const onMessage = (message: SupervisorMessage) => {
      if (message.type === "stop") void job.stop(message.options).then(release);
      else if (message.type === "release") void release();
    };
    process.on("message", onMessage);
    await job.start();
    void job.wait().then(async (status) => {
      await events;
      if (keepServices && status.services > 0) keepAlive = setInterval(() => {}, 1 << 30);
      else process.off("message", onMessage);
    });
    return job;
  }
}

// The supervisor learns why the job never started even if the module catches the error.
function reported(error: Error): Error {
  if (process.connected) process.send!({ type: "module-error", message: error.message, stack: error.stack } satisfies JobProcessMessage);
  return error;
}

const TERMINAL = new Set(["finished", "stopped", "failed"]);

function flushOutput(): Promise<unknown> {
  return Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write("", resolve))));
}
