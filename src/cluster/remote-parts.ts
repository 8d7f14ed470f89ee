import { OperatorError, withCauseFrames } from "../api/errors.js";
import type { ServiceFactory } from "../api/service.js";
import type { ServiceStatus } from "../api/types.js";
import type { ServiceInstance, TaskRunner } from "../runtime/deployment.js";
import type { OperatorCounters } from "../runtime/metrics.js";
import { withTimeout, type ServiceCallStats } from "../runtime/service-host.js";
import { LatencyHistogram } from "../runtime/latency-histogram.js";
import { ReportedClock } from "../runtime/task-clock.js";
import type { ServiceCallReport } from "./protocol.js";

/** What the remote stand-ins need from their deployment. */
export interface RemotePartHost {
  /** Asks the instance's current worker to start it. */
  place(part: RemoteTask | RemoteService): Promise<void>;
  /** Asks the service's worker to clean it up; resolves once the worker reports it cleaned. */
  cleanupService(part: RemoteService, timeoutMs: number): Promise<void>;
}

/** An error as a host reported it, with the remote stack. */
export function remoteError(message: string, stack: string | undefined): Error {
  const error = new Error(message);
  if (stack) error.stack = stack;
  return error;
}

/**
 * Stands for one task instance running on a worker: it runs until the worker reports the
 * instance ended (or failed), wherever the instance was placed or re-placed meanwhile.
 */
export class RemoteTask implements TaskRunner {
  readonly name: string;
  worker: string;
  ended = false;
  /** Counters per operator of the task, updated from the workers' metrics reports. */
  readonly counters: Map<string, OperatorCounters>;
  /** What earlier placements counted: the current one's reports add to it. */
  readonly bases = new Map<string, OperatorCounters>();
  #settle!: { resolve(): void; reject(error: unknown): void };
  readonly #done = new Promise<void>((resolve, reject) => (this.#settle = { resolve, reject }));

  constructor(
    readonly task: string,
    readonly index: number,
    taskName: string,
    worker: string,
    counters: Map<string, OperatorCounters>,
    private readonly host: RemotePartHost,
  ) {
    this.name = `${taskName}#${index}`;
    this.worker = worker;
    this.counters = counters;
    // A job that fails before run() awaited it must not see an unhandled rejection.
    this.#done.catch(() => undefined);
  }

  async run(): Promise<void> {
    await this.host.place(this);
    return this.#done;
  }

  /** It moves to another worker: its counts so far become the base the new instance's add to. */
  moved(): void {
    for (const [operator, c] of this.counters) {
      this.bases.set(operator, { ...c });
      c.worker = this.worker;
      c.inFlight = 0;
      // What the dead worker last said of its inbox and time is not the new placement's.
      if (c.clock instanceof ReportedClock) c.clock.update({ elapsedMs: 0, idleMs: 0, backPressuredMs: 0, backlog: 0, capacity: 0 });
    }
  }

  /** The worker reported the instance's end. */
  finished(): void {
    this.ended = true;
    this.#settle.resolve();
  }

  /** The worker reported the instance's failure (or it cannot run anywhere). */
  failed(error: Error, operator: string | undefined): void {
    this.ended = true;
    this.#settle.reject(operator ? new OperatorError(operator, error) : error);
  }

  // The hosts abort their instances when the job ends; nothing to close here.
  async closeQuietly(): Promise<void> {}
}

/** Stands for a service instance living on a worker. */
export class RemoteService implements ServiceInstance {
  state: ServiceStatus["state"] = "starting";
  calls = 0;
  /** The counters its worker sampled last (a re-placed instance's own, from its first report on). */
  metrics: Record<string, number> | undefined;
  #calls: ServiceCallStats = { errors: 0, inFlight: 0, queued: 0, latency: undefined };
  #errorBase = 0;
  #latencyBase: LatencyHistogram | undefined;
  worker: string;
  #ready: { resolve(): void; reject(error: unknown): void } | undefined;
  #cleaned: { resolve(): void; reject(error: unknown): void } | undefined;

  constructor(
    readonly factory: ServiceFactory,
    worker: string,
    private readonly host: RemotePartHost,
  ) {
    this.worker = worker;
  }

  get name(): string {
    return this.factory.name;
  }

  sampleMetrics(): Record<string, number> | undefined {
    return this.metrics;
  }

  /** How its calls go, as its worker reported last (errors summed over its placements). */
  sampleCalls(): ServiceCallStats {
    return this.#calls;
  }

  /** Takes its worker's report of how its calls go. */
  reportCalls(report: ServiceCallReport): void {
    this.#calls = {
      errors: Math.max(this.#calls.errors, this.#errorBase + report.errors),
      inFlight: report.inFlight,
      queued: report.queued,
      latency: report.latency ? this.#withBase(LatencyHistogram.fromSnapshot(report.latency)) : this.#calls.latency,
    };
  }

  // Latencies add up over placements, as the errors do.
  #withBase(latency: LatencyHistogram): LatencyHistogram {
    if (this.#latencyBase) latency.merge(this.#latencyBase);
    return latency;
  }

  /** It is placed again elsewhere: its errors so far become the base the new instance's add to. */
  moved(): void {
    this.#errorBase = this.#calls.errors;
    this.#latencyBase = this.#calls.latency;
    this.#calls = { ...this.#calls, inFlight: 0, queued: 0 };
  }

  /** Places it on its worker and waits for its setup() there. */
  async setup(timeoutMs: number): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => (this.#ready = { resolve, reject }));
    try {
      await withTimeout(
        this.host.place(this).then(() => ready),
        timeoutMs,
        () => new Error(`setup() on worker '${this.worker}' did not finish within ${timeoutMs} ms`),
      );
    } catch (error) {
      this.state = "failed";
      throw withCauseFrames(new Error(`service '${this.name}' failed to start on worker '${this.worker}': ${(error as Error).message}`, { cause: error }), error);
    }
    this.state = "running";
  }

  /** The worker reported the setup done. */
  started(): void {
    this.state = "running";
    this.#ready?.resolve();
  }

  /** The worker reported the setup failed. */
  startFailed(error: Error): void {
    this.state = "failed";
    this.#ready?.reject(error);
  }

  async cleanup(timeoutMs: number): Promise<void> {
    const wasRunning = this.state === "running";
    this.state = "stopped";
    if (!wasRunning) return;
    const cleaned = new Promise<void>((resolve, reject) => (this.#cleaned = { resolve, reject }));
    try {
      await withTimeout(
        this.host.cleanupService(this, timeoutMs).then(() => cleaned),
        timeoutMs + 1000,
        () => new Error(`cleanup() on worker '${this.worker}' did not finish within ${timeoutMs} ms`),
      );
    } catch (error) {
      this.state = "failed";
      throw new Error(`service '${this.name}' cleanup failed: ${(error as Error).message}`, { cause: error });
    }
  }

  /** The worker reported the cleanup done (with its error, if cleanup() threw). */
  cleanedUp(error: Error | undefined): void {
    if (error) this.#cleaned?.reject(error);
    else this.#cleaned?.resolve();
  }
}
