/**
 * Faults of distributed mode (issue 7, "Leases"): a worker killed mid-job, the driver killed
 * mid-job, the broker restarted mid-job. Each test has a cluster of its own (broker and workers
 * through the CLI, leases of 1.5 s) and checks that nothing of it is left afterwards.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hostProcessesOf } from "../support/cluster.js";
import { parentOf, running, tagged, waitFor } from "../support/driver.js";
import { faultHarness, LEASE_MS, type FaultJobFailure, type FaultJobResult } from "../support/faults.js";

const { setUp, servicesOf, streamExists, expectNothingLeft } = faultHarness();

// 20k records in batches of 100 through a keyed stage of 2 remote instances, 20 ms of work every
// 100 records and a remote service call every 50: a few seconds undisturbed, so a fault lands mid-way.
const JOB = { RECORDS: "20000", DELAY_EVERY: "100", DELAY_MS: "20" };

describe("distributed faults: kills and restarts", () => {
  it("SIGKILL of a worker mid-job: its hosts end, its instances are re-placed and the job finishes with every record", async () => {
    const { cluster, start } = await setUp(JOB);
    const run = start();
    const jobId = (await run.line(/^JOB /)).slice(4);
    await run.line(/^PROGRESS 4000$/);
    const victim = cluster.workers[0]!;
    const hosts = hostProcessesOf(jobId).filter((pid) => parentOf(pid) === victim.child.pid);
    expect(hosts.length).toBeGreaterThan(0);
    const killedAt = Date.now();
    victim.child.kill("SIGKILL");
    // No worker is left to end them: they see its pipe close and leave by themselves.
    const hostsGoneMs = await waitFor(() => hosts.every((pid) => !running(pid)), 2000, "the killed worker's job hosts end");
    const exit = await run.exitedWithin(15_000);
    const result = tagged<FaultJobResult>(exit.stdout, "RESULT");
    expect(result, exit.stdout + exit.stderr).toBeDefined();
    const afterKill = Date.now() - killedAt;
    console.log(`worker SIGKILL: its hosts gone ${hostsGoneMs} ms after, job finished ${afterKill} ms after (${result!.ms} ms in all), ${result!.duplicates} duplicate(s), restartCount ${result!.status.restartCount}`);
    // At-least-once: every id arrived, some perhaps twice.
    expect(result!.distinct).toBe(20000);
    expect(result!.missing).toEqual([]);
    expect(result!.received).toBeGreaterThanOrEqual(20000);
    expect(result!.status.state).toBe("finished");
    expect(result!.status.restartCount).toBeGreaterThan(0);
    expect(afterKill).toBeLessThan(15_000);
    await expectNothingLeft(jobId);
  }, 40_000);

  it("SIGKILL of the driver mid-job: the workers end its hosts within the lease, clean up its services and remove its stream", async () => {
    const markers = mkdtempSync(join(tmpdir(), "sage-faults-"));
    try {
      const { start } = await setUp({ ...JOB, MARKER_DIR: markers });
      const run = start();
      const jobId = (await run.line(/^JOB /)).slice(4);
      await run.line(/^PROGRESS 2000$/);
      expect(hostProcessesOf(jobId).length).toBeGreaterThanOrEqual(2);
      expect(await servicesOf(jobId)).toHaveLength(1);
      const killedAt = Date.now();
      run.child.kill("SIGKILL");
      const goneMs = await waitFor(() => hostProcessesOf(jobId).length === 0, LEASE_MS + 1000, "the job's hosts end after the driver died");
      expect(await servicesOf(jobId)).toEqual([]);
      // Best effort, but it ran: the service's cleanup() wrote its line on its worker.
      expect(readdirSync(markers).map((f) => readFileSync(join(markers, f), "utf8"))).toEqual(["setup\ncleanup\n"]);
      const streamMs = await waitFor(async () => !(await streamExists(jobId)), 1000, "the job's stream is removed");
      console.log(`driver SIGKILL: hosts gone ${goneMs} ms after (lease ${LEASE_MS} ms), stream removed ${goneMs + streamMs} ms after`);
      expect(Date.now() - killedAt).toBeLessThan(LEASE_MS + 2000);
      await expectNothingLeft(jobId);
    } finally {
      rmSync(markers, { recursive: true, force: true });
    }
  }, 40_000);

  it.each([
    ["shorter than the lease", 300],
    ["twice the lease", 2 * LEASE_MS],
  ])("a broker restart mid-job (same store, down %s): the job finishes with every record, or fails clearly; it never hangs", async (_, downMs) => {
    const { cluster, start } = await setUp(JOB);
    const run = start();
    const jobId = (await run.line(/^JOB /)).slice(4);
    await run.line(/^PROGRESS 4000$/);
    const restartAt = Date.now();
    await cluster.restartBroker(downMs);
    const exit = await run.exitedWithin(15_000);
    const afterRestart = Date.now() - restartAt;
    const result = tagged<FaultJobResult>(exit.stdout, "RESULT");
    const failure = tagged<FaultJobFailure>(exit.stdout, "FAILED");
    console.log(`broker down ${downMs} ms: job ${result ? `finished with ${result.duplicates} duplicate(s)` : `failed (${failure?.message})`} ${afterRestart} ms after the restart`);
    expect(afterRestart).toBeLessThan(15_000);
    if (result) {
      expect(result.distinct).toBe(20000);
      expect(result.status.state).toBe("finished");
    } else {
      expect(failure, exit.stdout + exit.stderr).toBeDefined();
      expect(failure!.message).toMatch(/heartbeat|connection|cluster|broker/);
    }
    await expectNothingLeft(jobId, LEASE_MS + 1000);
  }, 40_000);
});
