import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { NatsConnection } from "@nats-io/nats-core";
import { closeConnection, connectCluster } from "./connect.js";
import { startNatsServer, type NatsServerProcess } from "./nats-server-process.js";
import type { WorkerEntry } from "./protocol.js";
import { endChild } from "./end-child.js";
import { reapWithThisProcess } from "./reaper.js";
import { listWorkers } from "./worker-registry.js";

/**
 * A cluster of this process's own: a nats-server and worker processes on loopback. The broker
 * takes only clients with its random token, so no other local user can run code on its workers.
 */
export interface EmbeddedCluster {
  /** The broker's URL with its token (`nats://<token>@127.0.0.1:<port>`): show it through redactUrl only. */
  readonly url: string;
  readonly nc: NatsConnection;
  /** Stops the workers (they end their job hosts) and the broker, and removes its store. */
  stop(): Promise<void>;
}

/** Options of an embedded cluster. */
export interface EmbeddedClusterOptions {
  workers: number;
  leaseMs: number;
  /** How long the workers may take to join (default 20 s). */
  startTimeoutMs?: number;
}

// Set by a JobManager job process, whose bundled job code cannot find this package's CLI itself.
const CLI_ENTRY_KEY = Symbol.for("sage.cliEntry");

/** The `sage` CLI entry of this package, which runs the workers. */
function cliEntry(): string {
  const entry = ((globalThis as Record<symbol, unknown>)[CLI_ENTRY_KEY] as string | undefined) ?? fileURLToPath(new URL("../../bin/sage.js", import.meta.url));
  if (!existsSync(entry)) throw new Error(`cannot start the embedded cluster's workers: the sage CLI is not at ${entry}`);
  return entry;
}

/** Starts nats-server with JetStream on a free loopback port and `workers` worker processes. */
export async function startEmbeddedCluster(options: EmbeddedClusterOptions): Promise<EmbeddedCluster> {
  const token = randomBytes(24).toString("hex");
  const broker: NatsServerProcess = await startNatsServer({ token });
  const url = `nats://${token}@127.0.0.1:${broker.port}`;
  const children: ChildProcess[] = [];
  let cancelReaper: (() => void) | undefined;
  let nc: NatsConnection | undefined;
  const stop = async () => {
    await Promise.all(children.map((child) => endChild(child)));
    if (nc) await closeConnection(nc);
    await broker.stop();
    cancelReaper?.();
  };
  try {
    nc = await connectCluster({ url }, { name: "sage-driver (embedded cluster)" });
    const slots = Math.max(4, Math.ceil(16 / options.workers));
    for (let i = 1; i <= options.workers; i++) {
      const child = spawn(process.execPath, [cliEntry(), "worker", "start", "--name", `local-${i}`, "--slots", String(slots), "--lease-ms", String(options.leaseMs)], {
        // What the jobs print reaches the driver through the cluster (OutputForwarder), as from any worker.
        stdio: ["ignore", "ignore", "ignore"],
        // The token goes in the environment, which only this user can read, not on the command line.
        env: { ...process.env, SAGE_CLUSTER: url, SAGE_EMBEDDED_WORKER: "1" },
      });
      children.push(child);
    }
    // Nothing of an embedded cluster may outlive its driver, even one killed with SIGKILL.
    cancelReaper = reapWithThisProcess(children.map((c) => c.pid!));
    await waitForWorkers(nc, options.workers, options.startTimeoutMs ?? 20_000, children);
    return { url, nc, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitForWorkers(nc: NatsConnection, count: number, timeoutMs: number, children: ChildProcess[]): Promise<WorkerEntry[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = children.find((c) => c.exitCode !== null || c.signalCode !== null);
    if (dead) throw new Error(`a worker of the embedded cluster exited while starting (${dead.exitCode ?? dead.signalCode})`);
    const workers = await listWorkers(nc).catch(() => []);
    if (workers.length >= count) return workers;
    if (Date.now() > deadline) throw new Error(`the embedded cluster's ${count} worker(s) did not join within ${timeoutMs} ms (${workers.length} did)`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
