import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { availableParallelism, hostname } from "node:os";
import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import { messageOf } from "../api/errors.js";
import { parseLogFormat, type LogFormat } from "../api/log-format.js";
import { connectCluster, redactUrl, type ClusterAddress } from "./connect.js";
import { defaultHostEntry, JobHostProcess, type HostExit, type OutputSink } from "./job-host-process.js";
import { deleteJobStream } from "./job-stream.js";
import type { DriverReport, WorkerReply, WorkerRequest } from "./protocol.js";
import { OutputForwarder } from "./output-forwarder.js";
import { subjects } from "./subjects.js";
import { DEFAULT_BEAT_MS, DEFAULT_LEASE_MS, registerWorker, type WorkerNameTakenError, type WorkerRegistration } from "./worker-registry.js";
import { parseWorkerRequest } from "./worker-request.js";
import { WorkerLog, type JobRef, type SayLevel } from "./worker-log.js";

/** Settings of a worker. */
export interface WorkerOptions {
  cluster: ClusterAddress;
  /** Unique in the cluster (default `<hostname>-<pid>`). */
  name?: string;
  /** Instances it takes at once (default os.availableParallelism()). */
  slots?: number;
  /** Registry heartbeat interval (default 1000 ms). */
  beatMs?: number;
  /** Counted dead after this long without a heartbeat (default 5000 ms). */
  leaseMs?: number;
  /** The job host script (default job-host.ts/.js next to this module). */
  hostEntry?: string;
  /** How long a host asked to end may take before its whole tree is killed (default 2000 ms). */
  stopGraceMs?: number;
  /** Where the worker's lines and its hosts' lines go (default this process's stdout and stderr). */
  output?: OutputSink;
  /** How long the first connection may take (default 5000 ms). */
  connectTimeoutMs?: number;
  /** `json`: every line written to `output` is one JSON object (default `text`). */
  logFormat?: LogFormat;
}

/** How a worker left: stopped, or its name was taken while it was cut off from the cluster. */
export type WorkerLeave = { reason: "stopped" } | { reason: "lost"; error: Error };

/** A job host this worker runs. */
export interface HostedJob {
  jobId: string;
  pid: number;
  slots: number;
}

/**
 * A cluster worker: registered in the registry with heartbeats, it starts and ends job host
 * processes when drivers ask (request/reply on subjects.workerControl(name)), at most `slots`
 * instances at once, and ends the host of any job whose driver stopped beating.
 *
 * @example
 * const worker = new Worker({ cluster: { url: "nats://10.0.0.5:4222" } });
 * await worker.start();
 * process.once("SIGTERM", () => void worker.stop());
 */
export class Worker {
  readonly name: string;
  readonly slots: number;
  /** New on every start of a worker: a restarted worker is a new member. */
  readonly id = randomUUID();
  /** Resolves when the worker has left (every host ended, entry deleted, connection closed). */
  readonly left: Promise<WorkerLeave>;
  readonly #options: WorkerOptions;
  readonly #log: WorkerLog;
  readonly #leaseMs: number;
  readonly #graceMs: number;
  readonly #jobs = new Map<string, Job>();
  /** Output reports forwarded to each job's driver (see #forwardOutput). */
  readonly #outputsSent = new Map<string, number>();
  #nc: NatsConnection | undefined;
  #registration: WorkerRegistration | undefined;
  #control: Subscription | undefined;
  #leaseTimer: NodeJS.Timeout | undefined;
  /** Drivers' beats cannot arrive while the broker is away: their leases wait meanwhile. */
  #connected = true;
  #stopping: Promise<void> | undefined;
  #resolveLeft!: (leave: WorkerLeave) => void;

  constructor(options: WorkerOptions) {
    this.#options = options;
    this.name = options.name ?? `${hostname()}-${process.pid}`;
    this.slots = options.slots ?? availableParallelism();
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.#graceMs = options.stopGraceMs ?? 2000;
    this.#log = new WorkerLog(parseLogFormat(options.logFormat ?? "text"), options.output ?? writeToProcess, this.name);
    if (!(Number.isInteger(this.slots) && this.slots >= 1)) throw new Error(`a worker's slots must be a whole number of at least 1, got ${this.slots}`);
    if (this.name.trim() === "") throw new Error("a worker's name must not be empty");
    this.left = new Promise((resolve) => (this.#resolveLeft = resolve));
  }

  /** The cluster's URL as it may be shown (no password or token). */
  get url(): string {
    return redactUrl(this.#options.cluster.url);
  }

  /** Slots taken by the hosts running now. */
  get used(): number {
    let used = 0;
    for (const job of this.#jobs.values()) used += job.slots;
    return used;
  }

  /** The job hosts running now. */
  hosts(): HostedJob[] {
    return [...this.#jobs.values()].filter((job) => job.host).map((job) => ({ jobId: job.id, pid: job.host!.pid, slots: job.slots }));
  }

  /**
   * Connects, claims the name in the registry and starts answering drivers. Rejects with a clear
   * error when the cluster cannot be reached or the name is held by a live worker.
   */
  async start(): Promise<void> {
    const nc = await connectCluster(this.#options.cluster, { name: `sage-worker ${this.name}`, timeoutMs: this.#options.connectTimeoutMs });
    this.#nc = nc;
    // Listening before the entry exists, so a driver that sees the entry can ask at once; what comes
    // before the name is ours waits (it may be for a live namesake, which answers it then).
    let early: Msg[] | undefined = [];
    this.#control = nc.subscribe(subjects.workerControl(this.name), {
      callback: (error, msg) => {
        if (error) return;
        if (early) early.push(msg);
        else void this.#answer(msg);
      },
    });
    try {
      await nc.flush();
      this.#registration = await registerWorker(nc, {
        name: this.name,
        id: this.id,
        slots: this.slots,
        hostname: hostname(),
        pid: process.pid,
        version: packageVersion(),
        beatMs: this.#options.beatMs ?? DEFAULT_BEAT_MS,
        leaseMs: this.#leaseMs,
        load: () => ({ used: this.used, jobs: [...this.#jobs.keys()] }),
        onLost: (error) => this.#lost(error),
      });
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw error;
    }
    for (const msg of early) void this.#answer(msg);
    early = undefined;
    this.#leaseTimer = setInterval(() => this.#checkDriverLeases(), LEASE_CHECK_MS);
    void this.#watchConnection(nc);
  }

  /** Writes one line of the worker's own, as text or, when it logs JSON, as a JSON object. */
  log(message: string, level: SayLevel = "info"): void {
    this.#log.say(message, level);
  }

  /** Stops answering, ends every host's process tree, deletes its registry entry and disconnects. */
  stop(): Promise<void> {
    this.#stopping ??= this.#leave({ reason: "stopped" });
    return this.#stopping;
  }

  async #leave(leave: WorkerLeave): Promise<void> {
    this.#control?.unsubscribe();
    clearInterval(this.#leaseTimer);
    await Promise.all([...this.#jobs.values()].map((job) => this.#endJob(job, "the worker is leaving")));
    await this.#registration?.leave();
    await this.#nc?.close().catch(() => undefined);
    this.#resolveLeft(leave);
  }

  #lost(error: WorkerNameTakenError): void {
    this.#say(`${this.name} leaves: while it was cut off from the cluster, its name was taken (${error.message})`, "error");
    this.#stopping ??= this.#leave({ reason: "lost", error });
  }

  async #answer(msg: Msg): Promise<void> {
    let reply: WorkerReply;
    try {
      const parsed = parseWorkerRequest(msg.string());
      reply = parsed.ok ? await this.#handle(parsed.request) : { ok: false, error: parsed.error };
    } catch (error) {
      reply = { ok: false, error: messageOf(error) };
    }
    msg.respond(JSON.stringify(reply));
  }

  async #handle(request: WorkerRequest): Promise<WorkerReply> {
    if (request.type === "stop-host") {
      const job = this.#jobs.get(request.jobId);
      if (job) await this.#endJob(job, "the driver asked");
      // The host's last lines went out before its end resolved: the driver reads this many in all.
      const outputs = this.#outputsSent.get(request.jobId) ?? 0;
      this.#outputsSent.delete(request.jobId);
      return { ok: true, outputs };
    }
    if (this.#stopping) return { ok: false, error: `worker ${this.name} is leaving the cluster` };
    const existing = this.#jobs.get(request.jobId);
    if (existing?.ending) return { ok: false, error: `worker ${this.name} is ending the host of job ${request.jobId}` };
    const free = this.slots - this.used;
    if (request.slots > free) {
      return { ok: false, error: `worker ${this.name} has ${free} of its ${this.slots} slots free: job ${request.jobId} asked for ${request.slots}` };
    }
    if (existing) {
      existing.slots += request.slots;
      this.#registration?.refresh();
      await existing.started;
      return existing.host ? { ok: true } : { ok: false, error: existing.startError ?? "the job host did not start" };
    }
    const job = this.#startJob(request);
    await job.started;
    return job.host ? { ok: true } : { ok: false, error: job.startError ?? "the job host did not start" };
  }

  #startJob(request: Extract<WorkerRequest, { type: "start-host" }>): Job {
    const { jobId } = request;
    // The host's log format is this worker's, whatever the driver's request says.
    const options = { ...request.host, jobId, worker: this.name, logFormat: this.#log.json ? ("json" as const) : undefined };
    const job: Job = { id: jobId, name: request.host.pipelineName, slots: request.slots, leaseMs: options.leaseMs, lastBeat: Date.now(), ending: undefined, started: Promise.resolve() };
    this.#jobs.set(jobId, job);
    job.beats = this.#nc!.subscribe(subjects.beat(jobId), {
      callback: () => {
        job.lastBeat = Date.now();
      },
    });
    const prefix = `[job ${jobId}] `;
    const forward = new OutputForwarder((report) => this.#forwardOutput(jobId, report), this.name, prefix);
    const write = this.#log.hostOutput(job, prefix);
    const output: OutputSink = (line, stream) => forward.line(write(line, stream), stream);
    const spec = { entry: this.#options.hostEntry ?? defaultHostEntry(), options, cluster: this.#options.cluster, output, outputEnded: () => forward.finish() };
    job.started = JobHostProcess.spawn(spec).then(
      (host) => {
        job.host = host;
        this.#say(`job ${jobId}: host started (pid ${host.pid}, ${job.slots} slot(s))`, "info", job);
        void host.exited.then((exit) => this.#hostExited(job, exit));
      },
      (error: unknown) => {
        job.startError = messageOf(error);
        this.#forget(job);
      },
    );
    this.#registration?.refresh();
    return job;
  }

  #hostExited(job: Job, exit: HostExit): void {
    const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
    const left = exit.leftovers > 0 ? `; ended ${exit.leftovers} process(es) it left running` : "";
    this.#say(`job ${job.id}: host exited (${how})${left}`, "info", job);
    if (!job.ending && this.#leaseLapsed(job, Date.now())) {
      // The host saw the driver's lease run out before this worker did: the same end.
      this.#driverGone(job, Date.now() - job.lastBeat);
    } else if (!job.ending && exit.code !== 0) {
      // A host that crashed cannot say so itself: the driver hears it now rather than at its lease.
      this.#tellDriver(job, `the job host process on worker ${this.name} exited (${how})`);
    }
    this.#forget(job);
  }

  #tellDriver(job: Job, error: string): void {
    const report: DriverReport = { type: "host-failed", worker: this.name, error };
    this.#publish(subjects.driver(job.id), JSON.stringify(report));
  }

  #leaseLapsed(job: Job, now: number): boolean {
    return this.#connected && now - job.lastBeat > job.leaseMs;
  }

  /**
   * The job's driver stopped beating. A driver that is in fact alive (cut off longer than its
   * lease) hears that its job lost this host, rather than waiting for it for ever. Nobody else
   * removes the job's stream (and its consumers) now: every worker of the job tries.
   */
  #driverGone(job: Job, silentMs: number): void {
    this.#tellDriver(job, `no heartbeat from the driver for ${silentMs} ms (its lease is ${job.leaseMs} ms): worker ${this.name} ended the job's host`);
    const nc = this.#nc;
    if (nc && !nc.isClosed()) void deleteJobStream(nc, job.id).catch((error: unknown) => this.#say(`job ${job.id}: could not remove its stream: ${messageOf(error)}`, "error", job));
  }

  #forget(job: Job): void {
    job.beats?.unsubscribe();
    if (this.#jobs.get(job.id) === job) this.#jobs.delete(job.id);
    this.#registration?.refresh();
  }

  // Ends a job's host (and its whole tree); resolves once it is gone.
  #endJob(job: Job, why: string): Promise<void> {
    job.ending ??= (async () => {
      await job.started;
      if (job.host && !job.host.ended) this.#say(`job ${job.id}: ending its host (${why})`, "info", job);
      await job.host?.end(this.#graceMs);
      this.#forget(job);
    })();
    return job.ending;
  }

  // The backstop for a driver that died: its hosts are meant to leave by themselves, but must go.
  #checkDriverLeases(): void {
    const now = Date.now();
    for (const job of this.#jobs.values()) {
      if (job.ending || !this.#leaseLapsed(job, now)) continue;
      const silentMs = now - job.lastBeat;
      void this.#endJob(job, `no heartbeat from its driver for ${silentMs} ms`);
      this.#driverGone(job, silentMs);
    }
  }

  async #watchConnection(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") {
        this.#connected = false;
        this.#say(`lost the connection to ${this.url}: reconnecting`, "warn");
      }
      if (status.type === "reconnect") {
        // The drivers' leases start again: they were cut off as long as this worker was.
        this.#connected = true;
        const now = Date.now();
        for (const job of this.#jobs.values()) job.lastBeat = now;
        this.#say(`reconnected to ${this.url}`);
        this.#registration?.refresh();
      }
    }
  }

  // A job's output goes to its driver, counted: the count outlives the host, until the driver's
  // stop-host asks for it (a driver that never does leaves it to the cap).
  #forwardOutput(jobId: string, report: DriverReport): void {
    const counts = this.#outputsSent;
    if (!counts.has(jobId) && counts.size >= OUTPUT_COUNTS_KEPT) counts.delete(counts.keys().next().value!);
    counts.set(jobId, (counts.get(jobId) ?? 0) + 1);
    this.#publish(subjects.driver(jobId), JSON.stringify(report));
  }

  #publish(subject: string, data: string): void {
    try {
      this.#nc?.publish(subject, data);
    } catch {
      // the connection is closed: nobody to tell
    }
  }

  // The worker's own lines (a text line says it is the worker's); a worker of an embedded cluster
  // keeps its driver's terminal for the jobs' output.
  #say(message: string, level: SayLevel = "info", job?: JobRef): void {
    if (process.env.SAGE_EMBEDDED_WORKER === "1") return;
    this.#log.say(this.#log.json ? message : `[worker] ${message}`, level, job);
  }
}

// --- internal ---

// How often the driver leases of the hosted jobs are checked: a job outlives its lease by this at most.
const LEASE_CHECK_MS = 100;
// Jobs whose forwarded-output count is kept for a stop-host that may still come.
const OUTPUT_COUNTS_KEPT = 1000;

interface Job {
  id: string;
  /** The driver's name for the job's pipeline. */
  name: string;
  slots: number;
  leaseMs: number;
  /** When the driver's heartbeat was last heard (the start counts as one). */
  lastBeat: number;
  started: Promise<void>;
  host?: JobHostProcess;
  startError?: string;
  beats?: Subscription;
  ending: Promise<void> | undefined;
}

function writeToProcess(line: string, stream: "out" | "err"): void {
  (stream === "out" ? process.stdout : process.stderr).write(`${line}\n`);
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}
