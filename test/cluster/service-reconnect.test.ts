import { rmSync } from "node:fs";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, expect, it } from "vitest";
import { BaseService, ServiceFactory } from "../../src/index.js";
import { NatsServiceTransport } from "../../src/cluster/nats-service-transport.js";
import { ServiceEndpoint } from "../../src/cluster/service-endpoint.js";
import { LocalServiceTransport } from "../../src/runtime/local-service-transport.js";
import { processAlive, startTestBroker, stopTestBroker, type NatsServerProcess } from "../support/nats.js";
import { startServiceHost } from "../support/service-hosts.js";

// Its own broker: this file kills and restarts it.
let brokers: NatsServerProcess[] = [];
let storeDir: string | undefined;

afterAll(async () => {
  for (const broker of brokers) await stopTestBroker(broker);
  if (storeDir) rmSync(storeDir, { recursive: true, force: true });
});

function connectWithRetries(url: string, name: string, reconnectTimeWait: number): Promise<NatsConnection> {
  return connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait });
}

it("a call whose answer was lost while the broker restarted is sent again after reconnecting", async () => {
  const first = await startTestBroker();
  brokers.push(first);
  storeDir = first.storeDir;
  let runs = 0;
  // The first run answers once the broker is down, when the test lets it: after 100 ms of its
  // own, a descheduled process could see it answer before the broker was killed.
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  class Slow extends BaseService {
    async work(x: number) {
      runs++;
      await released;
      return x + 1;
    }
  }
  // The service side is back first and sends its answer before the caller has its inbox
  // subscription again: the broker drops that answer.
  const serving = await connectWithRetries(first.url, "serving", 50);
  const calling = await connectWithRetries(first.url, "calling", 800);
  const host = await startServiceHost(new ServiceFactory("slow", Slow, { maxConcurrency: 2 }), "reconnect");
  const endpoint = await ServiceEndpoint.start(serving, { jobId: "reconnect", host, worker: "w1" });
  const transport = new NatsServiceTransport(calling, "reconnect", new LocalServiceTransport(), ["slow"]);
  try {
    const started = performance.now();
    const call = transport.call("slow", "work", [41], { timeoutMs: 10_000 });
    await expect.poll(() => runs, { timeout: 10_000 }).toBe(1);
    await first.kill();
    expect(processAlive(first.pid)).toBe(false);
    release();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await startTestBroker({ port: first.port, storeDir: first.storeDir });
    brokers.push(second);
    expect(await call).toBe(42);
    expect(performance.now() - started).toBeLessThan(5000);
    // At-least-once: sent again, run again.
    expect(runs).toBe(2);
  } finally {
    transport.close();
    await endpoint.stop();
    await host.cleanup(1000);
    await calling.close();
    await serving.close();
  }
});
