import type { BaseEnvironment } from "../../api/environment.js";
import { DEFAULT_MAX_PENDING, serviceSourceOf } from "../../api/pipeline-service.js";
import { ServiceFactory } from "../../api/service.js";
import type { Logger } from "../../api/types.js";
import type { ExecutionGraph, TaskId } from "../../graph/execution-graph.js";
import { RequestEndpoint } from "./request-endpoint.js";

/**
 * The pipelines of one job that are served as services. The job controller tells it when every
 * other part of the job (the callers) has ended; from then on, the moment every served pipeline
 * is idle at once (no request waiting or inside it, no work in flight) their sources end, and the
 * end-of-stream markers finish the job as usual. Checked in one synchronous step, so no caller
 * can slip a request in between: the only code left running is the served pipelines' own.
 */
export class ServingHub {
  readonly #endpoints = new Map<string, RequestEndpoint>();
  /** Per task: the endpoints whose pipeline it is part of (in-flight work counts for each). */
  readonly #regions = new Map<TaskId, RequestEndpoint[]>();
  #callersDone = false;
  #ended = false;

  constructor(env: BaseEnvironment, graph: ExecutionGraph, logger: Logger) {
    for (const spec of graph.serving ?? []) {
      const head = graph.tasks.find((t) => t.id === spec.source)!.operators[0]!;
      const maxPending = serviceSourceOf(env.pipeline[head.fnRef]?.fn)?.maxPending ?? DEFAULT_MAX_PENDING;
      const endpoint = new RequestEndpoint(spec.service, maxPending, logger, () => this.#check());
      this.#endpoints.set(spec.service, endpoint);
      for (const task of spec.tasks) this.#regions.set(task, [...(this.#regions.get(task) ?? []), endpoint]);
    }
  }

  /** The endpoint of the pipeline serving `service`. */
  endpoint(service: string): RequestEndpoint {
    const endpoint = this.#endpoints.get(service);
    if (!endpoint) throw new Error(`internal: no pipeline serves '${service}'`);
    return endpoint;
  }

  /** The endpoints whose pipeline `task` belongs to (empty for a caller's task). */
  regionsOf(task: TaskId): readonly RequestEndpoint[] {
    return this.#regions.get(task) ?? [];
  }

  /** For a service a pipeline serves: the factory of its object; undefined for any other service. */
  factoryFor(factory: ServiceFactory): ServiceFactory | undefined {
    const endpoint = this.#endpoints.get(factory.name);
    return endpoint && new ServiceFactory(factory.name, () => endpoint.service, factory.options);
  }

  /** Every part of the job but the served pipelines has ended (or a drain found none running). */
  callersDone(): void {
    this.#callersDone = true;
    this.#check();
  }

  /** The job is aborted or failed: every caller still waiting gets `error`, the sources end. */
  abort(error: Error): void {
    this.#ended = true;
    for (const endpoint of this.#endpoints.values()) endpoint.fail(error);
  }

  #check(): void {
    if (!this.#callersDone || this.#ended) return;
    for (const endpoint of this.#endpoints.values()) if (!endpoint.idle) return;
    this.#ended = true;
    for (const endpoint of this.#endpoints.values()) endpoint.close();
  }
}
