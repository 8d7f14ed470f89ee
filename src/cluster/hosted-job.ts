import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import type { BaseEnvironment } from "../api/environment.js";
import { OperatorError, messageOf } from "../api/errors.js";
import { createLogger, defaultLogLevel, stderrLogSink, type LogSink } from "../api/logger.js";
import type { Logger } from "../api/types.js";
import type { ExecutionGraph, TaskSpec } from "../graph/execution-graph.js";
import { buildTaskInstance, type BuildContext } from "../runtime/build-task.js";
import { JOB_DEFAULTS } from "../runtime/job-controller.js";
import { serviceContext, type JobScope } from "../runtime/job-context.js";
import { LocalServiceTransport } from "../runtime/local-service-transport.js";
import type { OperatorCounters } from "../runtime/metrics.js";
import { ServiceHost } from "../runtime/service-host.js";
import { ServiceProxyCache } from "../runtime/service-proxy.js";
import type { TaskInstance } from "../runtime/task.js";
import { closeConnection } from "./connect.js";
import { hostLogLine } from "./host-log.js";
import { NatsServiceTransport } from "./nats-service-transport.js";
import { NatsTransport, natsChannelCapacity } from "./nats-transport.js";
import { outageLimitMs, type DriverReport, type HostReply, type HostRequest, type InstanceCounters, type ServiceCallReport, type JobHostOptions, type Placement } from "./protocol.js";
import { ServiceEndpoint } from "./service-endpoint.js";
import { subjects } from "./subjects.js";

/** A task instance hosted here, with its counters per operator. */
interface HostedTask {
  spec: TaskSpec;
  index: number;
  instance: TaskInstance;
  counters: Map<string, OperatorCounters[]>;
}

/** A service hosted here. */
interface HostedService {
  host: ServiceHost;
  endpoint: ServiceEndpoint | undefined;
}

/**
 * The parts of one job that run in a job host process on a worker: the task instances and
 * services the driver placed here. It reports to the driver (instance ended or failed, service
 * ready, metrics) and tears itself down when told to, or when the driver's heartbeat stops.
 */
export class HostedJob {
  readonly #env: BaseEnvironment;
  readonly #graph: ExecutionGraph;
  readonly #options: JobHostOptions;
  readonly #nc: NatsConnection;
  readonly #logger: Logger;
  readonly #stop = new AbortController();
  readonly #abort = new AbortController();
  readonly #local = new LocalServiceTransport();
  readonly #services: NatsServiceTransport;
  readonly #transport: NatsTransport;
  readonly #scope: JobScope;
  readonly #tasks = new Map<string, HostedTask>();
  readonly #hostedServices = new Map<string, HostedService>();
  readonly #subscriptions: Subscription[] = [];
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #endReports = new Map<string, DriverReport>();
  #disconnectedAt = 0;
  #lastBeat = Date.now();
  /** The driver's beats cannot arrive while the broker is away: its lease waits meanwhile. */
  #connected = true;
  #ending: Promise<void> | undefined;
  readonly #ended: Promise<void>;
  #resolveEnded!: () => void;

  private constructor(env: BaseEnvironment, graph: ExecutionGraph, options: JobHostOptions, nc: NatsConnection, transport: NatsTransport) {
    this.#env = env;
    this.#graph = graph;
    this.#options = options;
    this.#nc = nc;
    this.#transport = transport;
    this.#ended = new Promise((resolve) => (this.#resolveEnded = resolve));
    const level = env.config.logLevel ?? defaultLogLevel();
    this.#logger = createLogger(`job ${env.name} on ${options.worker}`, level, this.#logSink);
    const remoteNames = [...env.serviceFactories.keys()];
    this.#services = new NatsServiceTransport(nc, options.jobId, this.#local, remoteNames);
    this.#scope = {
      jobId: options.jobId,
      logLevel: level,
      logSink: this.#logSink,
      signal: this.#abort.signal,
      proxies: new ServiceProxyCache(
        this.#services,
        this.#config("serviceCallTimeoutMs"),
        new Map([...env.serviceFactories.values()].flatMap((f) => (f.options.callTimeoutMs ? [[f.name, f.options.callTimeoutMs] as const] : []))),
      ),
    };
  }

  /** Connects the job's parts here to the cluster and tells the driver it is ready. */
  static async start(env: BaseEnvironment, graph: ExecutionGraph, options: JobHostOptions, nc: NatsConnection): Promise<HostedJob> {
    const capacity = natsChannelCapacity(env.config);
    const transport = await NatsTransport.create(nc, { jobId: options.jobId, capacity });
    const job = new this(env, graph, options, nc, transport);
    job.#listen();
    job.#report({ type: "host-ready", worker: options.worker, pid: process.pid });
    return job;
  }

  /** Whether the job is being torn down here. */
  get ending(): boolean {
    return this.#ending !== undefined;
  }

  /** Resolves once the job has been torn down here. */
  get ended(): Promise<void> {
    return this.#ended;
  }

  // Logs go to this process's stderr (the worker prints them; one that logs JSON takes records);
  // warnings and errors reach the driver too.
  readonly #logSink: LogSink = (level, name, message, fields) => {
    if (this.#options.logFormat === "json") process.stderr.write(`${hostLogLine(level, name, message, fields)}\n`);
    else stderrLogSink(level, name, message);
    if (level === "warn" || level === "error") this.#report({ type: "log", worker: this.#options.worker, level, message });
  };

  #config<K extends keyof typeof JOB_DEFAULTS>(key: K): number {
    const value = this.#env.config[key];
    return typeof value === "number" && value > 0 ? value : JOB_DEFAULTS[key];
  }

  // An instance's end is also kept, for the driver's `state` requests: a report on core NATS may be lost.
  #reportEnd(report: Extract<DriverReport, { type: "task-ended" | "task-failed" }>): void {
    this.#endReports.set(`${report.task}#${report.index}`, report);
    this.#report(report);
  }

  #report(report: DriverReport): void {
    if (!this.#nc.isClosed()) this.#nc.publish(subjects.driver(this.#options.jobId), JSON.stringify(report));
  }

  #listen(): void {
    const requests = this.#nc.subscribe(subjects.host(this.#options.jobId, this.#options.worker));
    const beats = this.#nc.subscribe(subjects.beat(this.#options.jobId));
    this.#subscriptions.push(requests, beats);
    void (async () => {
      for await (const msg of requests) void this.#onRequest(msg);
    })();
    void (async () => {
      for await (const _ of beats) this.#lastBeat = Date.now();
    })();
    void (async () => {
      for await (const status of this.#nc.status()) {
        if (status.type === "disconnect") {
          this.#connected = false;
          this.#disconnectedAt = Date.now();
        } else if (status.type === "reconnect") {
          // The driver was cut off as long as this host was: its lease starts again.
          this.#connected = true;
          this.#lastBeat = Date.now();
        }
      }
    })();
    const leaseTimer = setInterval(() => {
      // A broker gone for good must not keep the job's parts here for ever.
      if (!this.#connected && Date.now() - this.#disconnectedAt > outageLimitMs(this.#options.leaseMs)) {
        this.#logger.warn("the cluster's broker has been unreachable for %d ms: ending the job here", Date.now() - this.#disconnectedAt);
        void this.end();
      }
      if (this.#connected && Date.now() - this.#lastBeat > this.#options.leaseMs) {
        this.#logger.warn("the job's driver sent no heartbeat for %d ms: ending the job here", this.#options.leaseMs);
        void this.end();
      }
    }, Math.max(100, Math.min(1000, this.#options.leaseMs / 4)));
    const metricsTimer = setInterval(() => this.#publishMetrics(), Math.min(1000, this.#config("metricsIntervalMs")));
    metricsTimer.unref();
    this.#timers.push(leaseTimer, metricsTimer);
  }

  async #onRequest(msg: Msg): Promise<void> {
    let reply: HostReply = { ok: true };
    try {
      const request = msg.json<HostRequest>();
      switch (request.type) {
        case "place":
          for (const placement of request.placements) this.#place(placement);
          break;
        case "cleanup-service":
          void this.#cleanupService(request.service, request.timeoutMs);
          break;
        case "abort":
          this.#abortTasks();
          break;
        case "state":
          reply = { ok: true, ended: [...this.#endReports.values()] };
          break;
        case "end":
          msg.respond(JSON.stringify(reply));
          await this.end();
          return;
      }
    } catch (error) {
      reply = { ok: false, error: messageOf(error), ...(error instanceof Error && error.stack !== undefined && { stack: error.stack }) };
    }
    msg.respond(JSON.stringify(reply));
  }

  #place(placement: Placement): void {
    if (placement.kind === "service") {
      void this.#startService(placement.service);
      return;
    }
    const spec = this.#graph.tasks.find((t) => t.id === placement.task);
    if (!spec || placement.index < 0 || placement.index >= spec.parallelism) throw new Error(`the job has no task instance ${placement.task}#${placement.index}`);
    const key = `${spec.id}#${placement.index}`;
    if (this.#tasks.has(key)) return;
    const counters = new Map<string, OperatorCounters[]>();
    const fail = (error: unknown) => this.#taskFailed(spec, placement.index, error);
    const build: BuildContext = {
      env: this.#env,
      graph: this.#graph,
      scope: this.#scope,
      transport: this.#transport,
      taskEnv: { stopSignal: this.#stop.signal, abortSignal: this.#abort.signal, logger: this.#logger },
      batchSize: this.#config("batchSize"),
      counters,
      fail,
      // Input is acknowledged only once the async calls made for it have sent their outputs on.
      workOf: (task, index) => this.#transport.inbox(task.id, index).work,
    };
    let instance: TaskInstance;
    try {
      instance = buildTaskInstance(build, spec, placement.index);
    } catch (error) {
      fail(error);
      return;
    }
    this.#tasks.set(key, { spec, index: placement.index, instance, counters });
    void instance.run().then(
      async () => {
        // Aborted here (the host is leaving: its worker died or stops): it did not reach its end,
        // and the driver, which places it elsewhere, must not count it finished.
        if (this.#abort.signal.aborted) return;
        // Its last batches are acknowledged first: a re-placement after this reads none of them again.
        await this.#transport.taskEnded(spec.id, placement.index).catch((error) => this.#logger.warn("acknowledging the last input of %s failed: %s", instance.name, messageOf(error)));
        this.#publishMetrics();
        this.#reportEnd({ type: "task-ended", worker: this.#options.worker, task: spec.id, index: placement.index });
      },
      fail,
    );
  }

  #taskFailed(spec: TaskSpec, index: number, error: unknown): void {
    if (this.#abort.signal.aborted) return;
    const operator = error instanceof OperatorError ? error.operator : undefined;
    const cause = error instanceof OperatorError ? error.cause : error;
    this.#publishMetrics();
    this.#reportEnd({
      type: "task-failed",
      worker: this.#options.worker,
      task: spec.id,
      index,
      ...(operator !== undefined && { operator }),
      error: messageOf(cause),
      ...(cause instanceof Error && cause.stack !== undefined && { stack: cause.stack }),
    });
  }

  async #startService(name: string): Promise<void> {
    const factory = this.#env.serviceFactories.get(name);
    const worker = this.#options.worker;
    if (!factory) {
      this.#report({ type: "service-failed", worker, service: name, error: `the job has no service '${name}'` });
      return;
    }
    if (this.#hostedServices.has(name)) return;
    const host = new ServiceHost(factory, serviceContext(this.#scope, name));
    const hosted: HostedService = { host, endpoint: undefined };
    this.#hostedServices.set(name, hosted);
    try {
      await host.setup(factory.options.setupTimeoutMs ?? this.#config("serviceSetupTimeoutMs"));
      this.#local.add(host);
      hosted.endpoint = await ServiceEndpoint.start(this.#nc, { jobId: this.#options.jobId, host, worker });
      this.#report({ type: "service-ready", worker, service: name });
    } catch (error) {
      this.#hostedServices.delete(name);
      // The driver names the service and the worker itself: the report carries the cause alone.
      const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
      this.#report({ type: "service-failed", worker, service: name, error: messageOf(cause), ...(cause instanceof Error && cause.stack !== undefined && { stack: cause.stack }) });
    }
  }

  async #cleanupService(name: string, timeoutMs: number): Promise<void> {
    const hosted = this.#hostedServices.get(name);
    const worker = this.#options.worker;
    if (!hosted) {
      this.#report({ type: "service-cleaned", worker, service: name });
      return;
    }
    let error: string | undefined;
    try {
      // Aborted, its calls in flight were cancelled (ctx.signal): one that ignores it is not waited for.
      await (this.#abort.signal.aborted ? hosted.endpoint?.stop(0) : hosted.endpoint?.stop());
      await hosted.host.cleanup(timeoutMs);
    } catch (cause) {
      error = messageOf(cause);
    }
    // Its last call count and metrics (sampled after its cleanup()) go out before it is forgotten.
    this.#publishMetrics();
    this.#hostedServices.delete(name);
    this.#report({ type: "service-cleaned", worker, service: name, ...(error !== undefined && { error }) });
  }

  #abortTasks(): void {
    this.#stop.abort();
    this.#abort.abort();
  }

  #publishMetrics(): void {
    const counters: InstanceCounters[] = [];
    for (const task of this.#tasks.values()) {
      for (const [operator, list] of task.counters) {
        for (const c of list) {
          counters.push({
            operator,
            index: task.index,
            recordsIn: c.recordsIn,
            recordsOut: c.recordsOut,
            errors: c.errors,
            inFlight: c.inFlight,
            ...(c.clock && { clock: c.clock.read() }),
            ...(c.latency && c.latency.count > 0 && { latency: c.latency.snapshot() }),
          });
        }
      }
    }
    const serviceCalls: Record<string, number> = {};
    const serviceMetrics: Record<string, Record<string, number>> = {};
    const serviceStats: Record<string, ServiceCallReport> = {};
    for (const [name, hosted] of this.#hostedServices) {
      serviceCalls[name] = hosted.host.calls;
      const stats = hosted.host.sampleCalls();
      serviceStats[name] = { errors: stats.errors, inFlight: stats.inFlight, queued: stats.queued, ...(stats.latency && stats.latency.count > 0 && { latency: stats.latency.snapshot() }) };
      const metrics = hosted.host.sampleMetrics();
      if (metrics !== undefined) serviceMetrics[name] = metrics;
    }
    if (counters.length > 0 || Object.keys(serviceCalls).length > 0) {
      this.#report({ type: "metrics", worker: this.#options.worker, counters, serviceCalls, serviceStats, ...(Object.keys(serviceMetrics).length > 0 && { serviceMetrics }) });
    }
  }

  /** Tears the job down here: aborts its instances, cleans up its services, leaves the cluster. */
  end(): Promise<void> {
    return (this.#ending ??= (async () => {
      for (const timer of this.#timers) clearInterval(timer);
      this.#abortTasks();
      await this.#transport.close().catch(() => undefined);
      await Promise.race([Promise.allSettled([...this.#tasks.values()].map((t) => t.instance.closeQuietly())), new Promise((resolve) => setTimeout(resolve, this.#config("abortGraceMs")))]);
      for (const name of [...this.#hostedServices.keys()].reverse()) {
        const hosted = this.#hostedServices.get(name)!;
        // The job is aborted here (above): calls in flight are cancelled, not waited for.
        await hosted.endpoint?.stop(0).catch(() => undefined);
        await hosted.host.cleanup(hosted.host.factory.options.cleanupTimeoutMs ?? this.#config("serviceCleanupTimeoutMs")).catch((error) => this.#logger.warn("%s", messageOf(error)));
      }
      this.#hostedServices.clear();
      this.#services.close();
      for (const subscription of this.#subscriptions) subscription.unsubscribe();
      // What it published (the last reports) goes out; then the connection closes without the
      // stack nats.js would format through the bundle's inline source map (about 100 ms).
      await this.#nc.flush().catch(() => undefined);
      await closeConnection(this.#nc);
      this.#resolveEnded();
    })());
  }
}
