import type { HookedPipeline, JobProcessHook, JobProcessOptions, JobProcessReport, PipelineTurn } from "../api/executor.js";
import type { JobEvent, JobState, JobStatus, StopOptions } from "../api/types.js";
import type { JobProcessMessage, SupervisorMessage } from "./protocol.js";
import { TERMINAL_STATES } from "../api/job-state.js";

/** How often the status of services a finished job keeps is sent again, so their metrics stay live. */
const KEPT_SERVICES_SAMPLE_MS = 1000;

/** What a module run needs from its job process. */
export interface ModuleRunIO {
  send(message: JobProcessMessage): void;
  /** Lets the job's own output through again (the target pipeline starts). */
  unmute(): void;
  /** Resolves once everything written to stdout and stderr so far has been handed to the pipes. */
  flush(): Promise<unknown>;
  /** Keeps the process alive until it exits explicitly. */
  keepAlive(): void;
}

/**
 * One job module's run in a job process: the one job the supervisor sees, made of every pipeline
 * the module submits, one after another.
 *
 * @remarks
 * A module submitted as a whole (`sage job submit`) runs all of its pipelines here; the job is
 * `running` between them, shows the operators of every pipeline so far, and ends with the state of
 * the last pipeline once the module's code has finished. A RemoteEnvironment script submits each
 * pipeline as a job of its own (`pipelineIndex`): the module's earlier pipelines ran on the client
 * and are skipped here (their output too), and the job ends with the target pipeline, before any
 * code after its `submit()` runs. A stop ends the job with the current pipeline; nothing after it runs.
 */
export class ModuleRun implements JobProcessHook {
  readonly jobId: string;
  readonly options: JobProcessOptions;
  readonly #io: ModuleRunIO;
  #submits = 0;
  /** Final statuses of the pipelines that ended, in order. */
  readonly #ended: JobStatus[] = [];
  #current: HookedPipeline | undefined;
  #currentLive = false;
  #stopRequested: StopOptions | undefined;
  /** The job's final status, once reported: kept services' samples repeat it with their fresh metrics. */
  #final: JobStatus | undefined;
  #keptSampler: NodeJS.Timeout | undefined;
  /** Set once a release of kept services began: nothing samples them after. */
  #released = false;
  #moduleDone = false;
  readonly #moduleStartedAt = new Date().toISOString();
  /** Reports go out in order, each after the output written before it. */
  #reports: Promise<void> = Promise.resolve();
  #resolveEnded!: () => void;
  /** Resolves once the job's final state was reported and no kept service is left. */
  readonly ended = new Promise<void>((resolve) => (this.#resolveEnded = resolve));

  constructor(jobId: string, options: JobProcessOptions, io: ModuleRunIO) {
    this.jobId = jobId;
    this.options = options;
    this.#io = io;
  }

  /** Whether the module submitted any pipeline. */
  get submitted(): boolean {
    return this.#submits > 0;
  }

  /** True once the job was stopped: the module's code must not go on after its pipeline. */
  get halted(): boolean {
    return this.#stopRequested !== undefined;
  }

  /** Decides what the module's next `submit()` does. */
  beginPipeline(): PipelineTurn {
    const index = this.#submits++;
    if (this.#stopRequested || this.#final !== undefined) return { action: "stopped", index };
    if (this.#currentLive) return { action: "busy", index };
    const target = this.options.pipelineIndex;
    if (target === undefined) return { action: "run", index, target: false };
    if (index < target) return { action: "skip", index };
    if (index > target) return { action: "stopped", index };
    this.#io.unmute();
    return { action: "run", index, target: true };
  }

  /** Reports the pipeline's events from now on (called before it starts). */
  attach(job: HookedPipeline): void {
    if (!this.#current) this.#io.keepAlive();
    this.#current = job;
    this.#currentLive = true;
    void (async () => {
      for await (const event of job.events()) this.#onEvent(event);
    })();
  }

  /** The module's top-level code has finished: a whole-module job ends once its last pipeline has. */
  moduleFinished(): void {
    this.#moduleDone = true;
    const target = this.options.pipelineIndex;
    if (target !== undefined && this.#submits <= target && !this.#stopRequested) {
      this.#report({
        type: "module-error",
        message:
          `the job module made ${this.#submits} submit() call(s) on the JobManager, but the client submitted its pipeline at call ${target + 1}: ` +
          "which pipelines a script submits must not depend on the client's environment variables, arguments or files (pass values with RemoteEnvironment({ env }))",
      });
      void this.#reports.then(() => this.#resolveEnded());
      return;
    }
    if (this.#ended.length === 0 && !this.#currentLive) {
      this.#resolveEnded();
      return;
    }
    if (!this.#currentLive) this.#reportModuleEnd();
  }

  /**
   * The module's code threw: the job fails. When a pipeline failed (the module did not catch it),
   * the job ends with that failure, operator and stack included; otherwise with the module's error.
   */
  moduleFailed(): void {
    this.#moduleDone = true;
    if (this.#currentLive) this.onSupervisorMessage({ type: "stop", options: { mode: "abort" } });
    else if (this.#ended.some((status) => status.state === "failed")) this.#reportModuleEnd();
    else this.#resolveEnded();
  }

  /** Sends a report the module's copy of the package made, in order with the job's own. */
  report(message: JobProcessReport): void {
    this.#report(message);
  }

  /** Takes a supervisor's request: stop the job, or release services it kept. */
  onSupervisorMessage(message: SupervisorMessage): void {
    if (message.type === "release" || (message.type === "stop" && this.#final !== undefined)) {
      void this.#release();
      return;
    }
    if (message.type !== "stop" || this.#stopRequested) return;
    this.#stopRequested = message.options;
    if (this.#currentLive) void this.#current!.stop(message.options);
    else this.#reportFinal(this.#ended.at(-1) ?? this.#emptyStatus(), "stopped");
  }

  #onEvent(event: JobEvent): void {
    if (event.type === "log") {
      this.#report({ type: "event", event });
      return;
    }
    const terminal = event.type === "state" && TERMINAL_STATES.has(event.state);
    if (terminal) {
      this.#currentLive = false;
      this.#ended.push(event.status);
      // The job ends with this pipeline: it was the target, it was stopped, or the module is done.
      if (this.options.pipelineIndex !== undefined || this.#stopRequested) {
        this.#reportFinal(event.status);
      } else if (this.#moduleDone) {
        this.#reportModuleEnd();
      } else {
        this.#report({ type: "event", event: { type: "state", jobId: this.jobId, state: "running", at: event.at, status: this.#compose(event.status, "running") } });
      }
      return;
    }
    const state = event.type === "state" ? this.#outerState(event.state) : undefined;
    const status = this.#compose(event.status, state ?? this.#outerState(event.status.state));
    this.#report({ type: "event", event: event.type === "state" ? { ...event, state: state!, status } : { ...event, status } });
  }

  // Between and around pipelines the job runs: only the first pipeline's creation is the job's.
  #outerState(state: JobState): JobState {
    if (this.options.pipelineIndex !== undefined) return state;
    if (state === "created") return this.#ended.length === 0 ? "created" : "running";
    return state === "finishing" ? "running" : state;
  }

  // A whole module ended by itself: as under `sage run`, it failed if any of its pipelines did
  // (even one whose failure the module caught), with the first failure's error.
  #reportModuleEnd(): void {
    const last = this.#ended.at(-1)!;
    const failure = this.#ended.find((status) => status.state === "failed");
    this.#reportFinal(last, failure ? "failed" : last.state, failure?.error);
  }

  #reportFinal(last: JobStatus, state: JobState = last.state, error: JobStatus["error"] = last.error): void {
    if (this.#final) return;
    const status = (this.#final = this.#compose(last, state, error));
    this.#report({ type: "event", event: { type: "state", jobId: this.jobId, state, at: status.endedAt ?? new Date().toISOString(), status } }, true);
    void this.#reports.then(() => {
      if (!this.#keptServices()) this.#resolveEnded();
      else if (!this.#released) this.#sampleKeptServices();
    });
  }

  // The services a finished job keeps still run (and count): their metrics are sent again, as a
  // local job's status() samples them, until they are released.
  #sampleKeptServices(): void {
    this.#keptSampler = setInterval(() => {
      const job = this.#current;
      if (job) this.#report({ type: "event", event: { type: "metrics", jobId: this.jobId, at: new Date().toISOString(), status: this.#keptStatus(job.snapshot()) } });
    }, KEPT_SERVICES_SAMPLE_MS);
    this.#keptSampler.unref();
  }

  // The job's final status with the services of `fresh` (the last pipeline's, which keeps them):
  // the job's own state, error, end and runtime stay those it ended with.
  #keptStatus(fresh: JobStatus): JobStatus {
    const final = this.#final!;
    const earlier = this.#ended.slice(0, -1).flatMap((status) => status.serviceDetails ?? []);
    return { ...final, services: fresh.services, serviceDetails: [...earlier, ...(fresh.serviceDetails ?? [])] };
  }

  async #release(): Promise<void> {
    this.#released = true;
    clearInterval(this.#keptSampler);
    const job = this.#current;
    if (job) await job.release();
    const final = this.#final;
    if (final) {
      const last = job ? job.snapshot() : this.#ended.at(-1);
      if (last) {
        this.#ended[this.#ended.length - 1] = last;
        this.#report({ type: "event", event: { type: "state", jobId: this.jobId, state: final.state, at: new Date().toISOString(), status: this.#keptStatus(last) } });
      }
      void this.#reports.then(() => this.#resolveEnded());
    }
  }

  #keptServices(): boolean {
    return (this.#ended.at(-1)?.services ?? 0) > 0;
  }

  // The job's status: the current (or last) pipeline's, with the operators and services of every
  // pipeline so far. A whole module's job runs from the module's start (once a pipeline started)
  // to the report of its end, gaps between pipelines and the code after the last one included.
  #compose(latest: JobStatus, state: JobState, error: JobStatus["error"] = latest.error): JobStatus {
    const earlier = this.#ended.filter((status) => status !== latest);
    const wholeModule = this.options.pipelineIndex === undefined;
    if (!wholeModule && state === latest.state && error === latest.error) return latest;
    const terminal = TERMINAL_STATES.has(state);
    const started = earlier.some((status) => status.startedAt) || latest.startedAt !== undefined;
    const startedAt = wholeModule ? (started ? this.#moduleStartedAt : undefined) : latest.startedAt;
    const endedAt = terminal ? (wholeModule ? new Date().toISOString() : (latest.endedAt ?? new Date().toISOString())) : undefined;
    const end = endedAt ? Date.parse(endedAt) : Date.now();
    return {
      ...latest,
      state,
      startedAt,
      endedAt,
      runtimeMs: startedAt ? Math.max(0, end - Date.parse(startedAt)) : 0,
      isRunning: !terminal,
      error: terminal ? error : undefined,
      operators: [...earlier.flatMap((status) => status.operators), ...latest.operators],
      edges: [...earlier.flatMap((status) => status.edges ?? []), ...(latest.edges ?? [])],
      serviceDetails: [...earlier.flatMap((status) => status.serviceDetails ?? []), ...(latest.serviceDetails ?? [])],
    };
  }

  #emptyStatus(): JobStatus {
    const now = new Date().toISOString();
    return {
      id: this.jobId, name: "job", state: "stopped", autostop: false, platform: "remote", submittedAt: now, endedAt: now,
      runtimeMs: 0, restartCount: 0, tasks: 0, services: 0, isRunning: false, operators: [],
    };
  }

  // A terminal report waits for the output written before it, so clients see the last lines first.
  #report(message: JobProcessMessage, flushFirst = false): void {
    this.#reports = this.#reports.then(async () => {
      if (flushFirst) await this.#io.flush();
      this.#io.send(message);
    });
  }
}
