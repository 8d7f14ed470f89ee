import { randomUUID } from "node:crypto";
import type { BaseEnvironment } from "../api/environment.js";
import { JobTimeoutError, OperatorError, messageOf } from "../api/errors.js";
import type { RunningJob } from "../api/executor.js";
import { createLogger, defaultLogLevel, stderrLogSink, type LogSink } from "../api/logger.js";
import type { GraphEdge, JobEvent, JobState, JobStatus, Logger, Platform, StopOptions, SubmitOptions } from "../api/types.js";
import { validateStopOptions, validateWaitOptions } from "../api/validate-options.js";
import type { ExecutionGraph } from "../graph/execution-graph.js";
import { graphEdges } from "../graph/graph-edges.js";
import { EventStream } from "./event-stream.js";
import { serviceContext, type JobScope } from "./job-context.js";
import { LocalDeployment, type JobDeployment, type ServiceInstance, type TaskRunner } from "./deployment.js";
import type { OperatorCounters } from "./metrics.js";
import { MAX_LISTED_INSTANCES, OperatorSampler } from "./operator-status.js";
import { ServiceProxyCache } from "./service-proxy.js";
import { ServingHub } from "./serving/serving-hub.js";
import { holdProcess } from "./keep-alive.js";
import { delay, timerMs } from "./thenable.js";
import { TERMINAL_STATES } from "../api/job-state.js";


/** Defaults of the settings a job reads from its environment's config. */
export const JOB_DEFAULTS = {
  batchSize: 1024,
  channelCapacity: 16,
  metricsIntervalMs: 1000,
  serviceCallTimeoutMs: 30_000,
  serviceSetupTimeoutMs: 30_000,
  serviceCleanupTimeoutMs: 10_000,
  drainGraceMs: 10_000,
  abortGraceMs: 2_000,
} as const;

/** Extra knobs for embedding the controller (the job process of remote mode uses them). */
export interface JobControllerOptions extends SubmitOptions {
  platform?: Platform;
  jobId?: string;
  logSink?: LogSink;
  /** Where the job's parts run; everything in this process when omitted. */
  deployment?: JobDeployment;
}

/**
 * Runs one job in this process and implements the completion protocol: every task instance
 * reports its end (no polling); after the last one the job is `finishing`, services are cleaned
 * up in reverse registration order, and every waiter wakes on the same terminal event.
 */
export class JobController implements RunningJob {
  readonly id: string;
  readonly #env: BaseEnvironment;
  readonly #graph: ExecutionGraph;
  /** The status's edges, derived from the graph at the first status (a job nobody asks about needs none). */
  #edges: GraphEdge[] | undefined;
  readonly #operatorSampler = new OperatorSampler();
  readonly #options: JobControllerOptions;
  readonly #logger: Logger;
  readonly #logSink: LogSink;
  readonly #deployment: JobDeployment;
  readonly #hosts: ServiceInstance[] = [];
  #deploymentClosed = false;
  readonly #counters = new Map<string, OperatorCounters[]>();
  readonly #stop = new AbortController();
  readonly #abort = new AbortController();
  readonly #listeners = new Set<(event: JobEvent) => void>();
  readonly #submittedAt = new Date();
  #startedAt: Date | undefined;
  #endedAt: Date | undefined;
  #state: JobState = "created";
  #error: JobStatus["error"];
  #tasks: TaskRunner[] = [];
  #liveTasks = 0;
  /** Live task instances that are not part of a pipeline served as a service: the job's callers. */
  #liveCallers = 0;
  /** The pipelines served as services, when the job has any: they end after the callers. */
  readonly #serving: ServingHub | undefined;
  /** The setup of the service being started, while one is (an abort waits for it to clean up). */
  #settingUp: Promise<unknown> | undefined;
  /** Service instances created and not yet cleaned up. */
  readonly #liveHosts = new Set<ServiceInstance>();
  #ending: "drain" | "abort" | "fail" | undefined;
  /** Whether someone waits for the end (wait(), autostop), who then reports a failure. */
  #awaited = false;
  #metricsTimer: NodeJS.Timeout | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  /** Ends the job's hold on the process (see holdProcess): held while it runs, even if every task awaits something unref'd. */
  #releaseProcess: (() => void) | undefined;
  // Resolves with the terminal state; a status is built only for whoever asks for one.
  readonly #done: Promise<JobState>;
  /** The status wait() and stop() answer once the job ended (see #endStatus). */
  #final: JobStatus | undefined;
  #resolveDone!: (state: JobState) => void;

  constructor(env: BaseEnvironment, graph: ExecutionGraph, options: JobControllerOptions = {}) {
    this.id = options.jobId ?? randomUUID();
    this.#env = env;
    this.#graph = graph;
    this.#options = options;
    this.#logSink = options.logSink ?? stderrLogSink;
    this.#logger = createLogger(`job ${env.name}`, this.#logLevel, this.#logSink);
    this.#deployment = options.deployment ?? new LocalDeployment(this.#config("channelCapacity"));
    this.#serving = graph.serving?.length ? new ServingHub(env, graph, this.#logger) : undefined;
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  /** Sets services up, builds the tasks and starts them; resolves once running (or failed). */
  async start(): Promise<void> {
    const scope: JobScope = {
      jobId: this.id,
      logLevel: this.#logLevel,
      logSink: this.#logSink,
      signal: this.#abort.signal,
      proxies: new ServiceProxyCache(
        this.#deployment.services,
        this.#config("serviceCallTimeoutMs"),
        new Map([...this.#env.serviceFactories.values()].flatMap((f) => (f.options.callTimeoutMs ? [[f.name, f.options.callTimeoutMs] as const] : []))),
      ),
    };
    let tasks: TaskRunner[];
    try {
      await this.#startServices(scope);
      // Stopped or failed while services were starting: the abort path cleans up and ends the job.
      if (this.#ending !== undefined) return;
      tasks = this.#deployment.createTasks({
        env: this.#env,
        graph: this.#graph,
        scope,
        transport: this.#deployment.transport,
        taskEnv: { stopSignal: this.#stop.signal, abortSignal: this.#abort.signal, logger: this.#logger },
        batchSize: this.#config("batchSize"),
        counters: this.#counters,
        fail: (error) => void this.#fail(error),
        ...(this.#serving && { serving: this.#serving }),
      });
    } catch (error) {
      await this.#fail(error);
      return;
    }
    this.#startedAt = new Date();
    this.#releaseProcess = holdProcess();
    this.#liveTasks = tasks.length;
    // With no caller at all, a served pipeline serves until the job is stopped (like an unbounded source).
    this.#liveCallers = tasks.filter((task) => !task.serving).length;
    this.#tasks = tasks;
    this.#setState("running");
    tasks.forEach((task) =>
      void task.run().then(
        () => this.#taskEnded(task),
        (error) => this.#taskFailed(task, error),
      ),
    );
  }

  /** The current status. */
  async status(): Promise<JobStatus> {
    return this.snapshot();
  }

  /** The job's current state, read without building a status. */
  get state(): JobState {
    return this.#state;
  }

  /** The current status, synchronously. */
  snapshot(): JobStatus {
    const now = this.#endedAt ?? new Date();
    const live = this.#state === "running" || this.#state === "finishing";
    const listed = { left: MAX_LISTED_INSTANCES };
    return {
      id: this.id,
      name: this.#env.name,
      state: this.#state,
      autostop: this.#options.autostop === true,
      platform: this.#options.platform ?? "local",
      submittedAt: this.#submittedAt.toISOString(),
      startedAt: this.#startedAt?.toISOString(),
      endedAt: this.#endedAt?.toISOString(),
      runtimeMs: this.#startedAt ? now.getTime() - this.#startedAt.getTime() : 0,
      restartCount: this.#deployment.restarts ?? 0,
      tasks: this.#liveTasks,
      services: this.#liveHosts.size,
      isRunning: live,
      error: this.#error,
      operators: this.#graph.operators.map((op) =>
        this.#operatorSampler.sample(op, this.#counters.get(op.name) ?? [], live, listed, this.#deployment.operatorWorkers?.(op.name)),
      ),
      edges: (this.#edges ??= graphEdges(this.#graph)).map((edge) => ({ ...edge })),
      serviceDetails: this.#hosts.map((h) => {
        const metrics = h.sampleMetrics();
        const calls = h.sampleCalls?.();
        const running = h.state === "running";
        return {
          name: h.name,
          state: h.state,
          remote: h.worker !== undefined,
          calls: h.calls,
          ...(h.worker !== undefined && { worker: h.worker }),
          // A copy: a status is the caller's to change, the last values are kept for the next one.
          ...(metrics !== undefined && { metrics: { ...metrics } }),
          ...(calls && {
            errors: calls.errors,
            inFlight: running ? calls.inFlight : 0,
            queued: running ? calls.queued : 0,
            ...(calls.latency && calls.latency.count > 0 && { latency: calls.latency.summary(true) }),
          }),
        };
      }),
    };
  }

  /** Resolves at the terminal status; rejects with JobTimeoutError when `timeoutMs` expires first. */
  async wait(options: { timeoutMs?: number } = {}): Promise<JobStatus> {
    validateWaitOptions(options);
    await this.waitForState(options.timeoutMs);
    return this.#endStatus();
  }

  /** Like wait(), but resolves with the terminal state alone: an autostop submit needs no more. */
  async waitForState(timeoutMs?: number): Promise<JobState> {
    this.#awaited = true;
    if (TERMINAL_STATES.has(this.#state) || timeoutMs === undefined) return this.#done;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new JobTimeoutError(this.snapshot(), timeoutMs)), timerMs(timeoutMs));
    });
    try {
      return await Promise.race([this.#done, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stops the job: `drain` (default; turns into abort after `graceMs`) or `abort`. A job still
   * setting its services up has nothing in flight to drain: it is aborted.
   */
  async stop(options: StopOptions = {}): Promise<JobStatus> {
    validateStopOptions(options);
    // A job already finishing (cleaning up after its last record) ends as it is.
    if (TERMINAL_STATES.has(this.#state) || this.#state === "finishing" || this.#ending === "fail" || this.#ending === "abort") return this.#done.then(() => this.#endStatus());
    if (options.mode === "abort" || this.#state === "created") {
      void this.#abortJob("abort");
    } else if (this.#ending === undefined) {
      this.#ending = "drain";
      this.#logger.debug("draining: sources stop, in-flight records complete");
      this.#stop.abort();
      // Served pipelines keep answering while the callers drain; with no caller left they end now.
      if (this.#liveCallers === 0) this.#serving?.callersDone();
      const graceMs = options.graceMs ?? JOB_DEFAULTS.drainGraceMs;
      this.#graceTimer = setTimeout(() => {
        this.#logger.warn("drain did not finish within %d ms; aborting", graceMs);
        void this.#abortJob("abort");
      }, timerMs(graceMs));
    }
    return this.#done.then(() => this.#endStatus());
  }

  /** Pushed state changes and metrics; starts with the current state and ends after the terminal one. */
  events(): AsyncIterable<JobEvent> {
    const stream: EventStream<JobEvent> = new EventStream(() => this.#unsubscribe(listener));
    const listener = (event: JobEvent) => {
      stream.push(event);
      if (event.type === "state" && TERMINAL_STATES.has(event.state)) stream.close();
    };
    listener(this.#stateEvent());
    if (!TERMINAL_STATES.has(this.#state)) {
      this.#listeners.add(listener);
      this.#syncMetricsTimer();
    }
    return stream;
  }

  /** Cleans up services a `keepServices` job left running. */
  async release(): Promise<void> {
    // The one change after a job's end: its end status is taken before it, as the job ended.
    if (this.#liveHosts.size > 0 && TERMINAL_STATES.has(this.#state)) this.#endStatus();
    await this.#cleanupServices();
    await this.#closeDeployment();
  }

  get #logLevel() {
    return this.#env.config.logLevel ?? defaultLogLevel();
  }

  #config<K extends keyof typeof JOB_DEFAULTS>(key: K): number {
    const value = this.#env.config[key];
    return typeof value === "number" && value > 0 ? value : JOB_DEFAULTS[key];
  }

  async #startServices(scope: JobScope): Promise<void> {
    for (const factory of this.#env.serviceFactories.values()) {
      if (this.#ending !== undefined) return;
      const host = this.#deployment.createService(this.#serving?.factoryFor(factory) ?? factory, serviceContext(scope, factory.name));
      this.#hosts.push(host);
      this.#liveHosts.add(host);
      const setup = host.setup(factory.options.setupTimeoutMs ?? this.#config("serviceSetupTimeoutMs"));
      this.#settingUp = setup.catch(() => undefined);
      try {
        await setup;
      } finally {
        this.#settingUp = undefined;
      }
      await this.#deployment.serviceStarted(host);
    }
  }

  // Reverse registration order; each cleanup under its own timeout; errors are collected, never stop the rest.
  async #cleanupServices(): Promise<void> {
    for (const host of [...this.#liveHosts].reverse()) {
      try {
        await host.cleanup(host.factory.options.cleanupTimeoutMs ?? this.#config("serviceCleanupTimeoutMs"));
      } catch (error) {
        this.#logger.error("%s", messageOf(error));
      } finally {
        this.#liveHosts.delete(host);
      }
    }
  }

  #taskEnded(task: TaskRunner): void {
    // After an abort gave up waiting, abandoned tasks that end late are no longer counted.
    if (this.#liveTasks === 0) return;
    this.#liveTasks--;
    // The last caller ended: the served pipelines end once no request is left in any of them.
    if (!task.serving && --this.#liveCallers === 0) this.#serving?.callersDone();
    if (this.#liveTasks === 0 && (this.#ending === undefined || this.#ending === "drain")) void this.#complete();
  }

  #taskFailed(task: TaskRunner, error: unknown): void {
    if (this.#ending === "abort" || this.#ending === "fail" || TERMINAL_STATES.has(this.#state)) {
      if (this.#liveTasks > 0) this.#liveTasks--;
      this.#logger.debug("%s ended after the job was aborted: %s", task.name, messageOf(error));
      return;
    }
    void this.#fail(error);
  }

  async #complete(): Promise<void> {
    clearTimeout(this.#graceTimer);
    this.#setState("finishing");
    if (!this.#options.keepServices) await this.#cleanupServices();
    await this.#closeDeployment();
    this.#finish(this.#ending === "drain" ? "stopped" : "finished");
  }

  async #fail(error: unknown): Promise<void> {
    if (this.#ending === "fail" || TERMINAL_STATES.has(this.#state)) return;
    if (this.#ending === "abort") {
      // e.g. a call that honoured ctx.signal and rejected: the job was stopped, it did not fail.
      this.#logger.debug("error after the abort: %s", messageOf(error));
      return;
    }
    const operator = error instanceof OperatorError ? error.operator : undefined;
    const cause = error instanceof OperatorError ? error.cause : error;
    this.#error = {
      message: messageOf(cause),
      ...(operator !== undefined && { operator }),
      ...(cause instanceof Error && cause.stack !== undefined && { stack: cause.stack }),
    };
    // Whoever awaits the job (submit, wait(), sage run) reports the failure: the log says it only
    // when nobody will, so a failure is printed once.
    const level = this.#awaited || this.#state === "created" ? "debug" : "error";
    this.#logger[level]("job failed%s: %s", operator ? ` in operator '${operator}'` : "", this.#error.message);
    await this.#abortJob("fail");
  }

  // Abort: drop queued records and fire ctx.signal. From then on no stage calls a user function or
  // passes a result on (each checks the abort signal where it resumes), so calls that ignore the
  // signal are abandoned rather than waited for: the job ends as soon as every function's close()
  // ran once (under abortGraceMs) and the services are cleaned up.
  async #abortJob(reason: "abort" | "fail"): Promise<void> {
    if (this.#ending === "abort" || this.#ending === "fail") {
      if (reason === "fail") this.#ending = "fail";
      return;
    }
    if (TERMINAL_STATES.has(this.#state) || this.#state === "finishing") return;
    this.#ending = reason;
    clearTimeout(this.#graceTimer);
    // Callers waiting for a served pipeline's answer learn at once that none will come.
    this.#serving?.abort(this.#endedBecause(reason));
    this.#stop.abort();
    this.#abort.abort();
    this.#deployment.abort?.();
    await this.#deployment.transport.close();
    // A service still in setup cleans itself up once its setup settles (ServiceHost.setup).
    await this.#settingUp;
    if (this.#tasks.length > 0) {
      const grace = new AbortController();
      await Promise.race([Promise.allSettled(this.#tasks.map((task) => task.closeQuietly())), delay(this.#config("abortGraceMs"), grace.signal)]);
      grace.abort();
    }
    this.#liveTasks = 0;
    if (this.#state !== "created") this.#setState("finishing");
    await this.#cleanupServices();
    await this.#closeDeployment();
    this.#finish(this.#ending === "fail" ? "failed" : "stopped");
  }

  #endedBecause(reason: "abort" | "fail"): Error {
    if (reason === "abort") return new Error("the job was stopped");
    const where = this.#error?.operator ? ` in operator '${this.#error.operator}'` : "";
    return new Error(`the job failed${where}: ${this.#error?.message ?? "unknown error"}`);
  }

  // Kept services still need the deployment (a distributed one keeps their workers): release() closes it then.
  async #closeDeployment(): Promise<void> {
    if (this.#liveHosts.size > 0 || this.#deploymentClosed) return;
    this.#deploymentClosed = true;
    try {
      await this.#deployment.close();
    } catch (error) {
      this.#logger.warn("releasing the job's resources failed: %s", messageOf(error));
    }
  }

  #finish(state: JobState): void {
    clearTimeout(this.#graceTimer);
    this.#endedAt = new Date();
    this.#setState(state);
    // Guarded: a job nobody listened to has no timer, and the call alone compiles Node's timer code in a cold process.
    if (this.#metricsTimer !== undefined) clearInterval(this.#metricsTimer);
    this.#metricsTimer = undefined;
    this.#releaseProcess?.();
    this.#listeners.clear();
    this.#resolveDone(state);
  }

  /**
   * The status as the job ended, built at the first request and shared by every waiter. Nothing
   * it shows changes after the end but the services a keepServices job left, and release()
   * takes it before cleaning those up.
   */
  #endStatus(): JobStatus {
    return (this.#final ??= this.snapshot());
  }

  #setState(state: JobState): void {
    this.#state = state;
    this.#logger.debug("state %s", state);
    if (this.#listeners.size === 0) return;
    const event = this.#stateEvent();
    for (const listener of [...this.#listeners]) listener(event);
    this.#syncMetricsTimer();
  }

  #stateEvent(): JobEvent {
    return { type: "state", jobId: this.id, state: this.#state, at: new Date().toISOString(), status: this.snapshot() };
  }

  #unsubscribe(listener: (event: JobEvent) => void): void {
    this.#listeners.delete(listener);
    this.#syncMetricsTimer();
  }

  // Metrics are sampled only while someone listens, and the timer never keeps the process alive.
  #syncMetricsTimer(): void {
    const wanted = this.#listeners.size > 0 && this.#state === "running";
    if (wanted && !this.#metricsTimer) {
      this.#metricsTimer = setInterval(() => {
        const event: JobEvent = { type: "metrics", jobId: this.id, at: new Date().toISOString(), status: this.snapshot() };
        for (const listener of [...this.#listeners]) listener(event);
      }, this.#config("metricsIntervalMs"));
      this.#metricsTimer.unref();
    } else if (!wanted && this.#metricsTimer) {
      clearInterval(this.#metricsTimer);
      this.#metricsTimer = undefined;
    }
  }
}
