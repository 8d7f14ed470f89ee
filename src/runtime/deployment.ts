import type { ServiceFactory } from "../api/service.js";
import type { ServiceContext, ServiceStatus } from "../api/types.js";
import type { BuildContext } from "./build-task.js";
import { buildTasks } from "./build-task.js";
import { LocalServiceTransport } from "./local-service-transport.js";
import { LocalTransport } from "./local-transport.js";
import { ServiceHost, type ServiceCallStats } from "./service-host.js";
import type { ServiceTransport } from "./service-transport.js";
import type { Transport } from "./transport.js";

/** A service instance as the job controller drives it: here (ServiceHost) or on a worker. */
export interface ServiceInstance {
  readonly name: string;
  readonly factory: ServiceFactory;
  readonly state: ServiceStatus["state"];
  readonly calls: number;
  /** Where it runs, when not in this process. */
  readonly worker?: string;
  /** The counters it publishes (its `metrics()`), sampled for a status; the last ones once it is gone. */
  sampleMetrics(): Record<string, number> | undefined;
  /** How its calls go (failures, running, queued, latency), where it can tell. */
  sampleCalls?(): ServiceCallStats;
  /** Creates the instance and awaits its setup() under `timeoutMs`. */
  setup(timeoutMs: number): Promise<void>;
  /** Awaits cleanup() under `timeoutMs`; stopped afterwards whatever happened. */
  cleanup(timeoutMs: number): Promise<void>;
}

/** A running part of the job the controller waits for: a task instance here, or one on a worker. */
export interface TaskRunner {
  /** `<task name>#<index>`, for logs. */
  readonly name: string;
  /** Part of a pipeline served as a service: it ends after the job's callers (see ServingHub). */
  readonly serving?: boolean;
  /** Runs to the end of input (or until aborted); rejects with the operator's error. */
  run(): Promise<void>;
  /** Closes its functions once after an abort or failure, errors only logged. */
  closeQuietly(): Promise<void>;
}

/**
 * Where a job's parts run and how they reach each other: the one thing that differs between
 * modes. The job controller (the completion protocol) is the same for all of them.
 */
export interface JobDeployment {
  /** Channels between task instances. */
  readonly transport: Transport;
  /** What `ctx.service()` reaches services through. */
  readonly services: ServiceTransport;
  /** The instance of one registered service. */
  createService(factory: ServiceFactory, ctx: ServiceContext): ServiceInstance;
  /** A service finished its setup: calls may reach it from now on. */
  serviceStarted(service: ServiceInstance): void | Promise<void>;
  /** Every task instance of the job. */
  createTasks(build: BuildContext): TaskRunner[];
  /** Extra status of operator `name`: where its instances run. */
  operatorWorkers?(name: string): string[] | undefined;
  /**
   * The job is being aborted (stop, timeout or failure): parts running elsewhere must see their
   * ctx.signal fire now, not when close() ends them after the services' cleanup.
   */
  abort?(): void;
  /** Instances started again elsewhere after their worker died (the status's restartCount). */
  readonly restarts?: number;
  /** Releases what the deployment holds, once the job has ended (or failed to start). */
  close(): Promise<void>;
}

/** Everything in this process: in-memory channels, services called directly. */
export class LocalDeployment implements JobDeployment {
  readonly transport: LocalTransport;
  readonly services = new LocalServiceTransport();

  constructor(capacity: number) {
    this.transport = new LocalTransport({ capacity });
  }

  createService(factory: ServiceFactory, ctx: ServiceContext): ServiceInstance {
    return new ServiceHost(factory, ctx);
  }

  serviceStarted(service: ServiceInstance): void {
    this.services.add(service as ServiceHost);
  }

  createTasks(build: BuildContext): TaskRunner[] {
    return buildTasks(build);
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}
