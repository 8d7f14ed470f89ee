/**
 * Faults of distributed mode (issue 7, "Leases" and "Tests"): a worker killed mid-job, the driver
 * killed, a worker joining or leaving mid-job. Each test has a cluster of its own (broker and
 * workers through the CLI, short leases) and checks that nothing of it is left afterwards.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JetStreamApiCodes, jetstreamManager } from "@nats-io/jetstream";
import { afterEach, describe, expect, it } from "vitest";
import { isApiError } from "../../src/cluster/job-stream.js";
import { subjects } from "../../src/cluster/subjects.js";
import type { JobStatus } from "../../src/index.js";
import { hostProcessesOf, startTestCluster, type TestCluster } from "../support/cluster.js";
import { parentOf, startDriver, tagged, waitFor, type DriverRun } from "../support/driver.js";
import { discoverServices, processAlive } from "../support/nats.js";

const LEASE_MS = 1500;

interface Result {
  distinct: number;
  received: number;
  duplicates: number;
  missing: number[];
  ms: number;
  status: JobStatus;
}

let cluster: TestCluster | undefined;
const drivers: DriverRun[] = [];

afterEach(async () => {
  // A test that failed half way leaves its driver running: end it before the cluster.
  for (const driver of drivers.splice(0)) if (driver.child.exitCode === null && driver.child.signalCode === null) driver.child.kill("SIGKILL");
  await cluster?.stop();
  cluster = undefined;
});

/**
 * A cluster of two workers and a driver starter. The job's code on a worker sees the worker's
 * environment, not the driver's: the fixture's knobs (`env`) go to both.
 */
async function setUp(env: NodeJS.ProcessEnv, options: { workers?: number; slots?: number } = {}) {
  cluster = await startTestCluster({ workers: options.workers ?? 2, leaseMs: LEASE_MS, env, ...(options.slots && { slots: options.slots }) });
  const start = (extra: NodeJS.ProcessEnv = {}): DriverRun => {
    const run = startDriver("fault-job.ts", { SAGE_TEST_CLUSTER: cluster!.url, LEASE_MS: String(LEASE_MS), ...env, ...extra });
    drivers.push(run);
    return run;
  };
  return { cluster, start };
}

/** The job's services that still answer $SRV.INFO. */
async function servicesOf(jobId: string) {
  return (await discoverServices(cluster!.nc)).filter((s) => s.metadata?.sage_job === jobId);
}

describe("distributed faults", () => {
  it("SIGKILL of a worker mid-job: its instances are re-placed and the job finishes with every record", async () => {
    const { cluster, start } = await setUp({ RECORDS: "20000", DELAY_EVERY: "100", DELAY_MS: "10" });
    const run = start();
    const jobId = (await run.line(/^JOB /)).slice(4);
    await run.line(/^PROGRESS 4000$/);
    const victim = cluster.workers[0]!;
    const hosts = hostProcessesOf(jobId).filter((pid) => parentOf(pid) === victim.child.pid);
    expect(hosts.length).toBeGreaterThan(0);
    const killedAt = Date.now();
    victim.child.kill("SIGKILL");
    const hostsGoneMs = await waitFor(() => hosts.every((pid) => !processAlive(pid)), LEASE_MS + 1000, "the killed worker's job hosts end");
    const exit = await run.exited;
    const result = tagged<Result>(exit.stdout, "RESULT");
    expect(result, exit.stdout + exit.stderr).toBeDefined();
    console.log(`worker kill: hosts gone ${hostsGoneMs} ms after the kill, job done ${Date.now() - killedAt} ms after it, ${result!.ms} ms in all, ${result!.duplicates} duplicate(s), restarts ${result!.status.restartCount}`);
    expect(result!.distinct).toBe(20000);
    expect(result!.missing).toEqual([]);
    expect(result!.status.state).toBe("finished");
    expect(result!.status.restartCount).toBeGreaterThan(0);
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect(hostProcessesOf(jobId)).toEqual([]);
    expect(await servicesOf(jobId)).toEqual([]);
  }, 40_000);

  it("SIGKILL of the driver mid-job: the workers end its hosts within the lease, clean up its services and remove its stream", async () => {
    const markers = mkdtempSync(join(tmpdir(), "sage-faults-"));
    try {
      const { start } = await setUp({ RECORDS: "20000", DELAY_EVERY: "100", DELAY_MS: "10", MARKER_DIR: markers });
      const run = start();
      const jobId = (await run.line(/^JOB /)).slice(4);
      await run.line(/^PROGRESS 2000$/);
      const hosts = hostProcessesOf(jobId);
      expect(hosts.length).toBeGreaterThanOrEqual(2);
      expect(await servicesOf(jobId)).toHaveLength(1);
      const killedAt = Date.now();
      run.child.kill("SIGKILL");
      const goneMs = await waitFor(() => hostProcessesOf(jobId).length === 0, LEASE_MS + 1000, "the job's hosts end after the driver died");
      const services = await servicesOf(jobId);
      const streamLeft = await streamExists(jobId);
      console.log(`driver kill: hosts gone ${goneMs} ms after the kill (lease ${LEASE_MS} ms); stream left: ${streamLeft}`);
      expect(services).toEqual([]);
      // Best effort, but it ran: the ledger's cleanup() wrote its line on its worker.
      const ledger = readdirSync(markers).map((f) => readFileSync(join(markers, f), "utf8"));
      expect(ledger).toEqual(["setup\ncleanup\n"]);
      await waitFor(async () => !(await streamExists(jobId)), 2000, "the job's stream is removed");
      expect(Date.now() - killedAt).toBeLessThan(LEASE_MS + 3000);
    } finally {
      rmSync(markers, { recursive: true, force: true });
    }
  }, 40_000);

  it("a broker restart mid-job (same store): the job finishes with every record or fails clearly, and never hangs", async () => {
    const { cluster, start } = await setUp({ RECORDS: "20000", DELAY_EVERY: "100", DELAY_MS: "10" });
    const run = start();
    const jobId = (await run.line(/^JOB /)).slice(4);
    await run.line(/^PROGRESS 4000$/);
    const restartAt = Date.now();
    await cluster.restartBroker(Number(process.env.DOWN_MS ?? 500));
    const back = Date.now() - restartAt;
    const exit = await run.exited;
    const result = tagged<Result>(exit.stdout, "RESULT");
    const failure = tagged<{ message: string }>(exit.stdout, "FAILED");
    console.log(`broker restart: down ${back} ms, job ${result ? `finished (${result.duplicates} duplicate(s))` : `failed: ${failure?.message}`} ${Date.now() - restartAt} ms after the restart`);
    console.log(exit.stdout.split("\n").filter((l) => !l.startsWith("PROGRESS")).join("\n").slice(0, 3000), exit.stderr.slice(0, 3000));
    expect(Date.now() - restartAt).toBeLessThan(15_000);
    if (result) {
      expect(result.distinct).toBe(20000);
      expect(result.status.state).toBe("finished");
    } else {
      expect(failure?.message).toMatch(/broker|connection|cluster/);
    }
    await waitFor(() => hostProcessesOf(jobId).length === 0, LEASE_MS + 1000, "the job's hosts end");
    expect(await servicesOf(jobId)).toEqual([]);
  }, 40_000);
});

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
