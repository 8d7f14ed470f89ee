import { ServiceNotFoundError } from "../api/errors.js";
import type { ServiceCallOptions } from "../api/types.js";
import type { ServiceTransport } from "./service-transport.js";

/**
 * Builds the object `ctx.service(name)` returns. Known methods are own properties (a plain call,
 * no Proxy trap on the hot path); anything else falls through to a Proxy prototype that calls
 * the method by name, so remote services and late-defined methods still work, and unknown ones
 * fail with a message naming them.
 */
export function createServiceProxy(transport: ServiceTransport, service: string, timeoutMs: number): Record<string, unknown> {
  if (!transport.services().includes(service)) throw new ServiceNotFoundError(service, undefined, transport.services());
  const options = { timeoutMs };
  const fallback = new Proxy(Object.create(null) as object, {
    get(_target, property) {
      // Answer "no" to promise and inspection probes, so `await proxy` and console.log work.
      if (typeof property === "symbol" || property === "then" || property === "toJSON") return undefined;
      if (property === "toString") return () => `[service ${service}]`;
      return (...args: unknown[]) => transport.call(service, property, args, options);
    },
  });
  const proxy = Object.create(fallback) as Record<string, unknown>;
  for (const method of transport.methodsOf(service) ?? []) {
    proxy[method] = transport.bind(service, method, options);
  }
  return proxy;
}

/** Caches proxies per service name and timeout, so per-record `ctx.service(name)` costs a map lookup. */
export class ServiceProxyCache {
  readonly #proxies = new Map<string, Record<string, unknown>>();

  constructor(
    private readonly transport: ServiceTransport,
    private readonly defaultTimeoutMs: number,
  ) {}

  /** The proxy of `service`. */
  get(service: string, options?: ServiceCallOptions): Record<string, unknown> {
    const timeoutMs = options?.timeoutMs ?? this.defaultTimeoutMs;
    const key = timeoutMs === this.defaultTimeoutMs ? service : `${service}\u0000${timeoutMs}`;
    let proxy = this.#proxies.get(key);
    if (!proxy) this.#proxies.set(key, (proxy = createServiceProxy(this.transport, service, timeoutMs)));
    return proxy;
  }

  /** Calls a method by name. */
  call(service: string, method: string, args: unknown[]): unknown {
    return this.transport.call(service, method, args, { timeoutMs: this.defaultTimeoutMs });
  }
}
