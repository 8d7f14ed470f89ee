import { describe, expect, it } from "vitest";
import {
  BaseService,
  ServiceCallError,
  ServiceCallTimeoutError,
  ServiceFactory,
  ServiceNotFoundError,
  type ServiceContext,
  type ServiceOptions,
} from "../index.js";
import { CALL_ABANDONED, isInProcessProxy, ServiceHost } from "./service-host.js";
import { createProxyBase } from "./service-proxy.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function context(name: string): ServiceContext {
  const noServices = (): never => {
    throw new Error("no services in this test");
  };
  return { name, jobId: "job-1", logger: silent, signal: new AbortController().signal, service: noServices, callService: noServices };
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T = unknown>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function startHost(
  name: string,
  definition: ConstructorParameters<typeof ServiceFactory>[1],
  options: ServiceOptions = {},
): Promise<ServiceHost> {
  const host = new ServiceHost(new ServiceFactory(name, definition, options), context(name));
  await host.setup(1000);
  return host;
}

/** A service whose async calls wait until the test releases them, counting concurrent calls. */
class Gate extends BaseService {
  /** The most recently constructed gate (the host keeps its instance private). */
  static latest: Gate;
  active = 0;
  maxActive = 0;
  order: number[] = [];
  pending: Array<Deferred<void>> = [];

  constructor() {
    super();
    Gate.latest = this;
  }

  async work(n: number): Promise<number> {
    this.order.push(n);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    const gate = deferred<void>();
    this.pending.push(gate);
    await gate.promise;
    this.active--;
    return n * 10;
  }

  now(n: number): number {
    this.order.push(n);
    return n;
  }
}

/** Releases every call currently waiting at the gate. */
function openGate(gate: Gate): void {
  for (const d of gate.pending.splice(0)) d.resolve();
}

async function runAll(gate: Gate, calls: Array<Promise<unknown>>): Promise<unknown[]> {
  let settled = false;
  const all = Promise.all(calls).finally(() => (settled = true));
  while (!settled) {
    openGate(gate);
    await flush();
  }
  return all;
}

class Calculator extends BaseService {
  add(a: number, b: number): number {
    return a + b;
  }
  async addLater(a: number, b: number): Promise<number> {
    await Promise.resolve();
    return a + b;
  }
  fail(): never {
    throw new TypeError("bad input");
  }
  async failLater(): Promise<never> {
    throw new RangeError("too far");
  }
  whoAmI(): string {
    return this.ctx.name;
  }
}

describe("ServiceHost", () => {
  it("sets the instance up and lists its public methods", async () => {
    const host = await startHost("calc", Calculator);

    expect(host.state).toBe("running");
    expect(host.name).toBe("calc");
    expect(host.methodNames.sort()).toEqual(["add", "addLater", "fail", "failLater", "whoAmI"]);
  });

  it("injects the service context into the instance", async () => {
    const host = await startHost("calc", Calculator);

    expect(host.call("whoAmI", [], 1000)).toBe("calc");
  });

  it("constructs a service class with its args and awaits setup() before running", async () => {
    const events: string[] = [];
    class Store extends BaseService {
      constructor(readonly prefix: string) {
        super();
      }
      async setup(): Promise<void> {
        await flush();
        events.push("setup");
      }
      get(key: string): string {
        return `${this.prefix}${key}`;
      }
    }
    const host = new ServiceHost(new ServiceFactory("store", Store, { args: ["p:"] }), context("store"));

    const started = host.setup(1000);
    expect(host.state).toBe("starting");
    await started;

    expect(events).toEqual(["setup"]);
    expect(host.call("get", ["k"], 1000)).toBe("p:k");
  });

  it("hosts the object a factory function returns", async () => {
    const host = await startHost("kv", (ctx) => ({ owner: () => ctx.name, size: () => 3 }));

    expect(host.methodNames.sort()).toEqual(["owner", "size"]);
    expect(host.call("owner", [], 1000)).toBe("kv");
  });

  it("returns the value of a sync method of an idle service directly, not a promise", async () => {
    const host = await startHost("calc", Calculator);

    const result = host.call("add", [2, 3], 1000);

    expect(result).toBe(5);
    expect((host.createProxy(1000) as { add(a: number, b: number): unknown }).add(4, 5)).toBe(9);
  });

  it("returns a promise for an async method", async () => {
    const host = await startHost("calc", Calculator);

    const result = host.call("addLater", [2, 3], 1000);

    expect(result).toBeInstanceOf(Promise);
    await expect(result).resolves.toBe(5);
  });

  it("counts calls", async () => {
    const host = await startHost("calc", Calculator);
    host.call("add", [1, 1], 1000);
    await host.call("addLater", [1, 1], 1000);

    expect(host.calls).toBe(2);
  });

  describe("a proxy's method callers", () => {
    class Shapes extends BaseService {
      sum(...values: number[]): number {
        return values.reduce((a, b) => a + b, 0);
      }
      scaled(value: number, factor = 10): number {
        return value * factor;
      }
      count(): number {
        // eslint-disable-next-line prefer-rest-params
        return arguments.length;
      }
      box(value: number): { value: number } {
        return { value };
      }
      thenable(value: number): PromiseLike<number> {
        return { then: (resolve: (v: number) => void) => resolve(value * 2) } as PromiseLike<number>;
      }
      fn(): () => number {
        return () => 7;
      }
    }
    type ShapesProxy = { [K in "sum" | "scaled" | "count" | "box" | "thenable" | "fn"]: (...args: unknown[]) => unknown };

    it("pass every argument to a method whose declared length is not its argument count (rest, defaults, arguments)", async () => {
      const proxy = (await startHost("shapes", Shapes)).createProxy(1000) as ShapesProxy;

      expect(proxy.sum(1, 2, 3, 4)).toBe(10);
      expect(proxy.sum()).toBe(0);
      expect(proxy.scaled(2)).toBe(20);
      expect(proxy.scaled(2, 3)).toBe(6);
      expect(proxy.count(1, 2, 3)).toBe(3);
      expect(proxy.count()).toBe(0);
    });

    it("return an object or a function as is, and track a thenable that is not a Promise", async () => {
      const host = await startHost("shapes", Shapes);
      const proxy = host.createProxy(1000) as ShapesProxy;

      expect(proxy.box(3)).toEqual({ value: 3 });
      expect((proxy.fn() as () => number)()).toBe(7);
      const tracked = proxy.thenable(4);
      expect(tracked).toBeInstanceOf(Promise);
      await expect(tracked).resolves.toBe(8);
      expect(host.calls).toBe(3);
    });

    it("fail a call whose answer has a `then` that throws when read, with a ServiceCallError, counted", async () => {
      class Trap extends BaseService {
        trap(): object {
          return Object.defineProperty({}, "then", {
            get() {
              throw new RangeError("no then here");
            },
          });
        }
      }
      const host = await startHost("trap", Trap);
      const proxy = host.createProxy(1000) as { trap(): unknown };

      expect(() => proxy.trap()).toThrow(ServiceCallError);
      expect(() => host.call("trap", [], 1000)).toThrow(ServiceCallError);
      expect(host.sampleCalls().errors).toBe(2);
    });

    it("say how to call a method that was taken off its proxy, and refuse one called on another object", async () => {
      const proxy = (await startHost("shapes", Shapes)).createProxy(1000) as ShapesProxy;
      const { box } = proxy;

      expect(() => box(1)).toThrow(/box\(\) was called without its proxy: call it as proxy\.box\(\.\.\.\)/);
      expect(() => box.call({}, 1)).toThrow(/box\(\) was called without its proxy/);
      expect(() => box.call(5, 1)).toThrow(/box\(\) was called without its proxy/);
    });
  });

  it("fails only the queued call whose answer has a `then` that throws when read; the call before it answers", async () => {
    class Busy extends BaseService {
      async slow(): Promise<string> {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return "slow done";
      }
      trap(): object {
        return Object.defineProperty({}, "then", {
          get() {
            throw new RangeError("no then here");
          },
        });
      }
    }
    const host = await startHost("busy", Busy);
    const first = host.call("slow", [], 1000) as Promise<string>;
    const queued = host.call("trap", [], 300) as Promise<unknown>; // busy: it waits in the mailbox

    await expect(first).resolves.toBe("slow done");
    await expect(queued).rejects.toBeInstanceOf(ServiceCallError);
    expect(host.sampleCalls().errors).toBe(1);
  });

  it("runs one call at a time by default, queueing the rest in order", async () => {
    const host = await startHost("gate", Gate);
    const gate = Gate.latest;

    const calls = [1, 2, 3, 4, 5].map((n) => host.call("work", [n], 1000) as Promise<number>);
    const results = await runAll(gate, calls);

    expect(results).toEqual([10, 20, 30, 40, 50]);
    expect(gate.maxActive).toBe(1);
    expect(gate.order).toEqual([1, 2, 3, 4, 5]);
  });

  it("answers a sync method of a busy service with a promise, after the calls before it", async () => {
    const host = await startHost("gate", Gate);
    const gate = Gate.latest;
    const busy = host.call("work", [1], 1000) as Promise<number>;

    const queued = host.call("now", [2], 1000);

    expect(queued).toBeInstanceOf(Promise);
    expect(gate.order).toEqual([1]);
    expect(await runAll(gate, [busy, queued as Promise<unknown>])).toEqual([10, 2]);
    expect(gate.order).toEqual([1, 2]);
  });

  // Regression: #settled() once dispatched queued calls recursively (#settled -> #run -> #settled
  // per sync method), so a few thousand sync calls queued behind an async call overflowed the
  // stack: some rejected with "Maximum call stack size exceeded", some never settled.
  it("settles every one of thousands of sync calls queued behind an async call", async () => {
    const host = await startHost("gate", Gate);
    const gate = Gate.latest;
    const busy = host.call("work", [0], Infinity) as Promise<number>;
    const count = 10_000;
    let fulfilled = 0;
    let rejected = 0;
    for (let n = 1; n <= count; n++) {
      (host.call("now", [n], Infinity) as Promise<number>).then(
        () => fulfilled++,
        () => rejected++,
      );
    }

    openGate(gate);
    await busy;
    await flush();

    expect({ fulfilled, rejected }).toEqual({ fulfilled: count, rejected: 0 });
  });

  it("resumes the callers of queued sync calls in the order they called", async () => {
    const host = await startHost("gate", Gate);
    const gate = Gate.latest;
    const busy = host.call("work", [0], 1000) as Promise<number>;
    const resumed: number[] = [];
    const queued = [1, 2, 3, 4].map((n) => (host.call("now", [n], 1000) as Promise<number>).then((v) => resumed.push(v)));

    await runAll(gate, [busy, ...queued]);

    expect(gate.order).toEqual([0, 1, 2, 3, 4]);
    expect(resumed).toEqual([1, 2, 3, 4]);
  });

  it.each([2, 3])("runs up to maxConcurrency=%i calls at once", async (maxConcurrency) => {
    const host = await startHost("gate", Gate, { maxConcurrency });
    const gate = Gate.latest;

    const calls = Array.from({ length: 7 }, (_, n) => host.call("work", [n], 1000) as Promise<number>);
    await flush();
    expect(gate.active).toBe(maxConcurrency);
    const results = await runAll(gate, calls);

    expect(results).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(gate.maxActive).toBe(maxConcurrency);
  });

  it("times out a queued call with a ServiceCallTimeoutError naming the service and method", async () => {
    const host = await startHost("gate", Gate);
    const gate = Gate.latest;
    const busy = host.call("work", [1], 1000) as Promise<number>;

    const queued = host.call("work", [2], 20) as Promise<number>;

    const error = await queued.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceCallTimeoutError);
    expect(error).toMatchObject({ service: "gate", method: "work", timeoutMs: 20, code: "E_SERVICE_CALL_TIMEOUT" });
    expect((error as Error).message).toContain("gate.work()");
    expect(await runAll(gate, [busy])).toEqual([10]);
    expect(gate.order).toEqual([1]);
  });

  it("times out a running async call that does not answer in time", async () => {
    const host = await startHost("gate", Gate);
    const gate = Gate.latest;

    const error = await (host.call("work", [1], 15) as Promise<number>).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ServiceCallTimeoutError);
    expect(error).toMatchObject({ service: "gate", method: "work" });
    openGate(gate);
  });

  it("tells a method's promise when its caller gave up (CALL_ABANDONED), through a proxy and when queued; never once it answered", async () => {
    const told: string[] = [];
    class Marked extends BaseService {
      call(label: string, ms: number): Promise<string> {
        const answer = new Promise<string>((resolve) => setTimeout(() => resolve(label), ms));
        Object.defineProperty(answer, CALL_ABANDONED, { value: () => told.push(label) });
        return answer;
      }
    }
    const host = await startHost("marked", Marked, { maxConcurrency: 1 });
    const proxy = host.createProxy(30) as { call(label: string, ms: number): Promise<string> };
    const direct = proxy.call("direct", 200).catch((e: unknown) => e); // the fast path
    const queued = proxy.call("queued", 10).catch((e: unknown) => e); // waits behind it, then runs
    expect(await direct).toBeInstanceOf(ServiceCallTimeoutError);
    expect(told).toEqual(["direct"]);
    expect(await queued).toBeInstanceOf(ServiceCallTimeoutError); // its limit ran out in the queue
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await (host.call("call", ["in time", 1], 1000) as Promise<string>)).toBe("in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(told).toEqual(["direct"]); // a queued call that never ran has nothing to abandon
  });

  it("says whether a proxy reaches its instance in this process", async () => {
    const host = await startHost("calc", Calculator);
    expect(isInProcessProxy(host.createProxy(1000))).toBe(true);
    expect(isInProcessProxy(createProxyBase("elsewhere", () => undefined))).toBe(false);
  });

  it("throws ServiceNotFoundError naming an unknown method and the known ones", async () => {
    const host = await startHost("calc", Calculator);

    let error: unknown;
    try {
      host.call("divide", [1, 2], 1000);
    } catch (e) {
      error = e;
    }

    expect(error).toBeInstanceOf(ServiceNotFoundError);
    expect(error).toMatchObject({ service: "calc", method: "divide", code: "E_SERVICE_NOT_FOUND" });
    expect((error as Error).message).toMatch(/service 'calc' has no method 'divide' \(methods: .*add/);
    expect(() => (host.createProxy(1000) as { divide(): unknown }).divide()).toThrow(ServiceNotFoundError);
  });

  it.each(["setup", "cleanup", "constructor", "ctx", "logger", "callService", "service"])(
    "does not expose %s as a callable method",
    async (name) => {
      const host = await startHost("calc", Calculator);

      expect(host.methodNames).not.toContain(name);
      expect(() => host.call(name, [], 1000)).toThrow(ServiceNotFoundError);
    },
  );

  it("wraps an error thrown by a sync method in a ServiceCallError with the cause and keeps serving", async () => {
    const host = await startHost("calc", Calculator);

    let error: unknown;
    try {
      host.call("fail", [], 1000);
    } catch (e) {
      error = e;
    }

    expect(error).toBeInstanceOf(ServiceCallError);
    expect(error).toMatchObject({ service: "calc", method: "fail", code: "E_SERVICE_CALL_FAILED" });
    expect((error as Error).message).toBe("calc.fail() failed: bad input");
    expect((error as Error).cause).toBeInstanceOf(TypeError);
    expect(host.call("add", [1, 2], 1000)).toBe(3);
  });

  it("rejects with a ServiceCallError carrying the cause when an async method rejects", async () => {
    const host = await startHost("calc", Calculator);

    const error = await (host.call("failLater", [], 1000) as Promise<unknown>).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ServiceCallError);
    expect((error as Error).message).toBe("calc.failLater() failed: too far");
    expect((error as Error).cause).toBeInstanceOf(RangeError);
    expect(host.call("add", [1, 2], 1000)).toBe(3);
  });

  it("fails to start with a clear error when setup() exceeds its timeout", async () => {
    class Slow extends BaseService {
      setup(): Promise<void> {
        return new Promise(() => undefined);
      }
      ping(): string {
        return "pong";
      }
    }
    const host = new ServiceHost(new ServiceFactory("slow", Slow), context("slow"));

    const error = await host.setup(20).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe("service 'slow' failed to start: setup() did not finish within 20 ms");
    expect(host.state).toBe("failed");
    expect(() => host.call("ping", [], 1000)).toThrow(/service is failed/);
  });

  // Regression: setup() once awaited factory.create() outside the time limit, so an async factory
  // that never resolved hung the job's start forever.
  it("fails to start when an async factory does not return within the setup timeout", async () => {
    const host = new ServiceHost(new ServiceFactory("hanging", () => new Promise<object>(() => undefined)), context("hanging"));
    let guard: NodeJS.Timeout | undefined;
    const hung = new Promise<string>((resolve) => (guard = setTimeout(resolve, 50, "still starting")));

    const outcome = await Promise.race([host.setup(20).then(() => "started", (e: Error) => e.message), hung]);
    clearTimeout(guard);

    expect(outcome).toMatch(/service 'hanging' failed to start: .*20 ms/);
  });

  it("fails to start with the cause when setup() throws", async () => {
    class Broken extends BaseService {
      setup(): void {
        throw new Error("no credentials");
      }
    }
    const host = new ServiceHost(new ServiceFactory("broken", Broken), context("broken"));

    const error = (await host.setup(1000).catch((e: unknown) => e)) as Error;

    expect(error.message).toBe("service 'broken' failed to start: no credentials");
    expect((error.cause as Error).message).toBe("no credentials");
  });

  it("fails to start when a factory returns something other than an object", async () => {
    const host = new ServiceHost(new ServiceFactory("nothing", (() => null) as never), context("nothing"));

    await expect(host.setup(1000)).rejects.toThrow(/service 'nothing' failed to start: .*returned null/);
  });

  it("runs cleanup() and stops, after which calls fail with a ServiceCallError", async () => {
    const cleaned: string[] = [];
    class Tidy extends BaseService {
      async cleanup(): Promise<void> {
        await flush();
        cleaned.push("done");
      }
      ping(): string {
        return "pong";
      }
    }
    const host = await startHost("tidy", Tidy);

    await host.cleanup(1000);

    expect(cleaned).toEqual(["done"]);
    expect(host.state).toBe("stopped");
    expect(() => host.call("ping", [], 1000)).toThrow(ServiceCallError);
    expect(() => host.call("ping", [], 1000)).toThrow("tidy.ping() failed: service is stopped");
  });

  it("reports a clear error when cleanup() exceeds its timeout", async () => {
    class Stuck extends BaseService {
      cleanup(): Promise<void> {
        return new Promise(() => undefined);
      }
    }
    const host = await startHost("stuck", Stuck);

    const error = (await host.cleanup(20).catch((e: unknown) => e)) as Error;

    expect(error.message).toBe("service 'stuck' cleanup failed: cleanup() did not finish within 20 ms");
    expect(host.state).toBe("failed");
  });

  it("reports the cause when cleanup() throws", async () => {
    class Messy extends BaseService {
      cleanup(): void {
        throw new Error("disk full");
      }
    }
    const host = await startHost("messy", Messy);

    await expect(host.cleanup(1000)).rejects.toThrow("service 'messy' cleanup failed: disk full");
  });

  it("cleans up once a service whose setup() failed half way, to release what it acquired", async () => {
    let cleaned = 0;
    class HalfStarted extends BaseService {
      setup(): void {
        throw new Error("nope");
      }
      cleanup(): void {
        cleaned++;
      }
    }
    const host = new ServiceHost(new ServiceFactory("half", HalfStarted), context("half"));
    await host.setup(1000).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 10));

    await host.cleanup(1000); // the job's own cleanup pass: nothing more to do

    expect(cleaned).toBe(1);
    expect(host.state).toBe("stopped");
  });

  it("rejects queued calls when cleaned up", async () => {
    const host = await startHost("gate", Gate);
    const gate = Gate.latest;
    const running = host.call("work", [1], 1000) as Promise<number>;
    const queued = [host.call("work", [2], 1000), host.call("now", [3], 1000)] as Array<Promise<unknown>>;

    await host.cleanup(1000);

    for (const call of queued) {
      const error = await call.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServiceCallError);
      expect((error as Error).message).toMatch(/^gate\.(work|now)\(\) failed: service stopped$/);
    }
    openGate(gate);
    expect(await running).toBe(10);
    expect(gate.order).toEqual([1]);
  });
});
