import { randomUUID } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll } from "vitest";
import { deleteJobStream, ensureJobStream } from "../../src/cluster/job-stream.js";
import { NatsTransport } from "../../src/cluster/nats-transport.js";
import type { Transport } from "../../src/runtime/transport.js";
import { runTransportSuite } from "../conformance/transport-suite.js";
import { connectTo, startTestBroker, stopTestBroker, type NatsServerProcess } from "../support/nats.js";

let broker: NatsServerProcess | undefined;
let nc: NatsConnection;

beforeAll(async () => {
  broker = await startTestBroker();
  nc = await connectTo(broker);
});

afterAll(async () => {
  await nc?.close();
  await stopTestBroker(broker);
});

// Each test gets a job of its own, whose stream goes when the transport closes.
async function jobTransport(capacity: number, localShortcut: boolean): Promise<Transport> {
  const jobId = `conf-${randomUUID().slice(0, 8)}`;
  await ensureJobStream(nc, jobId);
  const transport = await NatsTransport.create(nc, { jobId, capacity, ...(localShortcut ? { localShortcut: () => true } : {}) });
  return {
    inbox: (task, index) => transport.inbox(task, index),
    sender: (edge, from, to) => transport.sender(edge, from, to),
    async close() {
      await transport.close();
      await deleteJobStream(nc, jobId);
    },
  };
}

runTransportSuite("NATS transport", ({ capacity }) => jobTransport(capacity, false));
runTransportSuite("NATS transport with the in-process shortcut", ({ capacity }) => jobTransport(capacity, true));
