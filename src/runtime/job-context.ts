import type { LogFields } from "../api/log-fields.js";
import { createLogger, type LogSink } from "../api/logger.js";
import type { FunctionContext, Logger, LogLevel, ServiceCallOptions, ServiceContext, ServiceProxy } from "../api/types.js";
import { validateServiceCallOptions } from "../api/validate-options.js";
import type { ServiceProxyCache } from "./service-proxy.js";

/** What every context of one job shares. */
export interface JobScope {
  readonly jobId: string;
  readonly logLevel: LogLevel;
  readonly logSink: LogSink;
  /** Fires when the job is aborted. */
  readonly signal: AbortSignal;
  readonly proxies: ServiceProxyCache;
}

/**
 * The context of a service instance or of one operator instance. Its methods live on the
 * prototype, so `ctx.service(name)` in user code calls one function for every context of every
 * job: the call stays monomorphic and V8 inlines it, down to a comparison with the last name
 * asked for and a field load.
 */
class RuntimeContext implements ServiceContext {
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly jobId: string;
  readonly #proxies: ServiceProxyCache;
  // `ctx.service("kv")` inside a per-record function: the last proxy is kept at hand.
  #lastName: string | undefined = undefined;
  #lastProxy: unknown = undefined;

  constructor(
    scope: JobScope,
    readonly name: string,
    fields: LogFields,
  ) {
    this.jobId = scope.jobId;
    this.logger = createLogger(name, scope.logLevel, scope.logSink, fields);
    this.signal = scope.signal;
    this.#proxies = scope.proxies;
  }

  service<S = any>(service: string, options?: ServiceCallOptions): ServiceProxy<S> {
    if (this === undefined) throw detached("service");
    if (service === this.#lastName && options === undefined) return this.#lastProxy as ServiceProxy<S>;
    return this.#lookUp(service, options) as ServiceProxy<S>;
  }

  #lookUp(service: string, options: ServiceCallOptions | undefined): unknown {
    validateServiceCallOptions(options, service);
    const proxy = this.#proxies.get(service, options);
    if (options === undefined) {
      this.#lastName = service;
      this.#lastProxy = proxy;
    }
    return proxy;
  }

  callService<R = unknown>(service: string, method: string, ...args: unknown[]): R | Promise<R> {
    if (this === undefined) throw detached("callService");
    return this.#proxies.call(service, method, args) as R | Promise<R>;
  }
}

function detached(method: string): TypeError {
  return new TypeError(`ctx.${method}() was called without its context: call it as ctx.${method}(...), not as a detached function`);
}

class RuntimeFunctionContext extends RuntimeContext implements FunctionContext {
  constructor(
    scope: JobScope,
    name: string,
    operator: string,
    readonly instanceIndex: number,
    readonly parallelism: number,
  ) {
    super(scope, name, { operator });
  }
}

/** The context of a service instance. */
export function serviceContext(scope: JobScope, name: string): ServiceContext {
  return new RuntimeContext(scope, name, { service: name });
}

/** The context of one operator instance, named `<operator>_<index>`. */
export function functionContext(scope: JobScope, operator: string, instanceIndex: number, parallelism: number): FunctionContext {
  return new RuntimeFunctionContext(scope, `${operator}_${instanceIndex}`, operator, instanceIndex, parallelism);
}
