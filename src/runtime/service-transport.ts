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
  /** A caller of one method, resolved once (service proxies hold these); throws like `call`. */
  bind(service: string, method: string, options: CallOptions): (...args: unknown[]) => unknown;
  /** The callable methods of `service` when known (used to build fast proxies), else undefined. */
  methodsOf(service: string): readonly string[] | undefined;
  /** The names of every service reachable through this transport. */
  services(): readonly string[];
}
