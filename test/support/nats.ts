/**
 * A nats-server of the test's own: JetStream on a free loopback port with a temporary store,
 * stopped (and checked gone) by the test.
 */
import { NoRespondersError, RequestError } from "@nats-io/nats-core";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startNatsServer, type NatsServerOptions, type NatsServerProcess } from "../../src/cluster/nats-server-process.js";

export type { NatsServerProcess };

/** Starts a broker for one test file. */
export function startTestBroker(options: NatsServerOptions = {}): Promise<NatsServerProcess> {
  return startNatsServer(options);
}

/** Stops the broker and checks its process is gone. */
export async function stopTestBroker(broker: NatsServerProcess | undefined): Promise<void> {
  if (!broker) return;
  await broker.stop();
  if (processAlive(broker.pid)) throw new Error(`nats-server ${broker.pid} is still running after stop`);
}

/** Whether a process with `pid` exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A plain client connection to the test broker. */
export function connectTo(broker: NatsServerProcess): Promise<NatsConnection> {
  return connect({ servers: broker.url, name: "sage-test" });
}

/** One answer to `$SRV.INFO`: the NATS services visible on the broker now. */
export interface DiscoveredService {
  name: string;
  id: string;
  metadata?: Record<string, string>;
}

/** Every NATS micro service that answers `$SRV.INFO` within `waitMs`. */
export async function discoverServices(nc: NatsConnection, waitMs = 300): Promise<DiscoveredService[]> {
  const found: DiscoveredService[] = [];
  try {
    const replies = await nc.requestMany("$SRV.INFO", undefined, { maxWait: waitMs });
    for await (const reply of replies) found.push(reply.json<DiscoveredService>());
  } catch (error) {
    // Nothing subscribes to $SRV.INFO at all: no service, not a failure.
    if (!(error instanceof NoRespondersError || (error instanceof RequestError && error.isNoResponders()))) throw error;
  }
  return found;
}
