/**
 * A cluster of the test's own: a nats-server on a free loopback port and worker processes
 * started through the real CLI. stop() ends them and checks that nothing is left: no worker, no
 * job host, no broker, and no job's service visible through NATS service discovery.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { NatsConnection } from "@nats-io/transport-node";
import { readdirSync, readFileSync } from "node:fs";
import { endChild } from "../../src/cluster/end-child.js";
import { connectTo, discoverServices, processAlive, startTestBroker, stopTestBroker, type NatsServerProcess } from "./nats.js";

const SAGE_BIN = fileURLToPath(new URL("../../bin/sage.js", import.meta.url));

/** A worker process of a test cluster. */
export interface TestWorker {
  name: string;
  child: ChildProcess;
  output: string[];
}

/** A broker, its workers and a client connection. */
export interface TestCluster {
  broker: NatsServerProcess;
  url: string;
  nc: NatsConnection;
  workers: TestWorker[];
  /** Starts one more worker and waits until it joined; `exec` is put before the command (e.g. `ip netns exec <ns>`). */
  addWorker(name: string, options?: { slots?: number; leaseMs?: number; env?: NodeJS.ProcessEnv; exec?: readonly string[] }): Promise<TestWorker>;
  /** Kills the broker (SIGKILL) and starts it again after `downMs` on the same port with the same store. */
  restartBroker(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a broker (listening on `host`, default 127.0.0.1) and `workers` workers (named w1, w2,
 * ...); `env` is added to every worker's environment (their job hosts inherit it).
 */
export async function startTestCluster(options: { workers?: number; slots?: number; leaseMs?: number; env?: NodeJS.ProcessEnv; host?: string } = {}): Promise<TestCluster> {
  let broker = await startTestBroker({ host: options.host });
  const store = broker.storeDir;
  let restarted = false;
  const nc = await connectTo(broker);
  const workers: TestWorker[] = [];
  const addWorker: TestCluster["addWorker"] = async (name, worker = {}) => {
    const args = [SAGE_BIN, "worker", "start", "--cluster", broker.url, "--name", name, "--slots", String(worker.slots ?? options.slots ?? 4), "--lease-ms", String(worker.leaseMs ?? options.leaseMs ?? 2000)];
    const [command, ...prefix] = [...(worker.exec ?? []), process.execPath];
    const child = spawn(command!, [...prefix, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...options.env, ...worker.env } });
    const started: TestWorker = { name, child, output: [] };
    workers.push(started);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker ${name} did not join within 15 s:\n${started.output.join("")}`)), 15_000);
      const onData = (chunk: Buffer) => {
        started.output.push(chunk.toString());
        if (started.output.join("").includes("joined")) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", (chunk: Buffer) => started.output.push(chunk.toString()));
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`worker ${name} exited (${code}) before it joined:\n${started.output.join("")}`));
      });
    });
    return started;
  };
  for (let i = 1; i <= (options.workers ?? 2); i++) await addWorker(`w${i}`);
  const stop = async () => {
    const services = await discoverServices(nc).catch(() => []);
    const jobServices = services.filter((s) => s.metadata?.sage_job !== undefined);
    await Promise.all(workers.map((w) => endProcess(w.child)));
    await nc.close();
    await stopTestBroker(broker);
    // A broker started again on the store of the first one leaves that store to us.
    if (restarted) rmSync(store, { recursive: true, force: true });
    if (jobServices.length > 0) throw new Error(`job services still answer after the tests: ${jobServices.map((s) => `${s.name} (${s.metadata?.sage_job})`).join(", ")}`);
    for (const w of workers) if (w.child.pid && processAlive(w.child.pid)) throw new Error(`worker ${w.name} is still running`);
  };
  const restartBroker = async (downMs = 0) => {
    await broker.kill();
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    broker = await startTestBroker({ storeDir: store, port: broker.port, host: options.host });
    restarted = true;
    cluster.broker = broker;
  };
  const cluster: TestCluster = { broker, url: broker.url, nc, workers, addWorker, restartBroker, stop };
  return cluster;
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
export function endProcess(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  return endChild(child, 5000, signal);
}

/** Pids of the job's host processes on any worker, and what they started (their SAGE_JOB_ID marker is `<job>@<worker>`). */
export function hostProcessesOf(jobId: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, "latin1").split("\0");
      if (environ.some((v) => v.startsWith(`SAGE_JOB_ID=${jobId}@`))) found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}

const FIXTURES = fileURLToPath(new URL("../cluster/fixtures/", import.meta.url));

/** Runs `node <args>` to its exit (SIGKILL after `timeoutMs`); resolves with its exit code and output. */
export function runNode(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return new Promise((resolve) =>
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    }),
  );
}

/** Runs the sage CLI of this checkout to its exit. */
export function runCli(args: string[], timeoutMs = 60_000): ReturnType<typeof runNode> {
  return runNode([SAGE_BIN, ...args], {}, timeoutMs);
}

/** Runs a fixture script of test/cluster/fixtures as a driver process; resolves with its exit code and output. */
export function runDriver(script: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000, args: string[] = []): ReturnType<typeof runNode> {
  return runNode(["--import", "tsx", FIXTURES + script, ...args], env, timeoutMs);
}
