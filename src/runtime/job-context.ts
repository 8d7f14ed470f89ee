import { createLogger, type LogSink } from "../api/logger.js";
import type { FunctionContext, LogLevel, ServiceCallOptions, ServiceContext } from "../api/types.js";
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

/** The context of a service instance. */
export function serviceContext(scope: JobScope, name: string): ServiceContext {
  // `ctx.service("kv")` inside a per-record function: the last proxy is kept at hand.
  let lastName: string | undefined;
  let lastProxy: unknown;
  return {
    name,
    jobId: scope.jobId,
    logger: createLogger(name, scope.logLevel, scope.logSink),
    signal: scope.signal,
    service: (service: string, options?: ServiceCallOptions) => {
      if (options === undefined && service === lastName) return lastProxy as any;
      const proxy = scope.proxies.get(service, options);
      if (options === undefined) {
        lastName = service;
        lastProxy = proxy;
      }
      return proxy as any;
    },
    callService: (service: string, method: string, ...args: unknown[]) => scope.proxies.call(service, method, args) as any,
  };
}

/** The context of one operator instance, named `<operator>_<index>`. */
export function functionContext(scope: JobScope, operator: string, instanceIndex: number, parallelism: number): FunctionContext {
  return { ...serviceContext(scope, `${operator}_${instanceIndex}`), instanceIndex, parallelism };
}
