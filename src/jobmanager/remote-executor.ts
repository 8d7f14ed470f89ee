import { isIP } from "node:net";
import { resolve } from "node:path";
import type { BaseEnvironment } from "../api/environment.js";
import { JobManagerError, PipelineDefinitionError } from "../api/errors.js";
import { pipelineEntry, type JobExecutor, type RunningJob, type StartContext } from "../api/executor.js";
import type { RemoteEnvironment } from "../api/remote-environment.js";
import type { JobEvent, JobStatus, StopOptions, SubmitOptions } from "../api/types.js";
import { compile } from "../graph/compile.js";
import { graphFingerprint as fingerprint } from "../graph/fingerprint.js";
import { bundleEntry } from "./bundle.js";
import { JobManagerClient } from "./client.js";
import { dataPaths, defaultDataDir, readToken } from "./paths.js";

/** Submits a RemoteEnvironment's pipeline to its JobManager as a bundled module. */
export class RemoteExecutor implements JobExecutor {
  async start(env: BaseEnvironment, options: SubmitOptions, context: StartContext): Promise<RunningJob> {
    const remote = env as RemoteEnvironment;
    const client = new JobManagerClient({
      host: remote.host,
      port: remote.port,
      token: remote.token ?? discoverToken(remote.host),
      onWarning: (message) => process.stderr.write(`[sage] ${message}\n`),
    });
    const entry = remote.entry ?? pipelineEntry();
    if (!entry) throw new PipelineDefinitionError("RemoteEnvironment needs the pipeline's entry file: pass { entry } or run the pipeline as a script");
    // A client that declared the pipeline checks the JobManager builds the same one; a client that
    // only names an entry file (the pipeline is declared there) has nothing to compare.
    // The script's submits are numbered, and the job runs the one numbered here, only when the
    // bundled entry is this very script (not a file the client merely names).
    const ownScript = env.pipeline.length > 0 && (remote.entry === undefined || resolve(remote.entry) === resolve(pipelineEntry() ?? ""));
    const graphFingerprint = env.pipeline.length > 0 ? fingerprint(compile(env)) : undefined;
    const code = await bundleEntry(entry);
    const submitted = await client.submitJob({
      name: env.name,
      code,
      options: { autostop: options.autostop, timeoutMs: options.timeoutMs, keepServices: options.keepServices, graphFingerprint, env: remote.jobEnv, ...(ownScript && { pipelineIndex: context.pipelineIndex }) },
    }).catch((error: unknown) => {
      if (error instanceof JobManagerError && error.httpStatus === 401) {
        throw new JobManagerError(401, error.serverCode, `${error.message}: pass RemoteEnvironment(name, { token }) or set SAGE_TOKEN (a local JobManager keeps it in ${dataPaths(defaultDataDir()).token})`);
      }
      throw error;
    });
    const job = new RemoteJob(client, submitted.id, options.keepServices === true, remote.printLogs);
    context.created?.(job);
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
    private readonly streamLogs = false,
  ) {}

  status(): Promise<JobStatus> {
    return this.client.getJob(this.id);
  }

  /**
   * Waits for the end, printing the job's log lines here as they come (unless the environment
   * said `logs: false`). Ctrl-C while waiting drains the remote job instead of leaving it running;
   * a second Ctrl-C exits. Neither is installed when the program handles SIGINT itself.
   */
  async wait(options: { timeoutMs?: number } = {}): Promise<JobStatus> {
    const printer = this.streamLogs ? await this.#logPrinter() : undefined;
    const onInterrupt = () => {
      process.off("SIGINT", onInterrupt);
      process.stderr.write(`\nstopping remote job ${this.id.slice(0, 8)} (Ctrl-C again to exit without waiting)\n`);
      void this.client.stopJob(this.id).catch(() => undefined);
    };
    const handleInterrupt = process.listenerCount("SIGINT") === 0;
    if (handleInterrupt) process.on("SIGINT", onInterrupt);
    try {
      return await this.client.waitForJob(this.id, { ...options, onEvent: printer });
    } finally {
      process.off("SIGINT", onInterrupt);
    }
  }

  // Prints what the job logged so far, then each new line once (lines are numbered).
  async #logPrinter(): Promise<(event: JobEvent) => void> {
    let next = 0;
    const print = (line: string, number: number) => {
      if (number < next) return;
      next = number + 1;
      process.stdout.write(`${line}\n`);
    };
    const buffered: JobEvent[] = [];
    let ready = false;
    const printer = (event: JobEvent) => {
      if (event.type !== "log" || event.line === undefined) return;
      if (ready) print(event.message, event.line);
      else buffered.push(event);
    };
    const { lines, next: after } = await this.client.logs(this.id, this.#printedUpTo).catch(() => ({ lines: [], next: this.#printedUpTo }));
    lines.forEach((line, i) => print(line, after - lines.length + i));
    ready = true;
    for (const event of buffered) printer(event);
    this.#printedUpTo = Math.max(after, next);
    return (event) => {
      printer(event);
      this.#printedUpTo = next;
    };
  }

  #printedUpTo = 0;

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
