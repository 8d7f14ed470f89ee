import type { NatsConnection, QueuedIterator, Status, Subscription } from "@nats-io/nats-core";
import type { BaseEnvironment } from "../api/environment.js";
import { messageOf } from "../api/errors.js";
import type { ServiceFactory } from "../api/service.js";
import type { Logger, ServiceContext } from "../api/types.js";
import type { ExecutionGraph, TaskSpec } from "../graph/execution-graph.js";
import { buildTasks, type BuildContext } from "../runtime/build-task.js";
import type { JobDeployment, ServiceInstance, TaskRunner } from "../runtime/deployment.js";
import { LocalServiceTransport } from "../runtime/local-service-transport.js";
import { newCounters, type OperatorCounters } from "../runtime/metrics.js";
import { LatencyHistogram } from "../runtime/latency-histogram.js";
import { ReportedClock } from "../runtime/task-clock.js";
import { ServiceHost } from "../runtime/service-host.js";
import { cleanMetrics } from "../runtime/service-metrics.js";
import { NatsServiceTransport } from "./nats-service-transport.js";
import { deleteJobStream, ensureJobStream } from "./job-stream.js";
import { NatsTransport } from "./nats-transport.js";
import { describePlacement, placeInstances } from "./placement.js";
import { outageLimitMs, type DriverReport, type HostReply, type HostRequest, type JobHostOptions, type Placement, type WorkerEntry, type WorkerReply, type WorkerRequest } from "./protocol.js";
import { remoteError, RemoteService, RemoteTask, type RemotePartHost } from "./remote-parts.js";
import { ServiceEndpoint } from "./service-endpoint.js";
import { subjects } from "./subjects.js";

/** What a distributed job's deployment is made from. */
export interface ClusterDeploymentOptions {
  nc: NatsConnection;
  jobId: string;
  env: BaseEnvironment;
  graph: ExecutionGraph;
  /** How the job hosts are started (all but the worker's name). */
  host: Omit<JobHostOptions, "worker">;
  capacity: number;
  logger: Logger;
  /** The cluster's live workers now. */
  workers(): Promise<WorkerEntry[]>;
  /** How long a job host may take to start (fetch the bundle, load the module). */
  hostStartTimeoutMs?: number;
  /** Runs last in close(): releases the connection (and an embedded cluster). */
  release?(): Promise<void>;
}

/** A job's host process on one worker, as the driver knows it. */
interface HostState {
  worker: string;
  /** The registry id of the worker process when the host was started: another id is a restarted worker. */
  workerId: string;
  /** The worker's lease, as its registry entry said. */
  leaseMs: number;
  ready: Promise<void>;
  settleReady: { resolve(): void; reject(error: Error): void };
  live: boolean;
}

const REQUEST_TIMEOUT_MS = 10_000;
// A worker answers stop-host once its host is gone: above its grace for the host's end (2 s) and
// its read of what the host printed last (1 s).
const STOP_HOST_TIMEOUT_MS = 5_000;
// How long the end waits for the output a worker said it forwarded (on its way through the broker).
const OUTPUT_READ_WAIT_MS = 2_000;

/** True for tasks inside a feedback loop: their in-flight counting needs one process, so they stay in the driver. */
function inLoop(graph: ExecutionGraph, task: TaskSpec): boolean {
  return graph.loops.some((loop) => loop.tasks.includes(task.id));
}

/**
 * Distributed mode: sources and local operators run here (the driver), `remote: true` operator
 * instances and services on workers' job hosts; batches move over NATS JetStream, service calls
 * over request/reply. Workers are watched through their registry entries: the parts of one that
 * goes silent are placed again on live workers (tasks re-read their unacknowledged input).
 */
export class ClusterDeployment implements JobDeployment, RemotePartHost {
  readonly transport: NatsTransport;
  readonly services: NatsServiceTransport;
  restarts = 0;
  readonly #options: ClusterDeploymentOptions;
  readonly #nc: NatsConnection;
  readonly #jobId: string;
  readonly #hosts = new Map<string, HostState>();
  readonly #tasks: RemoteTask[];
  readonly #remoteServices = new Map<string, RemoteService>();
  readonly #endpoints: ServiceEndpoint[] = [];
  readonly #local: LocalServiceTransport;
  readonly #reports: Subscription;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #serviceCallBase = new Map<string, number>();
  /** Output reports read, by worker; and who waits for a number of them (the job's end). */
  readonly #outputsRead = new Map<string, number>();
  readonly #outputWaits = new Set<{ worker: string; count: number; done: () => void }>();
  #fail: ((error: unknown) => void) | undefined;
  #pendingFailure: Error | undefined;
  #closed = false;
  #aborted = false;
  #connected = true;
  #outages = 0;
  #reconnectedAt = 0;
  #disconnectedAt = 0;
  #statuses: { stop(): void } | undefined;

  private constructor(options: ClusterDeploymentOptions, transport: NatsTransport, services: NatsServiceTransport, local: LocalServiceTransport, reports: Subscription, tasks: RemoteTask[]) {
    this.#options = options;
    this.#nc = options.nc;
    this.#jobId = options.jobId;
    this.transport = transport;
    this.services = services;
    this.#local = local;
    this.#reports = reports;
    this.#tasks = tasks;
  }

  /** Places the job's remote parts on the cluster's workers and starts their job hosts. */
  static async create(options: ClusterDeploymentOptions): Promise<ClusterDeployment> {
    const { nc, jobId, graph, env } = options;
    const remoteTasks = graph.tasks.filter((t) => t.remote && !inLoop(graph, t));
    for (const task of graph.tasks) {
      if (task.remote && inLoop(graph, task)) options.logger.info("%s is part of a feedback loop: it runs in the driver, not on a worker", task.name);
    }
    const remoteFactories = [...env.serviceFactories.values()].filter((f) => f.remote);
    const instances: Placement[] = [
      ...remoteFactories.map((f): Placement => ({ kind: "service", service: f.name })),
      ...remoteTasks.flatMap((t) => Array.from({ length: t.parallelism }, (_, index): Placement => ({ kind: "task", task: t.id, index }))),
    ];
    const workers = await options.workers();
    const plan = placeInstances(instances, workers);
    await ensureJobStream(nc, jobId);
    const local = new LocalServiceTransport();
    const localTasks = new Set(graph.tasks.filter((t) => !remoteTasks.includes(t)).map((t) => t.id));
    const transport = await NatsTransport.create(nc, {
      jobId,
      capacity: options.capacity,
      localShortcut: (task) => localTasks.has(task),
    });
    const services = new NatsServiceTransport(nc, jobId, local, remoteFactories.map((f) => f.name));
    const reports = nc.subscribe(subjects.driver(jobId));
    const workerOf = new Map<string, string>();
    for (const [worker, list] of plan) for (const p of list) workerOf.set(describePlacement(p), worker);
    const deployment = new this(options, transport, services, local, reports, []);
    for (const task of remoteTasks) {
      for (let index = 0; index < task.parallelism; index++) {
        const worker = workerOf.get(`${task.id}#${index}`)!;
        const counters = new Map(task.operators.map((op) => [op.name, remoteCounters(index, worker)] as const));
        deployment.#tasks.push(new RemoteTask(task.id, index, task.name, worker, counters, deployment));
      }
    }
    for (const factory of remoteFactories) deployment.#remoteServices.set(factory.name, new RemoteService(factory, workerOf.get(`service '${factory.name}'`)!, deployment));
    void deployment.#readReports();
    deployment.#startBeats();
    try {
      const byName = new Map(workers.map((w) => [w.name, w]));
      await Promise.all([...plan.entries()].map(([worker, list]) => deployment.#startHost(byName.get(worker)!, list.length)));
    } catch (error) {
      await deployment.close();
      throw error;
    }
    deployment.#watchWorkers();
    return deployment;
  }

  createService(factory: ServiceFactory, ctx: ServiceContext): ServiceInstance {
    const remote = this.#remoteServices.get(factory.name);
    if (remote) return remote;
    return new ServiceHost(factory, ctx);
  }

  async serviceStarted(service: ServiceInstance): Promise<void> {
    if (!(service instanceof ServiceHost)) return;
    this.#local.add(service);
    // Remote operators call the driver's services over NATS too.
    if (this.#tasks.length > 0) this.#endpoints.push(await ServiceEndpoint.start(this.#nc, { jobId: this.#jobId, host: service, worker: "driver" }));
  }

  createTasks(build: BuildContext): TaskRunner[] {
    this.#fail = build.fail;
    if (this.#pendingFailure) queueMicrotask(() => build.fail(this.#pendingFailure));
    const remote = new Set(this.#tasks.map((t) => t.task));
    const local = buildTasks(build, (task) => !remote.has(task.id));
    for (const task of this.#tasks) {
      for (const [operator, counters] of task.counters) {
        const list = build.counters.get(operator) ?? [];
        list.push(counters);
        build.counters.set(operator, list);
      }
    }
    return [...local, ...this.#tasks];
  }

  operatorWorkers(name: string): string[] | undefined {
    const workers = this.#tasks.filter((t) => t.counters.has(name)).map((t) => t.worker);
    return workers.length > 0 ? [...new Set(workers)] : undefined;
  }

  /** Asks the part's current worker to start it. */
  async place(part: RemoteTask | RemoteService): Promise<void> {
    const placement: Placement = part instanceof RemoteTask ? { kind: "task", task: part.task, index: part.index } : { kind: "service", service: part.name };
    const host = this.#hosts.get(part.worker);
    if (!host) throw new Error(`no job host on worker '${part.worker}'`);
    await host.ready;
    await this.#hostRequest(part.worker, { type: "place", placements: [placement] });
  }

  async cleanupService(part: RemoteService, timeoutMs: number): Promise<void> {
    // Without the broker no worker hears the request: the host cleans up as it leaves (its lease).
    if (!this.#connected) throw new Error("the cluster's broker is unreachable");
    await this.#hostRequest(part.worker, { type: "cleanup-service", service: part.name, timeoutMs }, timeoutMs + 1000);
  }

  /**
   * The job aborts: every job host fires its ctx.signal now, so its services' and operators'
   * work in flight is cancelled before the services' cleanup, as in local mode. Hosts that are
   * still starting are told once they are ready.
   */
  abort(): void {
    if (this.#aborted || this.#closed) return;
    this.#aborted = true;
    for (const h of this.#hosts.values()) if (h.live) this.#tell(h.worker, { type: "abort" });
  }

  /** Ends every job host and removes the job's stream; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#statuses?.stop();
    // An aborted job's calls were cancelled (ctx.signal): one that ignores it is not waited for.
    await Promise.allSettled(this.#endpoints.map((e) => (this.#aborted ? e.stop(0) : e.stop())));
    // Without the broker nobody would answer: the hosts and workers end the job by its lease, and
    // the workers remove its stream.
    const hosts = this.#connected ? [...this.#hosts.values()] : [];
    // Each live host is told to end, its reply not awaited: its worker ends it at once anyway, and
    // answers once its process tree is gone (autostop resolves no sooner; one round trip less).
    for (const h of hosts) if (h.live) this.#tell(h.worker, { type: "end" });
    const stopped = Promise.allSettled(
      hosts.map(async (h) => {
        const reply = await this.#workerRequest(h.worker, { type: "stop-host", jobId: this.#jobId }, STOP_HOST_TIMEOUT_MS);
        // Every line the host printed is shown before the job ends: the worker says how many it sent.
        if (reply.ok && reply.outputs) await this.#outputsReadUpTo(h.worker, reply.outputs);
      }),
    );
    // With every remote instance ended nothing reads the job's stream any more: it goes while the
    // hosts end. Otherwise (an aborted job) only after them, so no host reads a stream that is gone.
    const idle = this.#tasks.every((t) => t.ended);
    if (this.#connected) await Promise.all([stopped, idle ? this.#removeStream() : stopped.then(() => this.#removeStream())]);
    else await this.transport.close().catch(() => undefined);
    // Beats go on until here: a host whose teardown (a slow cleanup()) outlasts the lease must
    // not be taken for one whose driver died.
    for (const timer of this.#timers) clearInterval(timer);
    this.#reports.unsubscribe();
    this.services.close();
    await this.#options.release?.();
  }

  // Resolves once `count` output reports of `worker` were read, or after OUTPUT_READ_WAIT_MS.
  #outputsReadUpTo(worker: string, count: number): Promise<void> {
    if ((this.#outputsRead.get(worker) ?? 0) >= count) return Promise.resolve();
    return new Promise((resolve) => {
      const wait = {
        worker,
        count,
        done: () => {
          clearTimeout(timer);
          this.#outputWaits.delete(wait);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#options.logger.debug("%d of the %d output lines worker '%s' forwarded did not arrive", count - (this.#outputsRead.get(worker) ?? 0), count, worker);
        wait.done();
      }, OUTPUT_READ_WAIT_MS);
      this.#outputWaits.add(wait);
    });
  }

  async #removeStream(): Promise<void> {
    await this.transport.close().catch(() => undefined);
    await deleteJobStream(this.#nc, this.#jobId).catch((error) => this.#options.logger.debug("removing the job's stream failed: %s", messageOf(error)));
  }

  async #startHost(worker: WorkerEntry, slots: number): Promise<void> {
    const existing = this.#hosts.get(worker.name);
    if (existing?.live) {
      // The job already has a host there: it only takes more slots.
      const reply = await this.#workerRequest(worker.name, { type: "start-host", jobId: this.#jobId, slots, host: { ...this.#options.host, worker: worker.name } });
      if (!reply.ok) throw new Error(`worker '${worker.name}' refused more of the job: ${reply.error}`);
      return existing.ready;
    }
    let settleReady!: HostState["settleReady"];
    const ready = new Promise<void>((resolve, reject) => (settleReady = { resolve, reject }));
    ready.catch(() => undefined);
    const state: HostState = { worker: worker.name, workerId: worker.id, leaseMs: worker.leaseMs, ready, settleReady, live: true };
    this.#hosts.set(worker.name, state);
    const reply = await this.#workerRequest(worker.name, { type: "start-host", jobId: this.#jobId, slots, host: { ...this.#options.host, worker: worker.name } });
    if (!reply.ok) throw new Error(`worker '${worker.name}' refused the job: ${reply.error}`);
    const timeoutMs = this.#options.hostStartTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the job's host on worker '${worker.name}' did not start within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([state.ready, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #workerRequest(worker: string, request: WorkerRequest, timeoutMs = REQUEST_TIMEOUT_MS): Promise<WorkerReply> {
    try {
      const reply = await this.#nc.request(subjects.workerControl(worker), JSON.stringify(request), { timeout: timeoutMs });
      return reply.json<WorkerReply>();
    } catch (error) {
      throw new Error(`worker '${worker}' did not answer: ${messageOf(error)}`, { cause: error });
    }
  }

  // A request to a job host without waiting for its reply.
  #tell(worker: string, request: HostRequest): void {
    try {
      this.#nc.publish(subjects.host(this.#jobId, worker), JSON.stringify(request));
    } catch (error) {
      this.#options.logger.debug("telling the job's host on worker '%s' to %s failed: %s", worker, request.type, messageOf(error));
    }
  }

  async #hostRequest(worker: string, request: HostRequest, timeoutMs = REQUEST_TIMEOUT_MS): Promise<void> {
    let reply: HostReply;
    try {
      reply = (await this.#nc.request(subjects.host(this.#jobId, worker), JSON.stringify(request), { timeout: timeoutMs })).json<HostReply>();
    } catch (error) {
      throw new Error(`the job's host on worker '${worker}' did not answer: ${messageOf(error)}`, { cause: error });
    }
    if (!reply.ok) throw remoteError(reply.error, reply.stack);
  }

  async #readReports(): Promise<void> {
    for await (const msg of this.#reports) {
      try {
        this.#onReport(msg.json<DriverReport>());
      } catch (error) {
        this.#options.logger.debug("a report the driver could not read: %s", messageOf(error));
      }
    }
  }

  #task(task: string, index: number, worker: string): RemoteTask | undefined {
    return this.#tasks.find((t) => t.task === task && t.index === index && t.worker === worker);
  }

  #onReport(report: DriverReport): void {
    const host = this.#hosts.get(report.worker);
    switch (report.type) {
      case "host-ready":
        // Before any placement reaches it: a host of an aborted job starts nothing un-aborted.
        if (this.#aborted) this.#tell(report.worker, { type: "abort" });
        host?.settleReady.resolve();
        return;
      case "host-failed": {
        const error = remoteError(`the job's host on worker '${report.worker}' failed: ${report.error}`, report.stack);
        if (host) host.live = false;
        host?.settleReady.reject(error);
        this.#failJob(error);
        return;
      }
      case "task-ended":
        this.#task(report.task, report.index, report.worker)?.finished();
        return;
      case "task-failed":
        this.#task(report.task, report.index, report.worker)?.failed(remoteError(report.error, report.stack), report.operator);
        return;
      case "service-ready":
      case "service-failed":
      case "service-cleaned": {
        const service = this.#remoteServices.get(report.service);
        if (!service || service.worker !== report.worker) return;
        if (report.type === "service-ready") service.started();
        else if (report.type === "service-cleaned") service.cleanedUp(report.error === undefined ? undefined : new Error(report.error));
        else {
          const error = remoteError(report.error, report.stack);
          service.startFailed(error);
          if (this.#fail) this.#failJob(new Error(`service '${service.name}' failed to start again on worker '${report.worker}': ${report.error}`));
        }
        return;
      }
      case "metrics":
        for (const c of report.counters) {
          const task = this.#tasks.find((t) => t.index === c.index && t.worker === report.worker && t.counters.has(c.operator));
          const counters = task?.counters.get(c.operator);
          // Counters only grow: a report that arrives late cannot take them back. A re-placed
          // instance counts from 0 again, on top of what its predecessors counted.
          if (counters) {
            const base = task!.bases.get(c.operator);
            counters.recordsIn = Math.max(counters.recordsIn, (base?.recordsIn ?? 0) + c.recordsIn);
            counters.recordsOut = Math.max(counters.recordsOut, (base?.recordsOut ?? 0) + c.recordsOut);
            counters.errors = Math.max(counters.errors, (base?.errors ?? 0) + c.errors);
            // Levels are the current placement's own, as last reported.
            counters.worker = report.worker;
            counters.inFlight = c.inFlight ?? 0;
            if (c.clock) (counters.clock as ReportedClock).update(c.clock);
            // Latencies add up over placements, as the counts do: a move is no reset.
            if (c.latency) {
              const latency = LatencyHistogram.fromSnapshot(c.latency);
              if (base?.latency) latency.merge(base.latency);
              counters.latency = latency;
            }
          }
        }
        for (const [name, calls] of Object.entries(report.serviceCalls)) {
          const service = this.#remoteServices.get(name);
          if (service?.worker === report.worker) service.calls = Math.max(service.calls, (this.#serviceCallBase.get(name) ?? 0) + calls);
        }
        // Metrics are whatever the instance publishes (counters or levels): the latest report of
        // its current worker holds, nothing is summed over re-placements. Bounded here as there.
        for (const [name, metrics] of Object.entries(report.serviceMetrics ?? {})) {
          const service = this.#remoteServices.get(name);
          if (service?.worker === report.worker) service.metrics = cleanMetrics(metrics).metrics;
        }
        for (const [name, stats] of Object.entries(report.serviceStats ?? {})) {
          const service = this.#remoteServices.get(name);
          if (service?.worker === report.worker) service.reportCalls(stats);
        }
        return;
      case "output": {
        // Shown where the driver's own output goes (its terminal, or a JobManager job's log).
        if (typeof report.line === "string") (report.stream === "err" ? process.stderr : process.stdout).write(`(${report.worker}) ${report.line.slice(0, 16 * 1024)}\n`);
        const read = (this.#outputsRead.get(report.worker) ?? 0) + 1;
        this.#outputsRead.set(report.worker, read);
        for (const wait of this.#outputWaits) if (wait.worker === report.worker && read >= wait.count) wait.done();
        return;
      }
      case "log":
        this.#options.logger[report.level === "error" ? "error" : report.level === "warn" ? "warn" : "info"]("[%s] %s", report.worker, report.message);
        return;
    }
  }

  #failJob(error: Error): void {
    if (this.#fail) this.#fail(error);
    else this.#pendingFailure ??= error;
  }

  // The driver's lease: job hosts tear the job down when these stop. A few beats per lease, so
  // one late beat (a busy event loop, a reconnect) does not end the job.
  #startBeats(): void {
    const beat = () => {
      if (!this.#nc.isClosed()) this.#nc.publish(subjects.beat(this.#jobId), JSON.stringify({ at: Date.now() }));
    };
    beat();
    const timer = setInterval(beat, Math.min(1000, this.#options.host.leaseMs / 3));
    timer.unref();
    this.#timers.push(timer);
  }

  #watchWorkers(): void {
    void this.#watchConnection();
    let checking = false;
    const timer = setInterval(() => {
      // An aborted job places nothing again: its parts are ending.
      if (checking || this.#closed || this.#aborted) return;
      checking = true;
      void this.#checkWorkers().finally(() => (checking = false));
    }, 1000);
    timer.unref();
    this.#timers.push(timer);
  }

  // Registry entries read around an outage of the broker are stale until the workers beat again.
  async #watchConnection(): Promise<void> {
    const statuses = this.#nc.status() as QueuedIterator<Status>;
    this.#statuses = statuses;
    for await (const status of statuses) {
      if (status.type === "disconnect") {
        this.#connected = false;
        this.#disconnectedAt = Date.now();
        this.#outages++;
      } else if (status.type === "reconnect") {
        this.#connected = true;
        this.#reconnectedAt = Date.now();
      }
    }
  }

  async #checkWorkers(): Promise<void> {
    if (!this.#connected) {
      const away = Date.now() - this.#disconnectedAt;
      if (away > outageLimitMs(this.#options.host.leaseMs)) {
        this.#failJob(new Error(`lost the connection to the cluster's broker for ${Math.round(away / 1000)} s: the job's remote parts cannot go on`));
      }
      return;
    }
    await this.#reconcile();
    const outages = this.#outages;
    let live: WorkerEntry[];
    try {
      live = await this.#options.workers();
    } catch {
      return; // the broker is away: the connection reconnects, the next check sees again
    }
    // The workers write their entries again as they reconnect: a worker is judged a lease after that.
    if (outages !== this.#outages || !this.#connected || Date.now() - this.#reconnectedAt < this.#options.host.leaseMs) return;
    const byName = new Map(live.map((w) => [w.name, w]));
    for (const host of this.#hosts.values()) {
      if (!host.live) continue;
      const entry = byName.get(host.worker);
      if (entry && entry.id === host.workerId) continue;
      host.live = false;
      await this.#replaceWorker(host.worker, live);
    }
  }

  // Reports travel on core NATS and a broker outage can lose one: ask the hosts what ended.
  async #reconcile(): Promise<void> {
    const waiting = new Set(this.#tasks.filter((t) => !t.ended).map((t) => t.worker));
    await Promise.all(
      [...waiting].map(async (worker) => {
        if (!this.#hosts.get(worker)?.live) return;
        try {
          const reply = (await this.#nc.request(subjects.host(this.#jobId, worker), JSON.stringify({ type: "state" } satisfies HostRequest), { timeout: 2000 })).json<HostReply>();
          if (reply.ok) for (const report of reply.ended ?? []) this.#onReport(report);
        } catch {
          // a busy or gone host: the registry decides whether it lives
        }
      }),
    );
  }

  // A worker went silent: its unfinished task instances and its services start again elsewhere.
  async #replaceWorker(dead: string, live: WorkerEntry[]): Promise<void> {
    const tasks = this.#tasks.filter((t) => t.worker === dead && !t.ended);
    const services = [...this.#remoteServices.values()].filter((s) => s.worker === dead && s.state !== "stopped");
    if (tasks.length + services.length === 0) return;
    const parts: Placement[] = [
      ...services.map((s): Placement => ({ kind: "service", service: s.name })),
      ...tasks.map((t): Placement => ({ kind: "task", task: t.task, index: t.index })),
    ];
    // The worker's own lease decided it is gone (the driver's lease is for the job hosts to watch).
    const leaseMs = this.#hosts.get(dead)?.leaseMs;
    this.#options.logger.warn("worker '%s' left or stopped answering (no heartbeat within its lease of %d ms): placing its %d instance(s) elsewhere", dead, leaseMs, parts.length);
    // Fencing: should its host still live (a frozen or cut-off machine), it ends once it hears this.
    this.#tell(dead, { type: "end" });
    try {
      const avoid = new Set([...this.#hosts.values()].filter((h) => !h.live).map((h) => h.worker));
      const plan = placeInstances(parts, live, avoid);
      const byName = new Map(live.map((w) => [w.name, w]));
      for (const [worker, list] of plan) {
        for (const p of list) {
          const part = p.kind === "task" ? tasks.find((t) => t.task === p.task && t.index === p.index)! : this.#remoteServices.get(p.service)!;
          part.worker = worker;
          if (part instanceof RemoteTask) part.moved();
          if (part instanceof RemoteService) {
            this.#serviceCallBase.set(part.name, part.calls);
            part.moved();
            part.state = "starting";
            this.services.instanceLost(part.name);
          }
        }
        await this.#startHost(byName.get(worker)!, list.length);
      }
      this.restarts += parts.length;
      await Promise.all([...services, ...tasks].map((part) => this.place(part)));
    } catch (error) {
      this.#failJob(new Error(`worker '${dead}' stopped answering and its instances could not be placed elsewhere: ${messageOf(error)}`, { cause: error }));
    }
  }
}

// Counters of an instance on a worker: its reports fill them, its clock is the last one reported.
function remoteCounters(index: number, worker: string): OperatorCounters {
  const counters = newCounters(index);
  counters.clock = new ReportedClock();
  counters.worker = worker;
  return counters;
}
