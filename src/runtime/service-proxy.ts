import { ServiceNotFoundError } from "../api/errors.js";
import type { ServiceCallOptions } from "../api/types.js";
import type { ServiceTransport } from "./service-transport.js";

const SERVICE = Symbol("service");
const CALL = Symbol("call");

// One prototype shared by every proxy, so proxies of the same service share a hidden class and
// the property access `kv.get` stays monomorphic across jobs. Methods not known up front land
// here: they are called by name, so unknown ones fail with a message naming them.
const fallback = new Proxy(Object.create(null) as object, {
  get(_target, property, receiver: Record<symbol, unknown>) {
    // Answer "no" to promise and inspection probes, so `await proxy` and console.log work.
    if (typeof property === "symbol" || property === "then" || property === "toJSON") return undefined;
    const service = receiver[SERVICE] as string;
    if (property === "toString") return () => `[service ${service}]`;
    const call = receiver[CALL] as (method: string, args: unknown[]) => unknown;
    return (...args: unknown[]) => call(property, args);
  },
});

/**
 * Builds the object `ctx.service(name)` returns. Known methods are own properties holding the
 * transport's compiled callers (a plain call, no Proxy trap on the hot path); anything else falls
 * through to the shared Proxy prototype above.
 */
export function createServiceProxy(transport: ServiceTransport, service: string, timeoutMs: number): Record<string, unknown> {
  if (!transport.services().includes(service)) throw new ServiceNotFoundError(service, undefined, transport.services());
  const options = { timeoutMs };
  const proxy = Object.create(fallback) as Record<string | symbol, unknown>;
  proxy[SERVICE] = service;
  proxy[CALL] = (method: string, args: unknown[]) => transport.call(service, method, args, options);
  for (const method of transport.methodsOf(service) ?? []) proxy[method] = transport.bind(service, method, options);
  return proxy as Record<string, unknown>;
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
