import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { BaseService, ServiceFactory, ServiceNotFoundError } from "../index.js";
import type { ServiceContext } from "../api/types.js";
import { LocalServiceTransport } from "./local-service-transport.js";
import { ServiceHost } from "./service-host.js";
import { createProxyBase, createServiceProxy, ServiceProxyCache } from "./service-proxy.js";
import type { CallOptions, ServiceTransport } from "./service-transport.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function context(name: string): ServiceContext {
  const none = (): never => {
    throw new Error("no services in this test");
  };
  return { name, jobId: "job-1", logger: silent, signal: new AbortController().signal, service: none, callService: none };
}

class Counter extends BaseService {
  #count = 0;
  increment(by = 1): number {
    this.#count += by;
    return this.#count;
  }
  async total(): Promise<number> {
    return this.#count;
  }
}

async function localTransport(): Promise<LocalServiceTransport> {
  const transport = new LocalServiceTransport();
  const host = new ServiceHost(new ServiceFactory("counter", Counter), context("counter"));
  await host.setup(1000);
  transport.add(host);
  return transport;
}

/** A transport that knows no method names up front (like a remote one) and records every call. */
class RecordingTransport implements ServiceTransport {
  readonly calls: Array<{ service: string; method: string; args: unknown[]; options: CallOptions }> = [];
  constructor(private readonly methods?: string[]) {}
  call(service: string, method: string, args: unknown[], options: CallOptions): unknown {
    this.calls.push({ service, method, args, options });
    return Promise.resolve(`${method}:${args.join(",")}`);
  }
  proxy(service: string, options: CallOptions): Record<string, unknown> {
    const proxy = createProxyBase(service, (method, args) => this.call(service, method, args, options));
    for (const method of this.methods ?? []) proxy[method] = (...args: unknown[]) => this.call(service, method, args, options);
    return proxy;
  }
  services(): readonly string[] {
    return ["remote"];
  }
}

describe("createServiceProxy", () => {
  it("exposes the service's known methods as own properties", async () => {
    const proxy = createServiceProxy(await localTransport(), "counter", 1000);

    expect(Object.keys(proxy).sort()).toEqual(["increment", "total"]);
    expect(Object.hasOwn(proxy, "increment")).toBe(true);
    expect(typeof proxy.increment).toBe("function");
  });

  it("answers a sync method of an idle local service directly and an async one with a promise", async () => {
    const proxy = createServiceProxy(await localTransport(), "counter", 1000) as {
      increment(by?: number): unknown;
      total(): unknown;
    };

    expect(proxy.increment(2)).toBe(2);
    const total = proxy.total();
    expect(total).toBeInstanceOf(Promise);
    expect(await total).toBe(2);
  });

  it("fails an unknown method through the fallback with a ServiceNotFoundError naming it", async () => {
    const proxy = createServiceProxy(await localTransport(), "counter", 1000) as Record<string, (...args: unknown[]) => unknown>;

    expect(Object.hasOwn(proxy, "reset")).toBe(false);
    expect(typeof proxy.reset).toBe("function");
    expect(() => proxy.reset!()).toThrow(ServiceNotFoundError);
    expect(() => proxy.reset!()).toThrow("service 'counter' has no method 'reset'");
  });

  it("refuses a service that is not registered, listing the registered ones", async () => {
    const transport = await localTransport();

    expect(() => createServiceProxy(transport, "cache", 1000)).toThrow(ServiceNotFoundError);
    expect(() => createServiceProxy(transport, "cache", 1000)).toThrow("service 'cache' is not registered (registered: counter)");
  });

  it("can be awaited without hanging, because it has no then", async () => {
    const proxy = createServiceProxy(await localTransport(), "counter", 1000);

    expect(proxy.then).toBeUndefined();
    expect(await proxy).toBe(proxy);
    await expect(Promise.resolve(proxy)).resolves.toBe(proxy);
  });

  it("answers symbol and toJSON probes with undefined, so it can be inspected and serialized", async () => {
    const proxy = createServiceProxy(await localTransport(), "counter", 1000);

    expect((proxy as Record<symbol, unknown>)[Symbol.iterator]).toBeUndefined();
    expect((proxy as Record<symbol, unknown>)[Symbol.toPrimitive]).toBeUndefined();
    expect(proxy.toJSON).toBeUndefined();
    expect(() => inspect(proxy)).not.toThrow();
    expect(JSON.stringify(proxy)).toBe("{}");
  });

  it("routes every method through the transport by name when the methods are not known up front", async () => {
    const transport = new RecordingTransport(undefined);
    const proxy = createServiceProxy(transport, "remote", 250) as Record<string, (...args: unknown[]) => unknown>;

    expect(Object.keys(proxy)).toEqual([]);
    expect(await proxy.embed!("a", 1)).toBe("embed:a,1");
    expect(await proxy.search!()).toBe("search:");
    expect(transport.calls).toEqual([
      { service: "remote", method: "embed", args: ["a", 1], options: { timeoutMs: 250 } },
      { service: "remote", method: "search", args: [], options: { timeoutMs: 250 } },
    ]);
  });

  it("binds known methods with the proxy's timeout", async () => {
    const transport = new RecordingTransport(["ask"]);
    const proxy = createServiceProxy(transport, "remote", 42) as Record<string, (...args: unknown[]) => unknown>;

    await proxy.ask!("q");

    expect(Object.keys(proxy)).toEqual(["ask"]);
    expect(transport.calls).toEqual([{ service: "remote", method: "ask", args: ["q"], options: { timeoutMs: 42 } }]);
  });
});

describe("ServiceProxyCache", () => {
  it("returns the same proxy for the same service and timeout", async () => {
    const cache = new ServiceProxyCache(await localTransport(), 1000);

    expect(cache.get("counter")).toBe(cache.get("counter"));
    expect(cache.get("counter", { timeoutMs: 1000 })).toBe(cache.get("counter"));
  });

  it("returns a separate proxy for another timeout", async () => {
    const transport = new RecordingTransport(undefined);
    const cache = new ServiceProxyCache(transport, 1000);

    const fast = cache.get("remote", { timeoutMs: 5 }) as Record<string, (...args: unknown[]) => unknown>;
    await fast.ping!();

    expect(fast).not.toBe(cache.get("remote"));
    expect(transport.calls[0]!.options).toEqual({ timeoutMs: 5 });
  });

  it("calls a method by name with the default timeout", async () => {
    const transport = new RecordingTransport(undefined);
    const cache = new ServiceProxyCache(transport, 1234);

    expect(await cache.call("remote", "find", ["x"])).toBe("find:x");
    expect(transport.calls).toEqual([{ service: "remote", method: "find", args: ["x"], options: { timeoutMs: 1234 } }]);
  });

  it("does not cache a failed lookup of an unknown service", async () => {
    const cache = new ServiceProxyCache(await localTransport(), 1000);

    expect(() => cache.get("missing")).toThrow(ServiceNotFoundError);
    expect(() => cache.get("missing")).toThrow(ServiceNotFoundError);
  });
});
