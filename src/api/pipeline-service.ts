import { PipelineDefinitionError } from "./errors.js";
import { ServiceFactory } from "./service.js";
import type { FunctionContext } from "./types.js";
import { MAX_CONCURRENCY, MAX_TIMER_MS } from "./validate-options.js";

/**
 * One request to a pipeline served by `env.fromService(name)`: the record its source emits.
 * Plain data: carry `id` through the pipeline (e.g. `{ ...request, payload: next }`), so that
 * `replyTo(name)` can answer the caller who sent it.
 */
export interface ServiceRequest<T = unknown> {
  /** Identifies the request among those of its service; the reply is matched by it. */
  readonly id: string;
  /** What the caller passed to `process()`. */
  payload: T;
}

/**
 * What callers see of a pipeline served by `env.fromService(name)`:
 * `await ctx.service<PipelineService<Order, Decision>>("orders").process(order)`.
 * @remarks A request the pipeline drops (a filter, a map returning undefined, an empty flatMap)
 * is answered with `undefined` once nothing of the pipeline is still working on it: declare
 * `Res | undefined` when the pipeline can drop requests.
 */
export interface PipelineService<Req = unknown, Res = unknown> {
  /** Sends `request` through the pipeline; resolves with the answer `replyTo` gave it. */
  process(request: Req): Promise<Res>;
  /** Takes no more requests; the pipeline still answers those already sent, then its source ends. */
  close(): void;
  /** Counters: requests, answered, dropped, timedOut, pending (in the pipeline) and waiting (beyond maxPending). */
  metrics(): Record<string, number>;
}

/** Options of `env.fromService()`. */
export interface FromServiceOptions {
  /** The source operator's name (default: the service's name). */
  name?: string;
  /**
   * Requests inside the pipeline at once, unanswered (default 1024). Callers beyond it wait for
   * room, under their call timeout: backpressure, as between operators.
   */
  maxPending?: number;
  /** Default timeout of calls to the service, waiting for room included (default: the job's `serviceCallTimeoutMs`). */
  timeoutMs?: number;
}

/** The default of `maxPending`. */
export const DEFAULT_MAX_PENDING = 1024;

// Symbol.for: a job's bundle may carry its own copy of the package, and brands must still match.
const SERVICE_SOURCE = Symbol.for("sage.serviceSource");
const REPLY_TO = Symbol.for("sage.replyTo");
const PIPELINE_FACTORY = Symbol.for("sage.pipelineServiceFactory");

/** What `fromService` records as its source's function: read by the graph and the runtime only. */
export interface ServiceSourceSpec {
  readonly service: string;
  readonly maxPending: number;
}

/** What a `replyTo()` sink carries for the runtime. */
export interface ReplySpec {
  readonly service: string;
  readonly answer: ((record: any, ctx: FunctionContext) => unknown) | undefined;
}

/**
 * The sink that answers requests of the pipeline service `service`: each record must carry its
 * request's `id`; the answer is `answer(record)`, by default `record.payload`. A request is
 * answered once (later replies to it are ignored); the answer of one whose caller gave up is dropped.
 * @example
 * env.fromService<Order>("orders").map(score).sink(replyTo("orders"));
 */
// The record type comes from the stream (a request envelope, or a toolkit record whose fields the
// types cannot list); the request id is checked when the record arrives.
export function replyTo<T extends object = any>(
  service: string,
  answer?: (record: T, ctx: FunctionContext) => unknown,
): (record: T, ctx: FunctionContext) => void {
  if (typeof service !== "string" || service === "") throw new PipelineDefinitionError("replyTo() needs the name of the pipeline service it answers");
  if (answer !== undefined && typeof answer !== "function") throw new PipelineDefinitionError(`replyTo('${service}'): answer must be a function`);
  const sink = () => {
    throw new Error(`replyTo('${service}') only answers as the sink of a pipeline: .sink(replyTo('${service}'))`);
  };
  const spec: ReplySpec = { service, answer };
  Object.defineProperty(sink, REPLY_TO, { value: spec });
  Object.defineProperty(sink, "name", { value: `replyTo(${service})` });
  return sink;
}

/** The reply spec of a `replyTo()` sink; undefined for any other function. */
export function replySpecOf(fn: unknown): ReplySpec | undefined {
  return typeof fn === "function" ? ((fn as unknown as Record<symbol, ReplySpec | undefined>)[REPLY_TO]) : undefined;
}

/** The spec of a `fromService` source; undefined for any other source. */
export function serviceSourceOf(fn: unknown): ServiceSourceSpec | undefined {
  return fn !== null && typeof fn === "object" ? ((fn as Record<symbol, ServiceSourceSpec | undefined>)[SERVICE_SOURCE]) : undefined;
}

/** Whether `factory` is the one a `fromService` registered (the runtime builds its object). */
export function isPipelineServiceFactory(factory: ServiceFactory): boolean {
  return (factory.definition as unknown as Record<symbol, unknown>)[PIPELINE_FACTORY] === true;
}

/** @internal The source marker and the service factory `fromService(name, options)` records. */
export function declarePipelineService(name: string, options: FromServiceOptions): { source: object; factory: ServiceFactory } {
  if (typeof name !== "string" || name.trim() === "") throw new PipelineDefinitionError("fromService() needs a non-empty service name");
  validateFromServiceOptions(name, options);
  const spec: ServiceSourceSpec = { service: name, maxPending: options.maxPending ?? DEFAULT_MAX_PENDING };
  const source = Object.defineProperty({}, SERVICE_SOURCE, { value: spec });
  const definition = () => {
    throw new Error(`service '${name}' is served by a pipeline: only the job's runtime creates it`);
  };
  Object.defineProperty(definition, PIPELINE_FACTORY, { value: true });
  // Calls never queue in the service's mailbox: the requests wait in the pipeline's own bounded queue.
  const factory = new ServiceFactory(name, definition, {
    maxConcurrency: MAX_CONCURRENCY,
    ...(options.timeoutMs !== undefined && { callTimeoutMs: options.timeoutMs }),
  });
  return { source, factory };
}

function validateFromServiceOptions(name: string, options: FromServiceOptions): void {
  if (options === null || typeof options !== "object") throw new PipelineDefinitionError(`fromService('${name}'): options must be an object`);
  const { maxPending, timeoutMs } = options;
  if (maxPending !== undefined && !(Number.isInteger(maxPending) && maxPending >= 1)) {
    throw new PipelineDefinitionError(`fromService('${name}'): maxPending must be a positive integer, got ${String(maxPending)}`);
  }
  if (timeoutMs !== undefined && !(typeof timeoutMs === "number" && timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS)) {
    throw new PipelineDefinitionError(`fromService('${name}'): timeoutMs must be a positive number of milliseconds up to ${MAX_TIMER_MS}, got ${String(timeoutMs)}`);
  }
}
