import { randomUUID } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect } from "vitest";
import { NatsServiceTransport } from "../../src/cluster/nats-service-transport.js";
import { ServiceEndpoint } from "../../src/cluster/service-endpoint.js";
import { LocalServiceTransport } from "../../src/runtime/local-service-transport.js";
import { runServiceTransportSuite } from "../conformance/service-transport-suite.js";
import { connectTo, discoverServices, startTestBroker, stopTestBroker, type NatsServerProcess } from "../support/nats.js";
import { startServiceHost } from "../support/service-hosts.js";

let broker: NatsServerProcess | undefined;
// The services answer on one connection, the caller calls on another, as a worker and a driver would.
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

runServiceTransportSuite("NATS service transport (every service remote)", async (factories) => {
  const jobId = randomUUID().slice(0, 8);
  const hosts = await Promise.all(factories.map((factory) => startServiceHost(factory, jobId)));
  const endpoints = await Promise.all(hosts.map((host) => ServiceEndpoint.start(serving, { jobId, host, worker: "w1" })));
  const transport = new NatsServiceTransport(calling, jobId, new LocalServiceTransport(), hosts.map((host) => host.name));
  return {
    transport,
    close: async () => {
      transport.close();
      for (const endpoint of endpoints) await endpoint.stop();
      for (const host of hosts) await host.cleanup(1000);
      // Nothing of the job is left in NATS service discovery.
      expect((await discoverServices(calling, 200)).filter((s) => s.metadata?.sage_job === jobId)).toEqual([]);
    },
  };
});
