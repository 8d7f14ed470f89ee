import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { JobEvent, JobState, JobStatus, Logger, StopOptions } from "../api/types.js";
import { timerMs } from "../runtime/thenable.js";
import type { JobStore } from "./job-store.js";
import { dataPaths } from "./paths.js";
import type { JobProcessMessage, RemoteSubmitOptions, SubmitJobRequest, SupervisorMessage } from "./protocol.js";

const TIMEOUT_MARGIN_MS = 5_000;
const TERMINAL: ReadonlySet<JobState> = new Set(["finished", "stopped", "failed"]);
// The same number of lines is kept live and stored, so a job's log reads the same after it ends.
const LOG_LINES_KEPT = 5000;

/** Settings of a supervisor. */
export interface SupervisorOptions {
  dataDir: string;
  store: JobStore;
  logger: Logger;
  /** How long a stop waits for the job process before killing it (default 10 s). */
  stopGraceMs?: number;
}

interface LiveJob {
  id: string;
  name: string;
  options: RemoteSubmitOptions;
  status: JobStatus;
  /** Log lines; `logBase` is the number of the first one kept. */
  logs: string[];
  logBase: number;
  listeners: Set<(event: JobEvent) => void>;
  child: ChildProcess;
  stopRequested: boolean;
  moduleError?: { message: string; stack?: string };
  moduleDone?: { submitted: boolean };
  timers: NodeJS.Timeout[];
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

  constructor(options: SupervisorOptions) {
    this.#options = options;
    const interrupted = options.store.failInterrupted("the JobManager stopped while this job was running", new Date().toISOString());
    if (interrupted.length > 0) options.logger.warn("marked %d interrupted job(s) failed: %s", interrupted.length, interrupted.join(", "));
  }

  /** Starts a job from its bundled module; answers its first status. */
  submit(request: SubmitJobRequest): JobStatus {
    const id = randomUUID();
    const options = request.options ?? {};
    const directory = dataPaths(this.#options.dataDir).jobDir(id);
    mkdirSync(directory, { recursive: true });
    const bundle = join(directory, "job.mjs");
    writeFileSync(bundle, request.code);
    const now = new Date().toISOString();
    const status: JobStatus = {
      id,
      name: request.name ?? request.label ?? "job",
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
      name: request.name ?? request.label ?? "job",
      options,
      status,
      logs: [],
      logBase: 0,
      listeners: new Set(),
      child,
      stopRequested: false,
      timers: [],
      done: new Promise((resolve) => (resolveDone = resolve)),
      resolveDone,
    };
    this.#live.set(id, job);
    this.#wire(job);
    if (options.timeoutMs !== undefined && options.timeoutMs > 0) {
      // A safety net for a client that went away: the client's own timer (which starts later and
      // reports JobTimeoutError) fires first; this one only ends jobs nobody waits for any more.
      const limit = timerMs(options.timeoutMs + TIMEOUT_MARGIN_MS);
      job.timers.push(
        setTimeout(() => {
          this.#appendLog(job, `[jobmanager] the job's timeout of ${options.timeoutMs} ms expired: stopping it`);
          void this.stop(id, { mode: "abort" });
        }, limit),
      );
    }
    this.#save(job);
    this.#options.logger.info("job %s (%s) submitted", job.name, id);
    return status;
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
    const grace = timerMs((options.graceMs ?? this.#options.stopGraceMs ?? 10_000) + 2_000);
    job.timers.push(
      setTimeout(() => {
        if (job.child.exitCode === null && job.child.signalCode === null) {
          this.#appendLog(job, `[jobmanager] job process did not stop within ${grace} ms: killed`);
          job.child.kill("SIGKILL");
        }
      }, grace),
    );
    return job.done;
  }

  /** Stops a job if needed and forgets it. */
  async delete(id: string): Promise<void> {
    if (this.#live.has(id)) await this.stop(id, { mode: "abort", graceMs: 1000 });
    this.#options.store.delete(id);
    rmSync(dataPaths(this.#options.dataDir).jobDir(id), { recursive: true, force: true });
  }

  /** Log lines from number `since` on, and the number to ask for next. */
  logs(id: string, since = 0): { lines: string[]; next: number } | undefined {
    const job = this.#live.get(id);
    if (job) {
      const from = Math.max(0, since - job.logBase);
      return { lines: job.logs.slice(from), next: job.logBase + job.logs.length };
    }
    const record = this.#options.store.get(id);
    if (!record) return undefined;
    const base = record.logBase ?? 0;
    return { lines: record.logTail.slice(Math.max(0, since - base)), next: base + record.logTail.length };
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
      if (!TERMINAL.has(job.status.state)) job.moduleError ??= { message: "the JobManager shut down while this job was running" };
      this.#send(job, { type: "stop", options: { mode: "abort" } });
      job.timers.push(setTimeout(() => job.child.kill("SIGKILL"), 2000));
    }
    await Promise.all(jobs.map((job) => job.done));
  }

  #spawn(id: string, bundle: string, options: RemoteSubmitOptions): ChildProcess {
    // From the TypeScript sources (tests, `tsx`) the job process needs the same loader.
    const script = fileURLToPath(new URL(`./job-process.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url));
    const loader = script.endsWith(".ts") ? ["--import", "tsx"] : [];
    return spawn(process.execPath, [...loader, script], {
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      env: {
        ...process.env,
        ...options.env,
        SAGE_JOB_ID: id,
        SAGE_JOB_BUNDLE: bundle,
        SAGE_JOB_OPTIONS: JSON.stringify({ keepServices: options.keepServices, graphFingerprint: options.graphFingerprint, pipelineIndex: options.pipelineIndex }),
      },
    });
  }

  #wire(job: LiveJob): void {
    const { child } = job;
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => this.#appendLog(job, line));
    }
    child.on("message", (message: JobProcessMessage) => this.#onMessage(job, message));
    child.on("error", (error) => {
      job.moduleError ??= { message: `job process could not start: ${error.message}` };
    });
    child.on("close", (code, signal) => this.#onExit(job, code, signal));
  }

  #onMessage(job: LiveJob, message: JobProcessMessage): void {
    switch (message.type) {
      case "event": {
        const { event } = message;
        if (event.type === "state" || event.type === "metrics") {
          // The name given at submit stays from `created` on; the autostop shown is the one the module's own submit asked for.
          job.status = { ...event.status, name: job.name, submittedAt: job.status.submittedAt, platform: "remote" };
          const forwarded = { ...event, status: job.status };
          this.#publish(job, forwarded);
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
        break;
    }
  }

  #onExit(job: LiveJob, code: number | null, signal: NodeJS.Signals | null): void {
    for (const timer of job.timers) clearTimeout(timer);
    let status = job.status;
    if (status.state === "finished" && job.moduleError) {
      // The pipeline ran, but the module failed afterwards (e.g. a second submit): the job failed.
      status = { ...status, state: "failed", error: { message: `the job module failed after its pipeline finished: ${job.moduleError.message}`, ...(job.moduleError.stack && { stack: job.moduleError.stack }) } };
    } else if (!TERMINAL.has(status.state)) {
      const state: JobState = job.stopRequested && !job.moduleError ? "stopped" : "failed";
      const message = job.moduleError
        ? job.moduleError.message
        : job.moduleDone && !job.moduleDone.submitted
          ? "the job module finished without submitting a pipeline (call env.submit())"
          : `the job process exited (${signal ? `signal ${signal}` : `code ${code}`}) before the job finished`;
      status = { ...status, state, ...(state === "failed" && { error: { message, ...(job.moduleError?.stack && { stack: job.moduleError.stack }) } }) };
    }
    const endedAt = status.endedAt ?? new Date().toISOString();
    job.status = { ...status, endedAt, tasks: 0, services: 0, isRunning: false };
    this.#live.delete(job.id);
    this.#save(job);
    this.#publish(job, { type: "state", jobId: job.id, state: job.status.state, at: endedAt, status: job.status });
    job.listeners.clear();
    this.#options.logger.info("job %s (%s) ended: %s", job.name, job.id, job.status.state);
    job.resolveDone(job.status);
  }

  #appendLog(job: LiveJob, line: string): void {
    const number = job.logBase + job.logs.length;
    job.logs.push(line);
    if (job.logs.length > LOG_LINES_KEPT) {
      const dropped = job.logs.length - LOG_LINES_KEPT;
      job.logs.splice(0, dropped);
      job.logBase += dropped;
    }
    this.#publish(job, { type: "log", jobId: job.id, at: new Date().toISOString(), level: "info", message: line, line: number });
  }

  #publish(job: LiveJob, event: JobEvent): void {
    for (const listener of [...job.listeners]) listener(event);
  }

  #send(job: LiveJob, message: SupervisorMessage): void {
    if (job.child.connected) job.child.send(message);
  }

  #save(job: LiveJob): void {
    this.#options.store.save({
      id: job.id,
      name: job.name,
      state: job.status.state,
      options: job.options as Record<string, unknown>,
      status: job.status,
      logTail: job.logs,
      logBase: job.logBase,
    });
  }
}

// A job process reports metrics once a second, and not at all while a loop blocks it: the
// server keeps the runtime of a running job current itself.
function withLiveRuntime(status: JobStatus): JobStatus {
  if (status.state !== "running" || !status.startedAt) return status;
  return { ...status, runtimeMs: Math.max(status.runtimeMs, Date.now() - Date.parse(status.startedAt)) };
}
