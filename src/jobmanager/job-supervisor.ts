import { spawn, type ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { randomUUID } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { JobEvent, JobState, JobStatus, Logger, StopOptions } from "../api/types.js";
import { withFields } from "../api/log-fields.js";
import { monotonicMs } from "../runtime/monotonic-clock.js";
import { timerMs } from "../runtime/thenable.js";
import { BundleStore } from "./bundle-store.js";
import { drainOutput, readOutput } from "../cluster/child-output.js";
import type { JobHistory } from "./job-history.js";
import { DEFAULT_LOG_LIMITS, JobLog, type LogLimits } from "./job-log.js";
import type { JobStore } from "./job-store.js";
import { emptyHistory, MetricsHistory } from "./metrics-history.js";
import { dataPaths } from "./paths.js";
import { killJobTree } from "../cluster/process-tree.js";
import type { JobProcessMessage, RemoteSubmitOptions, SubmitJobRequest, SupervisorMessage } from "./protocol.js";
import { CONTROL_FD, DEFAULT_MAX_REPORT_BYTES, FrameWriter, readFrames, REPORTS_FD, type FrameProblem } from "./report-channel.js";
import { DEFAULT_RETENTION, expiredJobs, type Retention } from "./retention.js";
import { checkReport } from "./validate-report.js";
import { statusRegression } from "./status-transitions.js";
import { TERMINAL_STATES } from "../api/job-state.js";

const TIMEOUT_MARGIN_MS = 5_000;
/** How long a job process that reported its job's end may take to exit (its output flush has 5 s) before the safety net counts it stuck. */
const EXIT_DEADLINE_MS = 8_000;
// An abort asks the job to end at once: one that has not ended this long after is killed.
const ABORT_KILL_MS = 1_000;
// After the job process exited, what it wrote last is read from its pipes while it keeps coming:
// until they end, a second without data, or at most 5 s (a process that escaped may hold them).
const OUTPUT_IDLE_MS = 1_000;
const OUTPUT_DRAIN_MAX_MS = 5_000;
// Malformed or oversized reports a job gets a log line for; later ones are dropped silently.
const REPORTED_PROBLEMS = 5;
// A running job's history is written to the store every this many samples (and at its end), so a
// JobManager that dies loses at most that stretch of it.
const HISTORY_SAVE_EVERY = 15;

/** Settings of a supervisor. */
export interface SupervisorOptions {
  dataDir: string;
  store: JobStore;
  logger: Logger;
  /** How long a stop waits for the job process before killing it (default 10 s). */
  stopGraceMs?: number;
  /** What is kept of each job's log (see LogLimits for the defaults). */
  logLimits?: Partial<LogLimits>;
  /** How long ended jobs are kept (see Retention for the defaults). */
  retention?: Partial<Retention>;
  /** The largest report taken from a job process, in bytes of JSON; larger ones are skipped unread (default 4 MiB). */
  maxReportBytes?: number;
  /** Variables every job process gets, over the job's own `env` (the JobManager's cluster: SAGE_CLUSTER, SAGE_CLUSTER_CREDS). */
  jobEnv?: Readonly<Record<string, string>>;
  /** How often each job's metrics history takes a sample (default 2 s). */
  historyIntervalMs?: number;
}

interface LiveJob {
  id: string;
  name: string;
  options: RemoteSubmitOptions;
  status: JobStatus;
  log: JobLog;
  history: MetricsHistory;
  /** Samples taken since the history was last written to the store. */
  unsavedSamples: number;
  listeners: Set<(event: JobEvent) => void>;
  child: ChildProcess;
  /** Where the supervisor's messages to the job process go. */
  control: FrameWriter;
  stopRequested: boolean;
  /** Set when the server, shutting down, ended the job. */
  shutDown?: boolean;
  moduleError?: { message: string; stack?: string };
  moduleDone?: { submitted: boolean };
  /** Malformed or oversized reports seen from the job process. */
  problems: number;
  timers: NodeJS.Timeout[];
  /** When the job left `created` (monotonicMs(): a clock that does not jump): the client's own timeout starts there. */
  leftCreatedAt?: number;
  /** When the job process reported the job's end (monotonicMs()). */
  endedAtMonotonic?: number;
  done: Promise<JobStatus>;
  resolveDone(status: JobStatus): void;
}

/**
 * Runs each job in its own child process, so a job that crashes, exits or loops forever cannot
 * take the server down; keeps their live status, logs and event subscribers, and their history
 * in the store.
 */
export class JobSupervisor {
  readonly #live = new Map<string, LiveJob>();
  readonly #options: SupervisorOptions;
  readonly #logLimits: LogLimits;
  readonly #retention: Retention;
  readonly #maxReportBytes: number;
  readonly #bundles: BundleStore;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#logLimits = { ...DEFAULT_LOG_LIMITS, ...definedOnly(options.logLimits) };
    this.#retention = { ...DEFAULT_RETENTION, ...definedOnly(options.retention) };
    this.#maxReportBytes = options.maxReportBytes ?? DEFAULT_MAX_REPORT_BYTES;
    for (const [name, value] of Object.entries({ ...this.#logLimits, ...this.#retention, maxReportBytes: this.#maxReportBytes })) {
      if (!(typeof value === "number" && value >= 1 && (Number.isInteger(value) || value === Infinity))) {
        throw new Error(`the JobManager setting '${name}' must be a positive whole number, got ${String(value)}`);
      }
    }
    this.#bundles = new BundleStore(dataPaths(options.dataDir).bundles);
    const interrupted = options.store.failInterrupted("the JobManager stopped while this job was running", new Date().toISOString());
    if (interrupted.length > 0) options.logger.warn("marked %d interrupted job(s) failed: %s", interrupted.length, interrupted.join(", "));
    this.#applyRetention();
  }

  /** Starts a job from its bundled module; answers its first status. */
  submit(request: SubmitJobRequest): JobStatus {
    const id = randomUUID();
    const options = request.options ?? {};
    const directory = dataPaths(this.#options.dataDir).jobDir(id);
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const bundle = join(directory, "job.mjs");
    this.#bundles.place(request.code, bundle);
    const now = new Date().toISOString();
    const name = request.name ?? request.label ?? "job";
    const status: JobStatus = {
      id,
      name,
      state: "created",
      autostop: options.autostop === true,
      platform: "remote",
      submittedAt: now,
      runtimeMs: 0,
      restartCount: 0,
      tasks: 0,
      services: 0,
      isRunning: false,
      operators: [],
    };
    const child = this.#spawn(id, bundle, options);
    let resolveDone!: (status: JobStatus) => void;
    const job: LiveJob = {
      id,
      name,
      options,
      status,
      log: new JobLog(this.#logLimits),
      history: new MetricsHistory({ intervalMs: this.#options.historyIntervalMs }),
      unsavedSamples: 0,
      listeners: new Set(),
      child,
      control: new FrameWriter(child.stdio[CONTROL_FD] as Writable),
      stopRequested: false,
      problems: 0,
      timers: [],
      done: new Promise((resolve) => (resolveDone = resolve)),
      resolveDone,
    };
    this.#live.set(id, job);
    this.#wire(job);
    if (options.timeoutMs !== undefined && options.timeoutMs > 0) this.#armTimeout(job, options.timeoutMs, monotonicMs());
    this.#save(job);
    this.#jobLogger(job).info("job %s (%s) submitted", job.name, id);
    return status;
  }

  /**
   * A safety net for a client that went away: the client's own timer, which starts once the job
   * has left `created` and reports JobTimeoutError, must fire first, so this one ends a job only
   * `TIMEOUT_MARGIN_MS` after the client's would have, counted from the job's start (from its
   * submit while it has not started: a module that never gets to its pipeline).
   */
  #armTimeout(job: LiveJob, timeoutMs: number, from: number): void {
    job.timers.push(
      setTimeout(() => {
        // The job ended: only a process stuck on its way out is left to end (see #endStuckProcess),
        // once it has had EXIT_DEADLINE_MS from its report of the end to write its last output.
        if (TERMINAL_STATES.has(job.status.state)) {
          const left = (job.endedAtMonotonic ?? 0) + EXIT_DEADLINE_MS - monotonicMs();
          if (left > 0) return void job.timers.push(setTimeout(() => this.#endStuckProcess(job, timeoutMs), timerMs(left)));
          return this.#endStuckProcess(job, timeoutMs);
        }
        // It started after `from` (a slow job-process start-up): the client's timer started later too.
        if (job.leftCreatedAt !== undefined && job.leftCreatedAt > from) return this.#armTimeout(job, timeoutMs, job.leftCreatedAt);
        this.#appendLog(job, `[jobmanager] the job's timeout of ${timeoutMs} ms expired: stopping it`);
        void this.stop(job.id, { mode: "abort" });
      }, timerMs(Math.max(0, from + timeoutMs + TIMEOUT_MARGIN_MS - monotonicMs()))),
    );
  }

  // An ended job's process still here past its deadline, holding no services (those a job keeps
  // for its client are past its limit's reach), is stuck on its way out: a timer spinning its thread, say.
  #endStuckProcess(job: LiveJob, timeoutMs: number): void {
    if (job.status.services > 0 || job.child.exitCode !== null || job.child.signalCode !== null) return;
    this.#appendLog(job, `[jobmanager] the job ended, but its process was still running past the job's timeout of ${timeoutMs} ms: killed`);
    this.#kill(job);
  }

  /** The id a full id or unique prefix stands for; "ambiguous" when several match. */
  resolveId(idOrPrefix: string): string | "ambiguous" | undefined {
    if (this.#live.has(idOrPrefix) || this.#options.store.get(idOrPrefix)) return idOrPrefix;
    if (idOrPrefix.length < 4) return undefined;
    const matches = this.list().filter((status) => status.id.startsWith(idOrPrefix));
    return matches.length === 1 ? matches[0]!.id : matches.length > 1 ? "ambiguous" : undefined;
  }

  /** A job's current status. */
  status(id: string): JobStatus | undefined {
    const live = this.#live.get(id);
    return live ? withLiveRuntime(live.status) : this.#options.store.get(id)?.status;
  }

  /** Every job, oldest first. */
  list(): JobStatus[] {
    return this.#options.store.list().map((record) => {
      const live = this.#live.get(record.id);
      return live ? withLiveRuntime(live.status) : record.status;
    });
  }

  /** The job processes alive now. */
  processes(): Array<{ id: string; pid: number | undefined }> {
    return [...this.#live.values()].map((job) => ({ id: job.id, pid: job.child.pid }));
  }

  /** Counts by state. */
  counts(): Record<JobState, number> {
    const counts: Record<JobState, number> = { created: 0, running: 0, finishing: 0, finished: 0, stopped: 0, failed: 0 };
    for (const status of this.list()) counts[status.state]++;
    return counts;
  }

  /** Stops a job (drain by default; killed after the grace period); resolves with its final status. */
  async stop(id: string, options: StopOptions = {}): Promise<JobStatus | undefined> {
    const job = this.#live.get(id);
    if (!job) return this.status(id);
    job.stopRequested = true;
    this.#send(job, { type: "stop", options });
    // An abort is killed when it has not ended the job soon; a drain gets its grace, then 2 s
    // for the abort it turns into.
    const grace = timerMs(options.mode === "abort" ? (options.graceMs ?? ABORT_KILL_MS) : (options.graceMs ?? this.#options.stopGraceMs ?? 10_000) + 2_000);
    job.timers.push(
      setTimeout(() => {
        if (job.child.exitCode === null && job.child.signalCode === null) {
          this.#appendLog(job, `[jobmanager] job process did not stop within ${grace} ms: killed`);
          this.#kill(job);
        }
      }, grace),
    );
    return job.done;
  }

  /** Stops a job if needed and forgets it. */
  async delete(id: string): Promise<void> {
    if (this.#live.has(id)) await this.stop(id, { mode: "abort", graceMs: 1000 });
    this.#remove(id);
    this.#bundles.collect();
  }

  // Forgets an ended job: its record, its directory (log, bundle link). Bundles are collected after.
  #remove(id: string): void {
    this.#options.store.delete(id);
    rmSync(dataPaths(this.#options.dataDir).jobDir(id), { recursive: true, force: true });
  }

  // Removes the ended jobs the retention policy no longer keeps, and the bundles no job uses.
  #applyRetention(): void {
    const expired = expiredJobs(this.#options.store.list().map((record) => record.status), this.#retention, Date.now(), (id) => this.#live.has(id));
    for (const id of expired) this.#remove(id);
    if (expired.length > 0) this.#options.logger.info("removed %d ended job(s) past the retention policy", expired.length);
    this.#bundles.collect();
  }

  /** Log lines from number `since` on, and the number to ask for next. */
  logs(id: string, since = 0): { lines: string[]; next: number } | undefined {
    const job = this.#live.get(id);
    if (job) {
      const from = Math.max(0, since - job.log.base);
      return { lines: job.log.lines.slice(from), next: job.log.next };
    }
    const record = this.#options.store.get(id);
    if (!record) return undefined;
    const base = record.logBase ?? 0;
    return { lines: record.logTail.slice(Math.max(0, since - base)), next: base + record.logTail.length };
  }

  /** A job's metrics history: sampled live while it runs, kept in the store after. */
  history(id: string): JobHistory | undefined {
    const live = this.#live.get(id);
    if (live) return live.history.toJSON();
    if (!this.#options.store.get(id)) return undefined;
    return this.#options.store.history(id) ?? emptyHistory(this.#options.historyIntervalMs);
  }

  /** Whether the job's process is still running. */
  isLive(id: string): boolean {
    return this.#live.has(id);
  }

  /** Subscribes to a live job's events; undefined when the job is no longer live. */
  subscribe(id: string, listener: (event: JobEvent) => void): (() => void) | undefined {
    const job = this.#live.get(id);
    if (!job) return undefined;
    job.listeners.add(listener);
    return () => job.listeners.delete(listener);
  }

  /** Ends every live job (the server is going down) and waits for their processes. */
  async shutdown(): Promise<void> {
    const jobs = [...this.#live.values()];
    for (const job of jobs) {
      // A job that already ended (its process is only exiting, or holds kept services) stays as it ended.
      if (!TERMINAL_STATES.has(job.status.state)) {
        job.moduleError ??= { message: SHUTDOWN_REASON };
        job.shutDown = true;
      }
      this.#send(job, { type: "stop", options: { mode: "abort" } });
      job.timers.push(setTimeout(() => this.#kill(job), 2000));
    }
    await Promise.all(jobs.map((job) => job.done));
  }

  #spawn(id: string, bundle: string, options: RemoteSubmitOptions): ChildProcess {
    // From the TypeScript sources (tests, `tsx`) the job process needs the same loader.
    const script = fileURLToPath(new URL(`../jobmanager/job-process.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url));
    const loader = script.endsWith(".ts") ? ["--import", "tsx"] : [];
    return spawn(process.execPath, [...loader, script], {
      // No "ipc": Node's channel buffers a message of any size. Reports come framed on a pipe of
      // their own (REPORTS_FD), the supervisor's messages on another (CONTROL_FD).
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
      // A session and process group of its own: what the job starts can be found and ended with it.
      detached: true,
      env: {
        ...inheritedEnv(),
        ...options.env,
        ...this.#options.jobEnv,
        SAGE_JOB_ID: id,
        SAGE_JOB_BUNDLE: bundle,
        SAGE_JOB_OPTIONS: JSON.stringify({ keepServices: options.keepServices, graphFingerprint: options.graphFingerprint, pipelineIndex: options.pipelineIndex, pipelineName: options.pipelineName }),
      },
    });
  }

  #wire(job: LiveJob): void {
    const { child } = job;
    readOutput(child, this.#logLimits.maxLineBytes, (line) => this.#appendLog(job, line));
    const reports = child.stdio[REPORTS_FD] as Readable | null;
    if (reports) {
      const onProblem = (problem: string) => this.#ignored(job, problem);
      readFrames(
        reports,
        this.#maxReportBytes,
        (raw) => {
          const checked = checkReport(raw, job.id, this.#logLimits.maxLineBytes);
          if (checked.ok) this.#onMessage(job, checked.message);
          else onProblem(`a malformed report from the job process: ${checked.problem}`);
        },
        (problem) => onProblem(describeProblem(problem)),
      );
    }
    child.on("error", (error) => {
      job.moduleError ??= { message: `job process could not start: ${error.message}` };
      if (child.pid === undefined) this.#onExit(job, null, null); // never started: no exit event comes
    });
    // The job ends when its process does, not when its pipes close: a process it started may hold them.
    child.on("exit", (code, signal) => {
      const ended = this.#endProcesses(job);
      (child.stdio[CONTROL_FD] as Writable | null)?.destroy();
      void drainOutput([child.stdout, child.stderr, reports], OUTPUT_IDLE_MS, OUTPUT_DRAIN_MAX_MS).then(() => {
        if (ended > 0) this.#appendLog(job, `[jobmanager] ended ${ended} process(es) the job left running`);
        this.#onExit(job, code, signal);
      });
    });
  }

  // Kills the job process and everything it started (a stop's grace ran out, or it must not go on).
  #kill(job: LiveJob): void {
    const { child } = job;
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return; // see #endProcesses
    killJobTree(child.pid, job.id);
  }

  // After the job process exited: ends what it left behind; answers how many.
  #endProcesses(job: LiveJob): number {
    return job.child.pid === undefined ? 0 : killJobTree(job.child.pid, job.id, false);
  }

  #onMessage(job: LiveJob, message: JobProcessMessage): void {
    switch (message.type) {
      case "event": {
        const { event } = message;
        if (event.type === "state" || event.type === "metrics") {
          // A job's state only moves forward, and a terminal one is final (a later report may only
          // tell that kept services were released): a job cannot take back its end.
          const problem = statusRegression(job.status, event.status);
          if (problem) {
            this.#ignored(job, `a report from the job process: ${problem}`);
            break;
          }
          const wasTerminal = TERMINAL_STATES.has(job.status.state);
          if (!wasTerminal && TERMINAL_STATES.has(event.status.state)) job.endedAtMonotonic = monotonicMs();
          // The name given at submit stays from `created` on; the autostop shown is the one the module's own submit asked for.
          // The runtime cannot exceed the time since the server took the job.
          const runtimeMs = Math.min(event.status.runtimeMs, Date.now() - Date.parse(job.status.submittedAt));
          if (job.leftCreatedAt === undefined && event.status.state !== "created") job.leftCreatedAt = monotonicMs();
          // The platform is "remote" or, with parts on a cluster, "distributed" (checkReport allows no other).
          job.status = { ...event.status, runtimeMs, name: job.name, submittedAt: job.status.submittedAt };
          const forwarded = { ...event, status: job.status };
          this.#publish(job, forwarded);
          // Once ended, the history holds the job's run: samples of the services it keeps would
          // only thin out that run's points as the history merges them.
          if (!wasTerminal) this.#sample(job, event.type === "state" && TERMINAL_STATES.has(event.state));
          if (event.type === "state") this.#save(job);
        } else {
          this.#publish(job, event);
        }
        break;
      }
      case "module-error":
        job.moduleError ??= { message: message.message, stack: message.stack };
        break;
      case "module-done":
        job.moduleDone = { submitted: message.submitted };
        // Nothing will ever run: a timer or socket the module left open must not keep the job waiting.
        if (!message.submitted && job.status.state === "created") this.#kill(job);
        break;
    }
  }

  #onExit(job: LiveJob, code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.#live.has(job.id)) return;
    for (const timer of job.timers) clearTimeout(timer);
    if (job.problems > REPORTED_PROBLEMS) this.#appendLog(job, `[jobmanager] ${job.problems - REPORTED_PROBLEMS} more report(s) from the job process were ignored`);
    let status = job.status;
    if (job.shutDown && status.state === "stopped") {
      // The job ended because the server asked it to on its way down: it did not stop by request.
      status = { ...status, state: "failed", error: { message: SHUTDOWN_REASON } };
    } else if (!TERMINAL_STATES.has(status.state)) {
      const state: JobState = job.stopRequested && !job.moduleError ? "stopped" : "failed";
      const message = job.moduleError
        ? job.moduleError.message
        : job.moduleDone && !job.moduleDone.submitted
          ? "the job module finished without submitting a pipeline (call env.submit())"
          : `the job process exited (${signal ? `signal ${signal}` : `code ${code}`}) before the job finished`;
      status = { ...status, state, ...(state === "failed" && { error: { message, ...(job.moduleError?.stack && { stack: job.moduleError.stack }) } }) };
    }
    const endedAt = status.endedAt ?? new Date().toISOString();
    job.status = { ...status, endedAt, runtimeMs: ranFor(status, endedAt), tasks: 0, services: 0, isRunning: false };
    this.#live.delete(job.id);
    this.#sample(job, true);
    this.#saveHistory(job);
    this.#save(job);
    this.#publish(job, { type: "state", jobId: job.id, state: job.status.state, at: endedAt, status: job.status });
    job.listeners.clear();
    this.#jobLogger(job).info("job %s (%s) ended: %s", job.name, job.id, job.status.state);
    job.resolveDone(job.status);
    this.#applyRetention();
  }

  // A report the job's log notes as ignored: the first few each get a line, the rest a count at the end.
  #ignored(job: LiveJob, what: string): void {
    if (++job.problems <= REPORTED_PROBLEMS) this.#appendLog(job, `[jobmanager] ignored ${what}`);
  }

  #appendLog(job: LiveJob, line: string): void {
    const number = job.log.append(line);
    this.#publish(job, { type: "log", jobId: job.id, at: new Date().toISOString(), level: "info", message: line, line: number });
  }

  // Takes a history sample of the job's status when one is due (`final`: the job's end, sooner).
  #sample(job: LiveJob, final: boolean): void {
    if (!job.history.sample(job.status, Date.now(), { final })) return;
    if (++job.unsavedSamples >= HISTORY_SAVE_EVERY) this.#saveHistory(job);
  }

  #saveHistory(job: LiveJob): void {
    job.unsavedSamples = 0;
    this.#options.store.saveHistory(job.id, job.history.toJSON());
  }

  // The server's logger for lines about `job`: a JSON line carries its id and name as fields.
  #jobLogger(job: LiveJob): Logger {
    return withFields(this.#options.logger, { job: job.id, job_name: job.name });
  }

  #publish(job: LiveJob, event: JobEvent): void {
    for (const listener of [...job.listeners]) listener(event);
  }

  #send(job: LiveJob, message: SupervisorMessage): void {
    job.control.write(message);
  }

  #save(job: LiveJob): void {
    this.#options.store.save({
      id: job.id,
      name: job.name,
      state: job.status.state,
      options: job.options as Record<string, unknown>,
      status: job.status,
      logTail: job.log.lines,
      logBase: job.log.base,
    });
  }
}

// A job killed while its loop was blocked last reported the runtime it had then: the final
// runtime is the time it really ran, on the server's clock.
function ranFor(status: JobStatus, endedAt: string): number {
  if (!status.startedAt) return status.runtimeMs;
  // The start is the job's word: no earlier than the server's submit.
  const started = Math.max(Date.parse(status.startedAt), Date.parse(status.submittedAt));
  return Math.max(status.runtimeMs, Date.parse(endedAt) - started);
}

function describeProblem(problem: FrameProblem): string {
  return problem.kind === "oversized" ? `a report of ${problem.bytes} bytes (limit ${problem.limit})` : `a malformed report from the job process: ${problem.reason}`;
}

function definedOnly<T extends object>(values: Partial<T> | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(values ?? {}).filter(([, value]) => value !== undefined)) as Partial<T>;
}

// The server's environment for a job process, without the cluster it may have been started near:
// a job's cluster is the JobManager's (jobEnv) or the one the job asks for, never a stray one.
function inheritedEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.SAGE_CLUSTER;
  delete env.SAGE_CLUSTER_CREDS;
  return env;
}

const SHUTDOWN_REASON = "the JobManager shut down while this job was running";

// A job process reports metrics once a second, and not at all while a loop blocks it: the
// server keeps the runtime of a running job current itself.
function withLiveRuntime(status: JobStatus): JobStatus {
  if (status.state !== "running" || !status.startedAt) return status;
  return { ...status, runtimeMs: Math.max(status.runtimeMs, Date.now() - Date.parse(status.startedAt)) };
}
