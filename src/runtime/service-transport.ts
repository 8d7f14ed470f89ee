/** Options of one service call. */
export interface CallOptions {
  timeoutMs: number;
}

/**
 * How a service call reaches its instance. The in-process implementation answers a sync method
 * of an idle service directly (no promise); a remote one always answers with a promise.
 */
export interface ServiceTransport {
  /** Calls `method` of `service`; throws ServiceNotFoundError for an unknown service or method. */
  call(service: string, method: string, args: unknown[], options: CallOptions): unknown;
  /** The object `ctx.service(service)` returns: its methods call the service (see createProxyBase). */
  proxy(service: string, options: CallOptions): Record<string, unknown>;
  /** The names of every service reachable through this transport. */
  services(): readonly string[];
}
