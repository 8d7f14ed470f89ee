import { describe, expect, it } from "vitest";
import { ServiceNotFoundError } from "../index.js";
import { createProxyBase, ServiceProxyCache } from "./service-proxy.js";
import type { CallOptions, ServiceTransport } from "./service-transport.js";
import { functionContext, serviceContext, type JobScope } from "./job-context.js";

/** A transport whose proxies record the timeout they were made with; counts proxy creations. */
class FakeTransport implements ServiceTransport {
  made = 0;
  call(service: string, method: string): unknown {
    return `${service}.${method}`;
  }
  proxy(service: string, options: CallOptions): Record<string, unknown> {
    this.made++;
    const proxy = createProxyBase(service, () => undefined);
    proxy.service = service;
    proxy.timeoutMs = options.timeoutMs;
    return proxy;
  }
  services(): readonly string[] {
    return ["a", "b"];
  }
}

function scopeOf(transport: ServiceTransport): JobScope {
  return {
    jobId: "job-1",
    logLevel: "error",
    logSink: () => {},
    signal: new AbortController().signal,
    proxies: new ServiceProxyCache(transport, 1000),
  };
}

describe("ctx.service", () => {
  it("answers two services asked for alternately with each one's own proxy", () => {
    const ctx = functionContext(scopeOf(new FakeTransport()), "map", 0, 1);

    const seen = [ctx.service("a"), ctx.service("b"), ctx.service("a"), ctx.service("b")].map((p) => p.service);

    expect(seen).toEqual(["a", "b", "a", "b"]);
    expect(ctx.service("a")).toBe(ctx.service("a"));
  });

  it("does not serve a call with options from the option-less cache, nor let it replace that cache", () => {
    const transport = new FakeTransport();
    const ctx = functionContext(scopeOf(transport), "map", 0, 1);
    const plain = ctx.service("a");

    const short = ctx.service("a", { timeoutMs: 5 });

    expect(plain.timeoutMs).toBe(1000);
    expect(short.timeoutMs).toBe(5);
    expect(short).not.toBe(plain);
    expect(ctx.service("a")).toBe(plain);
    expect(ctx.service("a", { timeoutMs: 5 })).toBe(short);
  });

  it("fails an unknown service every time, and a failed lookup does not disturb the last one", () => {
    const ctx = functionContext(scopeOf(new FakeTransport()), "map", 0, 1);
    const a = ctx.service("a");

    expect(() => ctx.service("nope")).toThrow(ServiceNotFoundError);
    expect(() => ctx.service("nope")).toThrow(ServiceNotFoundError);
    expect(ctx.service("a")).toBe(a);
  });

  it("shares one proxy per service among the contexts of a job", () => {
    const transport = new FakeTransport();
    const scope = scopeOf(transport);
    const first = functionContext(scope, "map", 0, 2);
    const second = functionContext(scope, "map", 1, 2);

    expect(first.service("a")).toBe(second.service("a"));
    expect(transport.made).toBe(1);
  });

  it("calls one shared function for every context, so a call site in user code stays monomorphic", () => {
    const scope = scopeOf(new FakeTransport());
    const contexts = [functionContext(scope, "map", 0, 1), functionContext(scope, "sink", 0, 1), serviceContext(scope, "a")];

    expect(new Set(contexts.map((c) => c.service)).size).toBe(1);
    expect(new Set(contexts.map((c) => c.callService)).size).toBe(1);
    expect(contexts.map((c) => c.name)).toEqual(["map_0", "sink_0", "a"]);
    expect(contexts[0]).toMatchObject({ jobId: "job-1", instanceIndex: 0, parallelism: 1 });
  });

  it("names the mistake when service() is called detached from its context", () => {
    const { service, callService } = functionContext(scopeOf(new FakeTransport()), "map", 0, 1);

    expect(() => service("a")).toThrow(/ctx\.service\(\) was called without its context/);
    expect(() => callService("a", "get")).toThrow(/ctx\.callService\(\) was called without its context/);
  });
});
