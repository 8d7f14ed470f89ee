import { ServiceNotFoundError } from "../api/errors.js";
import type { ServiceCallOptions } from "../api/types.js";
import type { ServiceTransport } from "./service-transport.js";

const SERVICE = Symbol("service");
const CALL = Symbol("call");

// Methods not known up front land in this trap: they are called by name, so unknown ones fail
// with a message naming them.
const trap = new Proxy(Object.create(null) as object, {
  get(_target, property, receiver: Record<symbol, unknown>) {
    // Answer "no" to promise and inspection probes, so `await proxy` and console.log work.
    if (typeof property === "symbol" || property === "then" || property === "toJSON") return undefined;
    const service = receiver[SERVICE] as string;
    if (property === "toString") return () => `[service ${service}]`;
    const call = receiver[CALL] as (method: string, args: unknown[]) => unknown;
    return (...args: unknown[]) => call(property, args);
  },
});

// One prototype shared by every proxy, so proxies of the same service share a hidden class and
// `kv.get` stays monomorphic across jobs. It is a plain object in front of the trap: with a
// Proxy as the immediate prototype, V8 takes a slow path even for own properties (2x here).
const fallback = Object.create(trap) as object;

/**
 * The start of every service proxy: methods a transport does not add as own properties fall
 * through to the shared Proxy prototype above and are called by name with `call`.
 */
export function createProxyBase(service: string, call: (method: string, args: unknown[]) => unknown): Record<string, unknown> {
  const proxy = Object.create(fallback) as Record<string | symbol, unknown>;
  proxy[SERVICE] = service;
  proxy[CALL] = call;
  return proxy as Record<string, unknown>;
}

/** The proxy of `service` through `transport`; ServiceNotFoundError for an unknown service. */
export function createServiceProxy(transport: ServiceTransport, service: string, timeoutMs: number): Record<string, unknown> {
  if (!transport.services().includes(service)) throw new ServiceNotFoundError(service, undefined, transport.services());
  return transport.proxy(service, { timeoutMs });
}

/** Caches proxies per service name and timeout, so per-record `ctx.service(name)` costs a map lookup. */
export class ServiceProxyCache {
  readonly #proxies = new Map<string, Record<string, unknown>>();

  constructor(
    private readonly transport: ServiceTransport,
    private readonly defaultTimeoutMs: number,
    /** Per-service call timeouts (a service's `callTimeoutMs`), over the job's default. */
    private readonly serviceTimeouts: ReadonlyMap<string, number> = new Map(),
  ) {}

  /** The proxy of `service`. */
  get(service: string, options?: ServiceCallOptions): Record<string, unknown> {
    // `ctx.service(name)` per record is common: without options it is one map lookup.
    if (options?.timeoutMs === undefined) {
      const proxy = this.#proxies.get(service);
      if (proxy) return proxy;
    }
    const fallback = this.serviceTimeouts.get(service) ?? this.defaultTimeoutMs;
    const timeoutMs = options?.timeoutMs ?? fallback;
    const key = timeoutMs === fallback ? service : `${service}\u0000${timeoutMs}`;
    let proxy = this.#proxies.get(key);
    if (!proxy) this.#proxies.set(key, (proxy = createServiceProxy(this.transport, service, timeoutMs)));
    return proxy;
  }

  /** Calls a method by name. */
  call(service: string, method: string, args: unknown[]): unknown {
    return this.transport.call(service, method, args, { timeoutMs: this.serviceTimeouts.get(service) ?? this.defaultTimeoutMs });
  }
}
