/**
 * What the fault tests share: a cluster of the test's own with short leases, drivers running the
 * fault-job fixture, and the checks that nothing of a job is left (host processes, services
 * visible through NATS service discovery, its JetStream stream).
 */
import { JetStreamApiCodes, jetstreamManager } from "@nats-io/jetstream";
import { afterEach, expect } from "vitest";
import { isApiError } from "../../src/cluster/job-stream.js";
import { subjects } from "../../src/cluster/subjects.js";
import type { JobStatus } from "../../src/index.js";
import { hostProcessesOf, startTestCluster, type TestCluster } from "./cluster.js";
import { childrenOf, startDriver, waitFor, type DriverRun } from "./driver.js";
import { discoverServices } from "./nats.js";

/** The lease of the test clusters' workers and drivers. */
export const LEASE_MS = 1500;

/** What the fault-job fixture prints as `RESULT`. */
export interface FaultJobResult {
  distinct: number;
  received: number;
  duplicates: number;
  missing: number[];
  ms: number;
  status: JobStatus;
}

/** What the fault-job fixture prints as `FAILED`. */
export interface FaultJobFailure {
  message: string;
  stack?: string;
  cause?: string;
  ms: number;
}

/** A test's cluster and how to start fault-job drivers on it. */
export interface FaultSetup {
  cluster: TestCluster;
  /** Starts a driver with the setup's knobs (and `extra`). */
  start(extra?: NodeJS.ProcessEnv): DriverRun;
}

/**
 * Registers the fault tests' afterEach (drivers killed, cluster stopped and checked) and answers
 * the setup of one test. The job's code on a worker sees the worker's environment, not the
 * driver's: the fixture's knobs (`env`) go to both.
 */
export function faultHarness() {
  let cluster: TestCluster | undefined;
  const drivers: DriverRun[] = [];

  afterEach(async () => {
    // A test that failed half way leaves its driver running: end it before the cluster.
    for (const driver of drivers.splice(0)) if (driver.child.exitCode === null && driver.child.signalCode === null) driver.child.kill("SIGKILL");
    await cluster?.stop();
    cluster = undefined;
  });

  /** Starts a fault-job driver with `env` (killed after the test if it still runs). */
  function driver(env: NodeJS.ProcessEnv): DriverRun {
    const run = startDriver("fault-job.ts", { LEASE_MS: String(LEASE_MS), ...env });
    drivers.push(run);
    return run;
  }

  /** A cluster of `workers` workers (w1, w2, ...; each with `slots`) and a driver starter. */
  async function setUp(env: NodeJS.ProcessEnv, options: { workers?: number; slots?: number[] } = {}): Promise<FaultSetup> {
    const started = await startTestCluster({ workers: 0, leaseMs: LEASE_MS, env });
    cluster = started;
    for (let i = 0; i < (options.workers ?? 2); i++) await started.addWorker(`w${i + 1}`, { slots: options.slots?.[i] ?? 4 });
    return { cluster: started, start: (extra = {}) => driver({ SAGE_TEST_CLUSTER: started.url, ...env, ...extra }) };
  }

  /** The job's services that still answer $SRV.INFO. */
  async function servicesOf(jobId: string) {
    return (await discoverServices(cluster!.nc)).filter((s) => s.metadata?.sage_job === jobId);
  }

  /** Whether the job's JetStream stream exists. */
  async function streamExists(jobId: string): Promise<boolean> {
    const jsm = await jetstreamManager(cluster!.nc);
    try {
      await jsm.streams.info(subjects.stream(jobId));
      return true;
    } catch (error) {
      if (isApiError(error, JetStreamApiCodes.StreamNotFound)) return false;
      throw error;
    }
  }

  /** Nothing of the job is left: no host process (within `waitMs`), no service, no stream. */
  async function expectNothingLeft(jobId: string, waitMs = 0): Promise<void> {
    await waitFor(() => hostProcessesOf(jobId).length === 0, waitMs, `the job's host processes end`);
    expect(await servicesOf(jobId)).toEqual([]);
    expect(await streamExists(jobId)).toBe(false);
  }

  /**
   * Nothing of any job is left on the cluster (within `waitMs`): no job host (a worker's child
   * process), no job's service, no job stream.
   */
  async function expectNoJobLeft(waitMs = 0): Promise<void> {
    const workers = cluster!.workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    await waitFor(() => workers.every((w) => childrenOf(w.child.pid!).length === 0), waitMs, "every job host ends");
    expect((await discoverServices(cluster!.nc)).filter((s) => s.metadata?.sage_job !== undefined)).toEqual([]);
    const jsm = await jetstreamManager(cluster!.nc);
    const streams = (await jsm.streams.names().next()).filter((name) => name.startsWith("SAGE_"));
    expect(streams).toEqual([]);
  }

  return { setUp, driver, servicesOf, streamExists, expectNothingLeft, expectNoJobLeft };
}
