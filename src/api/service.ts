import { adoptContext, constructWithContext } from "./context.js";
import { PipelineDefinitionError } from "./errors.js";
import type { Logger, ServiceCallOptions, ServiceContext, ServiceProxy } from "./types.js";
import { validateServiceOptions } from "./validate-options.js";

/**
 * Where BaseService keeps what `incrementMetric()`/`setMetric()` counted, read by the runtime's
 * metrics sampler. A registered symbol: a job's bundle carries its own copy of this package, and
 * the sampler of one copy must read the counters of a service built on another.
 */
export const METRIC_COUNTERS: unique symbol = Symbol.for("sage.serviceMetricCounters") as never;

/** Base of user services: any method is callable from functions; `setup()`/`cleanup()` bracket the job. */
export abstract class BaseService {
  /** The service's context (name, jobId, logger, signal, calls to other services). */
  readonly ctx: ServiceContext;

  constructor() {
    this.ctx = adoptContext(new.target.name);
  }

  /** The job logger, named after this service. */
  get logger(): Logger {
    return this.ctx.logger;
  }

  /** Calls another service. */
  callService<R = unknown>(serviceName: string, method: string, ...args: unknown[]): R | Promise<R> {
    return this.ctx.callService<R>(serviceName, method, ...args);
  }

  /** A typed proxy on another service. */
  service<S = any>(serviceName: string, options?: ServiceCallOptions): ServiceProxy<S> {
    return this.ctx.service<S>(serviceName, options);
  }

  /**
   * Adds `by` (default 1) to this service's metric `name` (`incrementMetric(name, 0)` shows it at
   * 0 from the start). Metrics appear in the job's status as `serviceDetails[].metrics`, next to
   * what a `metrics(): Record<string, number>` method of the service returns (which wins on a
   * shared name). Sampled only when a status is taken: counting costs a Map update.
   */
  protected incrementMetric(name: string, by = 1): void {
    const counters = (this[METRIC_COUNTERS] ??= new Map());
    counters.set(name, (counters.get(name) ?? 0) + by);
  }

  /** Sets this service's metric `name` to `value`: a level (items held, say) rather than a count. */
  protected setMetric(name: string, value: number): void {
    (this[METRIC_COUNTERS] ??= new Map()).set(name, value);
  }

  /** @internal What incrementMetric() and setMetric() recorded (created on first use). */
  declare [METRIC_COUNTERS]?: Map<string, number>;

  // A subclass may declare `static serviceOptions: ServiceOptions`: defaults of registerService's
  // options for it (e.g. a client of an HTTP API that should take many calls at once).
  // Lifecycle hooks are not declared here, so subclasses need no `override`: define `setup()`
  // (awaited before any record flows) and/or `cleanup()` (awaited when the job ends, under a timeout).
  // Nor is `metrics()`, for the same reason: the runtime calls it when a service defines it.
}

/** A service class (constructed with `args`) or a factory function returning the service object. */
export type ServiceDefinition =
  | (new (...args: any[]) => object)
  | ((ctx: ServiceContext) => object | Promise<object>);

/** Options of `registerService`. */
export interface ServiceOptions {
  /** Constructor arguments of a service class. */
  args?: unknown[];
  /** Calls handled at once (default 1, like an actor). */
  maxConcurrency?: number;
  /** Place the service on a cluster worker (distributed mode). */
  remote?: boolean;
  /** Default timeout of calls to this service. */
  callTimeoutMs?: number;
  /** Limits of setup() and cleanup(). */
  setupTimeoutMs?: number;
  cleanupTimeoutMs?: number;
}

/** Builds the instance of one registered service. */
export class ServiceFactory {
  /** The registration's options over the definition's own defaults (its static `serviceOptions`). */
  readonly options: ServiceOptions;

  constructor(
    readonly name: string,
    readonly definition: ServiceDefinition,
    options: ServiceOptions = {},
  ) {
    if (!name || typeof name !== "string") throw new PipelineDefinitionError("a service needs a non-empty name");
    if (typeof definition !== "function") {
      throw new PipelineDefinitionError(`service '${name}' must be a class or a factory function, got ${typeof definition}`);
    }
    validateServiceOptions(options, name);
    const defaults = (definition as { serviceOptions?: ServiceOptions }).serviceOptions;
    this.options = defaults === undefined ? options : { ...defaults, ...withoutUndefined(options) };
  }

  /** Whether the service is placed on a cluster worker. */
  get remote(): boolean {
    return this.options.remote === true;
  }

  /**
   * @internal Like create(), but a class is constructed at once rather than in a promise: a
   * service whose start awaits nothing starts without a timer for its time limit.
   */
  instantiate(ctx: ServiceContext): object | Promise<object> {
    // `new` always gives an object: create()'s check of a factory's result has nothing to catch here.
    return isClass(this.definition) ? this.#construct(ctx) : this.create(ctx);
  }

  /** Creates the instance with `ctx` injected (visible in the constructor too). */
  async create(ctx: ServiceContext): Promise<object> {
    const definition = this.definition;
    const instance = isClass(definition)
      ? this.#construct(ctx)
      : await constructWithContext(ctx, () => (definition as (ctx: ServiceContext) => object | Promise<object>)(ctx));
    if (instance === null || typeof instance !== "object") {
      throw new TypeError(`service '${this.name}' factory returned ${instance === null ? "null" : typeof instance}, not an object`);
    }
    return instance;
  }

  // The service class constructed with its args, `ctx` injected.
  #construct(ctx: ServiceContext): object {
    const Class = this.definition as new (...args: any[]) => object;
    return constructWithContext(ctx, () => new Class(...(this.options.args ?? [])));
  }
}

// `{ maxConcurrency: undefined }` keeps the definition's default rather than erasing it.
function withoutUndefined(options: ServiceOptions): ServiceOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as ServiceOptions;
}

/** Whether `fn` is a class (to be constructed) rather than a plain function (to be called). */
export function isClass(fn: Function): boolean {
  if (fn.prototype === undefined) return false; // arrow, method or async function
  const source = Function.prototype.toString.call(fn);
  if (source.startsWith("class")) return true;
  // Built-ins (String, Boolean, Number, ...) are called, not constructed: `.map(String)`.
  if (source.endsWith("{ [native code] }")) return false;
  return Object.getOwnPropertyNames(fn.prototype).length > 1; // an ES5 constructor with methods
}
