import { randomUUID } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BaseService, ServiceCallError, ServiceFactory } from "../../src/index.js";
import { NatsServiceTransport } from "../../src/cluster/nats-service-transport.js";
import { SERVICE_QUEUE, ServiceEndpoint } from "../../src/cluster/service-endpoint.js";
import { subjects } from "../../src/cluster/subjects.js";
import { decode, encode } from "../../src/cluster/codec.js";
import { createInbox } from "@nats-io/nats-core";
import { LocalServiceTransport } from "../../src/runtime/local-service-transport.js";
import type { ServiceHost } from "../../src/runtime/service-host.js";
import { Calculator } from "../conformance/service-transport-suite.js";
import { connectTo, discoverServices, startTestBroker, stopTestBroker, type NatsServerProcess } from "../support/nats.js";
import { startServiceHost } from "../support/service-hosts.js";

let broker: NatsServerProcess | undefined;
let serving: NatsConnection;
let calling: NatsConnection;

beforeAll(async () => {
  broker = await startTestBroker();
  serving = await connectTo(broker);
  calling = await connectTo(broker);
});

afterAll(async () => {
  await calling?.close();
  await serving?.close();
  await stopTestBroker(broker);
});

/** What a test started, to stop in order. */
interface Served {
  jobId: string;
  host: ServiceHost;
  endpoint: ServiceEndpoint;
  transport: NatsServiceTransport;
  stop(): Promise<void>;
}

async function serve(factory: ServiceFactory, worker = "w1"): Promise<Served> {
  const jobId = randomUUID().slice(0, 8);
  const host = await startServiceHost(factory, jobId);
  const endpoint = await ServiceEndpoint.start(serving, { jobId, host, worker });
  const transport = new NatsServiceTransport(calling, jobId, new LocalServiceTransport(), [factory.name]);
  return {
    jobId,
    host,
    endpoint,
    transport,
    stop: async () => {
      transport.close();
      await endpoint.stop();
      await host.cleanup(1000);
    },
  };
}

async function ask(subject: string): Promise<Record<string, any>[]> {
  const found: Record<string, any>[] = [];
  try {
    for await (const reply of await calling.requestMany(subject, undefined, { maxWait: 200 })) found.push(reply.json());
  } catch (error) {
    if ((error as Error).name !== "NoResponders") throw error;
  }
  return found;
}

function failure(work: () => unknown): Promise<Error> {
  return Promise.resolve()
    .then(work)
    .then(
      () => {
        throw new Error("expected the call to fail");
      },
      (error: Error) => error,
    );
}

describe("service endpoint - NATS service discovery", () => {
  it("answers PING, INFO and STATS with the job's metadata, and nothing after stop()", async () => {
    const served = await serve(new ServiceFactory("calc", Calculator), "worker-7");
    const { jobId, endpoint, transport } = served;
    try {
      const mine = (await discoverServices(calling)).filter((s) => s.metadata?.sage_job === jobId);
      expect(mine).toEqual([expect.objectContaining({ name: "sage-calc", id: endpoint.id, metadata: { sage_job: jobId, sage_service: "calc", sage_worker: "worker-7" } })]);

      const [info] = (await ask("$SRV.INFO.sage-calc")).filter((s) => s.id === endpoint.id);
      expect(info).toMatchObject({ type: "io.nats.micro.v1.info_response", version: "0.1.0", endpoints: [{ subject: endpoint.subject }] });
      const pings = await ask(`$SRV.PING.sage-calc.${endpoint.id}`);
      expect(pings).toEqual([expect.objectContaining({ type: "io.nats.micro.v1.ping_response", id: endpoint.id })]);

      await transport.call("calc", "add", [1, 2], { timeoutMs: 1000 });
      await transport.call("calc", "addLater", [1, 2], { timeoutMs: 1000 });
      await failure(() => transport.call("calc", "divide", [1, 0], { timeoutMs: 1000 }));
      const [stats] = await ask(`$SRV.STATS.sage-calc.${endpoint.id}`);
      expect(stats).toMatchObject({ type: "io.nats.micro.v1.stats_response", id: endpoint.id, metadata: { sage_job: jobId } });
      expect(Date.parse(stats!.started)).toBeGreaterThan(Date.now() - 60_000);
      const counters = stats!.endpoints[0];
      expect(counters).toMatchObject({ num_requests: 3, num_errors: 1, last_error: "division by zero" });
      // addLater sleeps 5 ms: the total is in nanoseconds.
      expect(counters.processing_time).toBeGreaterThan(4_000_000);
      expect(counters.average_processing_time).toBe(Math.round(counters.processing_time / 3));
    } finally {
      await served.stop();
    }
    expect((await discoverServices(calling)).filter((s) => s.metadata?.sage_job === jobId)).toEqual([]);
    expect(await ask(`$SRV.PING.sage-calc.${endpoint.id}`)).toEqual([]);
  });
});

describe("service endpoint - calls", () => {
  it("carries the remote stack as the cause of a ServiceCallError", async () => {
    class Thrower extends BaseService {
      explode() {
        const error = new RangeError("out of range") as RangeError & { code: string };
        error.code = "E_RANGE";
        throw error;
      }
    }
    const served = await serve(new ServiceFactory("thrower", Thrower));
    try {
      const error = await failure(() => served.transport.call("thrower", "explode", [], { timeoutMs: 1000 }));
      expect(error).toBeInstanceOf(ServiceCallError);
      expect(error.message).toBe("thrower.explode() failed: out of range");
      const cause = error.cause as Error & { code?: string };
      expect(cause).toMatchObject({ name: "RangeError", message: "out of range", code: "E_RANGE" });
      expect(cause.stack).toMatch(/^RangeError: out of range\n\s+at Thrower\.explode/);
      expect(error.stack).toContain("caused by RangeError: out of range\n");
      expect(error.stack).toMatch(/at Thrower\.explode/);
    } finally {
      await served.stop();
    }
  });

  it("answers a value that cannot be sent with a clear error, not a hang", async () => {
    class Leaky extends BaseService {
      handle() {
        return { callback: () => 1 };
      }
    }
    const served = await serve(new ServiceFactory("leaky", Leaky));
    try {
      const started = performance.now();
      const error = await failure(() => served.transport.call("leaky", "handle", [], { timeoutMs: 5000 }));
      expect(performance.now() - started).toBeLessThan(1000);
      expect(error).toBeInstanceOf(ServiceCallError);
      expect(error.message).toMatch(/^leaky\.handle\(\) failed: the value returned by leaky\.handle\(\) cannot be sent over the cluster: /);
      // The same for arguments that cannot be sent: refused before they leave.
      const args = await failure(() => served.transport.call("leaky", "handle", [() => 1], { timeoutMs: 5000 }));
      expect(args.message).toMatch(/^leaky\.handle\(\) failed: the arguments cannot be sent over the cluster: /);
    } finally {
      await served.stop();
    }
  });

  it("runs calls to an async method concurrently up to maxConcurrency", async () => {
    let running = 0;
    let most = 0;
    class Slow extends BaseService {
      async work(n: number) {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 100));
        running--;
        return n * 2;
      }
    }
    const served = await serve(new ServiceFactory("slow", Slow, { maxConcurrency: 4 }));
    try {
      const started = performance.now();
      const proxy = served.transport.proxy("slow", { timeoutMs: 5000 }) as unknown as Slow;
      const results = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((n) => proxy.work(n)));
      const elapsed = performance.now() - started;
      expect(results).toEqual([2, 4, 6, 8, 10, 12, 14, 16]);
      expect(most).toBe(4);
      // Two rounds of four, not eight calls in a row (a loaded machine adds its own delay to the 200 ms).
      expect(elapsed).toBeGreaterThanOrEqual(195);
      expect(elapsed).toBeLessThan(8 * 100);
    } finally {
      await served.stop();
    }
  });
});

describe("service endpoint - stop", () => {
  it("answers the calls it received before stop() resolves, then none", async () => {
    let started = 0;
    // The calls end when the test lets them, not after 150 ms: a descheduled process could see
    // them end, and stop() resolve, before it looked.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    class Slow extends BaseService {
      async work() {
        started++;
        await released;
        return "done";
      }
    }
    const served = await serve(new ServiceFactory("slow", Slow, { maxConcurrency: 2 }));
    try {
      const calls = [served.transport.call("slow", "work", [], { timeoutMs: 2000 }), served.transport.call("slow", "work", [], { timeoutMs: 2000 })];
      await expect.poll(() => started, { timeout: 10_000 }).toBe(2);
      let stopped = false;
      const stopping = served.endpoint.stop().then(() => (stopped = true));
      await new Promise((resolve) => setTimeout(resolve, 50));
      // The calls are still running: stop() waits for their replies.
      expect(stopped).toBe(false);
      release();
      expect(await Promise.all(calls)).toEqual(["done", "done"]);
      await stopping;
      expect(stopped).toBe(true);
      const after = await failure(() => served.transport.call("slow", "work", [], { timeoutMs: 200 }));
      expect(after.message).toContain("service 'slow' has no running instance");
      expect(started).toBe(2);
    } finally {
      await served.stop();
    }
  });
});

describe("service endpoint - absent and lost instances", () => {
  it("retries a call while no instance answers and succeeds once one starts", async () => {
    const jobId = randomUUID().slice(0, 8);
    const transport = new NatsServiceTransport(calling, jobId, new LocalServiceTransport(), ["calc"]);
    const host = await startServiceHost(new ServiceFactory("calc", Calculator), jobId);
    let endpoint: ServiceEndpoint | undefined;
    try {
      const call = transport.call("calc", "add", [20, 22], { timeoutMs: 3000 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      endpoint = await ServiceEndpoint.start(serving, { jobId, host, worker: "w1" });
      expect(await call).toBe(42);
    } finally {
      transport.close();
      await endpoint?.stop();
      await host.cleanup(1000);
    }
  });

  it("fails at the call's deadline naming the service when no instance ever answers", async () => {
    const transport = new NatsServiceTransport(calling, randomUUID().slice(0, 8), new LocalServiceTransport(), ["ghost"]);
    try {
      const started = performance.now();
      const error = await failure(() => transport.call("ghost", "find", [1], { timeoutMs: 400 }));
      const elapsed = performance.now() - started;
      expect(error).toBeInstanceOf(ServiceCallError);
      expect(error.message).toBe("ghost.find() failed: service 'ghost' has no running instance (none answered within 400 ms)");
      expect(elapsed).toBeGreaterThanOrEqual(395);
      expect(elapsed).toBeLessThan(1000);
    } finally {
      transport.close();
    }
  });

  it("re-sends a call in flight when told its instance was lost; the next instance answers", async () => {
    const jobId = randomUUID().slice(0, 8);
    const received: string[] = [];
    // The first instance takes the call and never answers, as a worker that died holding it.
    const makeFactory = (instance: string) =>
      new ServiceFactory("kv", () => ({
        get(key: string) {
          received.push(`${instance}:${key}`);
          return instance === "first" ? new Promise(() => undefined) : `${key}@${instance}`;
        },
      }));
    const doomed = await connectTo(broker!);
    const first = await startServiceHost(makeFactory("first"), jobId);
    const second = await startServiceHost(makeFactory("second"), jobId);
    const transport = new NatsServiceTransport(calling, jobId, new LocalServiceTransport(), ["kv"]);
    let replacement: ServiceEndpoint | undefined;
    try {
      await ServiceEndpoint.start(doomed, { jobId, host: first, worker: "w1" });
      const call = transport.call("kv", "get", ["a"], { timeoutMs: 5000 });
      await expect.poll(() => received, { timeout: 10_000 }).toEqual(["first:a"]);
      await doomed.close();
      replacement = await ServiceEndpoint.start(serving, { jobId, host: second, worker: "w2" });
      transport.instanceLost("kv");
      expect(await call).toBe("a@second");
      expect(received).toEqual(["first:a", "second:a"]);
    } finally {
      transport.close();
      await replacement?.stop();
      await doomed.close();
      await first.cleanup(100);
      await second.cleanup(100);
    }
  });

  it("instanceLost() in the driver re-sends the calls in flight of the job's other processes too", async () => {
    // A remote operator on one worker calls a service on another; the driver sees that worker die.
    const jobId = randomUUID().slice(0, 8);
    const doomed = await connectTo(broker!);
    let hang = true;
    const factory = new ServiceFactory("kv", () => ({ get: (key: string) => (hang ? new Promise(() => undefined) : `${key}!`) }));
    const first = await startServiceHost(factory, jobId);
    const second = await startServiceHost(factory, jobId);
    const operator = new NatsServiceTransport(calling, jobId, new LocalServiceTransport(), ["kv"]);
    const driver = new NatsServiceTransport(serving, jobId, new LocalServiceTransport(), ["kv"]);
    let replacement: ServiceEndpoint | undefined;
    try {
      await ServiceEndpoint.start(doomed, { jobId, host: first, worker: "w1" });
      const call = operator.call("kv", "get", ["c"], { timeoutMs: 5000 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      await doomed.close();
      hang = false;
      replacement = await ServiceEndpoint.start(serving, { jobId, host: second, worker: "w2" });
      driver.instanceLost("kv");
      expect(await call).toBe("c!");
    } finally {
      operator.close();
      driver.close();
      await replacement?.stop();
      await doomed.close();
      await first.cleanup(100);
      await second.cleanup(100);
    }
  });

  it("re-sent calls wait for the next instance when it is not up yet", async () => {
    const jobId = randomUUID().slice(0, 8);
    const doomed = await connectTo(broker!);
    let hang = true;
    const factory = new ServiceFactory("kv", () => ({ get: (key: string) => (hang ? new Promise(() => undefined) : key.toUpperCase()) }));
    const host = await startServiceHost(factory, jobId);
    const next = await startServiceHost(factory, jobId);
    const transport = new NatsServiceTransport(calling, jobId, new LocalServiceTransport(), ["kv"]);
    let replacement: ServiceEndpoint | undefined;
    try {
      await ServiceEndpoint.start(doomed, { jobId, host, worker: "w1" });
      const call = transport.call("kv", "get", ["b"], { timeoutMs: 5000 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      await doomed.close();
      transport.instanceLost("kv");
      await new Promise((resolve) => setTimeout(resolve, 200));
      hang = false;
      replacement = await ServiceEndpoint.start(serving, { jobId, host: next, worker: "w2" });
      expect(await call).toBe("B");
    } finally {
      transport.close();
      await replacement?.stop();
      await doomed.close();
      await host.cleanup(100);
      await next.cleanup(100);
    }
  });

  it("gets past a dead instance's subscription that the broker still routes calls to", async () => {
    // A worker whose link was cut: the broker keeps its subscription (until missed pings) and
    // hands it a share of the calls, which vanish. Here: a queue member that never answers.
    const jobId = randomUUID().slice(0, 8);
    const zombie = calling.subscribe(subjects.service(jobId, "calc"), { queue: SERVICE_QUEUE, callback: () => undefined });
    const host = await startServiceHost(new ServiceFactory("calc", Calculator), jobId);
    const transport = new NatsServiceTransport(calling, jobId, new LocalServiceTransport(), ["calc"]);
    let endpoint: ServiceEndpoint | undefined;
    try {
      await calling.flush();
      const inFlight = transport.call("calc", "add", [1, 1], { timeoutMs: 5000 });
      endpoint = await ServiceEndpoint.start(serving, { jobId, host, worker: "w2" });
      transport.instanceLost("calc");
      const later = Array.from({ length: 20 }, (_, i) => transport.call("calc", "add", [i, 1], { timeoutMs: 5000 }));
      expect(await inFlight).toBe(2);
      expect(await Promise.all(later)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    } finally {
      zombie.unsubscribe();
      transport.close();
      await endpoint?.stop();
      await host.cleanup(1000);
    }
  });

  it("runs the copies of a re-sent call once, confirming each", async () => {
    let runs = 0;
    const served = await serve(new ServiceFactory("counter", () => ({ bump: () => ++runs })));
    const inbox = createInbox();
    const replies: unknown[] = [];
    const subscription = calling.subscribe(inbox, { callback: (_error, msg) => void replies.push(decode(msg.data)) });
    try {
      const request = encode({ method: "bump", args: [], timeoutMs: 1000, ack: "call-1" });
      calling.publish(served.endpoint.subject, request, { reply: inbox });
      calling.publish(served.endpoint.subject, request, { reply: inbox });
      await expect.poll(() => replies.length, { timeout: 10_000 }).toBe(3);
      expect(replies).toEqual([{ accepted: true }, { value: 1 }, { accepted: true }]);
      expect(runs).toBe(1);
    } finally {
      subscription.unsubscribe();
      await served.stop();
    }
  });

  describe("the ids of re-sent calls", () => {
    // One call that never ends among re-sent ones: it used to stop the forgetting of all the others.
    async function gate(options: { copiesRememberedMs?: number; maxCopies?: number }) {
      const counts = { runs: 0 };
      const factory = new ServiceFactory("gate", () => ({ hang: () => new Promise(() => undefined), bump: () => ++counts.runs }), { maxConcurrency: 4 });
      const jobId = randomUUID().slice(0, 8);
      const host = await startServiceHost(factory, jobId);
      const endpoint = await ServiceEndpoint.start(serving, { jobId, host, worker: "w1", ...options });
      // Sends one copy of call `ack` and waits for `replies` answers (ACCEPTED, then the value if it ran).
      const send = async (method: string, ack: string, replies: number) => {
        const inbox = createInbox();
        const got: unknown[] = [];
        const subscription = calling.subscribe(inbox, { callback: (_error, msg) => void got.push(decode(msg.data)) });
        await calling.flush();
        calling.publish(endpoint.subject, encode({ method, args: [], timeoutMs: 60_000, ack }), { reply: inbox });
        await expect.poll(() => got.length, { timeout: 10_000 }).toBe(replies);
        await new Promise((resolve) => setTimeout(resolve, 50));
        subscription.unsubscribe();
        return got;
      };
      const stop = async () => {
        await endpoint.stop(100);
        await host.cleanup(100);
      };
      return { counts, send, stop };
    }

    it("forgets ended calls after their time although an earlier call still runs", async () => {
      // Remembered 500 ms (forgotten at the prune after that, every 500 ms): the copy sent just
      // after the call ended comes within it even on a loaded machine (at 200 ms, a descheduled
      // process sent it too late, and it ran again).
      const { counts, send, stop } = await gate({ copiesRememberedMs: 500 });
      try {
        expect(await send("hang", "hung", 1)).toEqual([{ accepted: true }]);
        expect(await send("bump", "b1", 2)).toEqual([{ accepted: true }, { value: 1 }]);
        // Within its time a copy is dropped...
        expect(await send("bump", "b1", 1)).toEqual([{ accepted: true }]);
        await new Promise((resolve) => setTimeout(resolve, 2 * 500 + 500));
        // ...after it, b1 is forgotten and runs again; the running call is still known.
        expect(await send("bump", "b1", 2)).toEqual([{ accepted: true }, { value: 2 }]);
        expect(await send("hang", "hung", 1)).toEqual([{ accepted: true }]);
        expect(counts.runs).toBe(2);
      } finally {
        await stop();
      }
    });

    it("keeps at most maxCopies ids of ended calls, dropping the oldest, never a running one", async () => {
      const { counts, send, stop } = await gate({ maxCopies: 3 });
      try {
        await send("hang", "hung", 1);
        for (const ack of ["a1", "a2", "a3", "a4"]) await send("bump", ack, 2);
        expect(counts.runs).toBe(4);
        // hung, a3 and a4 are kept; a1 and a2 were dropped.
        await send("bump", "a4", 1);
        await send("hang", "hung", 1);
        expect(counts.runs).toBe(4);
        expect(await send("bump", "a1", 2)).toEqual([{ accepted: true }, { value: 5 }]);
      } finally {
        await stop();
      }
    });
  });
});
