import { isIP } from "node:net";
import { resolve } from "node:path";
import type { BaseEnvironment } from "../api/environment.js";
import { JobManagerError, PipelineDefinitionError } from "../api/errors.js";
import { TERMINAL_STATES } from "../api/job-state.js";
import { pipelineEntry, type JobExecutor, type RunningJob, type StartContext } from "../api/executor.js";
import type { RemoteEnvironment } from "../api/remote-environment.js";
import type { JobEvent, JobStatus, StopOptions, SubmitOptions } from "../api/types.js";
import { compile } from "../graph/compile.js";
import { graphFingerprint as fingerprint } from "../graph/fingerprint.js";
import { bundleEntry } from "../cluster/bundle.js";
import { JobManagerClient } from "./client.js";
import { CLIENT_ENV_NAMES, clientEnvNames } from "./env-guard.js";
import { LogPrinter } from "./log-printer.js";
import { dataPaths, defaultDataDir, readToken } from "./paths.js";

// How long a job process that reported its end may take to exit before its log is read as it is.
const LINGER_MS = 3000;

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
      options: {
        autostop: options.autostop,
        timeoutMs: options.timeoutMs,
        keepServices: options.keepServices,
        graphFingerprint,
        env: { ...remote.jobEnv, [CLIENT_ENV_NAMES]: clientEnvNames(process.env, remote.jobEnv) },
        ...(ownScript && { pipelineIndex: context.pipelineIndex, pipelineName: env.name }),
      },
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
    streamLogs = false,
  ) {
    // One printer per job, so that waiting twice (the script's autostop, then `sage run`) prints each line once.
    this.#printer = streamLogs ? new LogPrinter((since) => client.logs(id, since), (line) => process.stdout.write(`${line}\n`)) : undefined;
  }

  readonly #printer: LogPrinter | undefined;

  status(): Promise<JobStatus> {
    return this.client.getJob(this.id);
  }

  /**
   * Waits for the end, printing the job's log lines here as they come (unless the environment
   * said `logs: false`): when it resolves, every line the job logged has been printed, once, in
   * order. Ctrl-C while waiting drains the remote job instead of leaving it running; a second
   * Ctrl-C exits. Neither is installed when the program handles SIGINT itself.
   */
  async wait(options: { timeoutMs?: number } = {}): Promise<JobStatus> {
    const printer = this.#printer;
    // The server sends the current state, then subscribes: a catch-up at each state event gets
    // the lines logged before this stream opened, the stream brings the later ones.
    const onEvent = printer && ((event: JobEvent) => (event.type === "state" ? void printer.catchUp() : printer.onEvent(event)));
    const onInterrupt = () => {
      process.off("SIGINT", onInterrupt);
      process.stderr.write(`\nstopping remote job ${this.id.slice(0, 8)} (Ctrl-C again to exit without waiting)\n`);
      void this.client.stopJob(this.id).catch(() => undefined);
    };
    const handleInterrupt = process.listenerCount("SIGINT") === 0;
    if (handleInterrupt) process.on("SIGINT", onInterrupt);
    try {
      const status = await this.client.waitForJob(this.id, { ...options, onEvent });
      if (printer) await this.#printRest(printer);
      return status;
    } finally {
      process.off("SIGINT", onInterrupt);
    }
  }


  // The job process reports its end before it exits, and may still be writing: the log is complete
  // once the process is gone, which the server tells by closing the event stream. A process kept for
  // its services, or held open by the module, is given LINGER_MS.
  async #printRest(printer: LogPrinter): Promise<void> {
    if (!this.keepServices) {
      const events = this.client.events(this.id);
      const linger = setTimeout(() => events.close(), LINGER_MS);
      try {
        for await (const event of events) printer.onEvent(event);
      } catch {
        // no stream: the log is read as it is
      } finally {
        clearTimeout(linger);
      }
    }
    await printer.flush();
  }

  stop(options?: StopOptions): Promise<JobStatus> {
    return this.client.stopJob(this.id, options);
  }

  events(): AsyncIterable<JobEvent> {
    return untilTerminal(this.client.events(this.id));
  }

  async release(): Promise<void> {
    if (!this.keepServices) return;
    const status = await this.client.getJob(this.id);
    if (status.services > 0) await this.client.stopJob(this.id);
  }
}

// The server's stream of a job lasts as long as its process: it ends with the terminal state the
// server sends once the process is gone (its cleanup done). A process that keeps services for the
// client stays, and sends their metrics: the handle's events end with the job's own end then.
// Not a generator: a return() while a next() waits must close the stream at once, not queue.
function untilTerminal(events: AsyncIterable<JobEvent>): AsyncIterableIterator<JobEvent> {
  const inner = events[Symbol.asyncIterator]();
  let ended = false;
  const end = async (): Promise<IteratorResult<JobEvent>> => {
    ended = true;
    await inner.return?.();
    return { value: undefined, done: true };
  };
  return {
    async next() {
      if (ended) return { value: undefined, done: true };
      const result = await inner.next();
      if (result.done) ended = true;
      else if (result.value.type === "state" && TERMINAL_STATES.has(result.value.state) && result.value.status.services > 0) await end();
      return result;
    },
    return: end,
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

// The token of a JobManager on this machine, when none was given.
function discoverToken(host: string): string | undefined {
  if (process.env.SAGE_TOKEN) return process.env.SAGE_TOKEN;
  const local = host === "localhost" || (isIP(host) !== 0 && (host.startsWith("127.") || host === "::1"));
  return local ? readToken(defaultDataDir()) : undefined;
}
