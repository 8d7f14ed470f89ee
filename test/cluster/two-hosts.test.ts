/**
 * Two hosts: one worker runs in a network namespace of the test's own and reaches the broker over
 * a veth link, as a worker on another machine would; the broker listens on this side's address of
 * that link. A job whose remote parts live on that worker runs; then its link is cut in the middle
 * of a job, and the driver must treat it as a dead worker within the lease (its parts re-placed on
 * a worker of this side, every record delivered). Skipped, with the reason printed, where
 * namespaces cannot be made (not root, no `ip`).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobStatus } from "../../src/index.js";
import { hostProcessesOf, startTestCluster, type TestCluster } from "../support/cluster.js";
import { startDriver, tagged, waitFor, type DriverExit, type DriverRun } from "../support/driver.js";
import { discoverServices } from "../support/nats.js";
import { createNamespace, linkExists, namespaceExists, namespacesUnavailable, type NetworkNamespace } from "../support/netns.js";

/** The workers' lease: silent this long, a worker counts as gone. */
const LEASE_MS = 2000;
/** The driver's lease (the default): its job hosts tear the job down when its beats stop this long. */
const DRIVER_LEASE_MS = 5000;
/** How often the driver looks at the registry for silent workers. */
const CHECK_MS = 1000;

const unavailable = namespacesUnavailable();
if (unavailable) console.log(`two-hosts tests skipped: ${unavailable}`);

interface Progress {
  progress: number;
  tagPid: number;
  servicePid: number;
}

interface Outcome {
  results: number;
  distinct: number;
  error?: string;
  status: JobStatus;
}

/** The first PROGRESS line matching `pattern`, parsed. */
async function progress(driver: DriverRun, pattern: RegExp): Promise<Progress> {
  return JSON.parse((await driver.line(pattern, 30_000)).slice("PROGRESS ".length)) as Progress;
}

/** The job's outcome as the driver printed it (RESULT or FAILED). */
function outcomeOf(exit: DriverExit): Outcome {
  const out = tagged<Outcome>(exit.stdout, "RESULT") ?? tagged<Outcome>(exit.stdout, "FAILED");
  if (!out) throw new Error(`the driver printed no outcome (exit ${exit.code ?? exit.signal}):\n${exit.stderr}`);
  return out;
}

describe.skipIf(unavailable !== undefined)("two hosts (a worker in a network namespace of its own)", () => {
  let ns: NetworkNamespace | undefined;
  let cluster: TestCluster | undefined;

  beforeAll(async () => {
    ns = createNamespace();
    cluster = await startTestCluster({ workers: 0, host: ns.hostAddress, leaseMs: LEASE_MS });
    await cluster.addWorker("far", { exec: ns.exec, slots: 8 });
  });

  afterAll(async () => {
    let leftInside: number[] = [];
    try {
      await cluster?.stop();
    } finally {
      leftInside = ns?.pids() ?? [];
      await ns?.remove();
    }
    expect(leftInside, "processes left inside the namespace").toEqual([]);
    expect(namespaceExists(ns!.name)).toBe(false);
    expect(linkExists(ns!.hostLink)).toBe(false);
  });

  it("runs a remote stage and a remote service on the worker behind the link", async () => {
    const far = cluster!.workers.find((w) => w.name === "far")!;
    expect(ns!.pids()).toContain(far.child.pid);
    const driver = startDriver("two-hosts-job.ts", { SAGE_TEST_CLUSTER: cluster!.url, RECORDS: "200", PACE_MS: "2" });
    const first = await progress(driver, /^PROGRESS /);
    // Both remote parts answer from processes inside the namespace: they reach the broker over the veth.
    expect(ns!.pids()).toEqual(expect.arrayContaining([first.tagPid, first.servicePid]));
    const exit = await driver.exitedWithin(30_000);
    const out = outcomeOf(exit);
    expect(exit.code, `${out.error ?? ""}\n${exit.stderr}`).toBe(0);
    expect(out).toMatchObject({ results: 200, distinct: 200 });
    expect(out.status).toMatchObject({ state: "finished", platform: "distributed", tasks: 0, services: 0, isRunning: false });
    expect(out.status.operators.find((o) => o.name === "Tag")?.workers).toEqual(["far"]);
    expect(out.status.serviceDetails).toMatchObject([{ name: "counter", state: "stopped", remote: true, calls: 200, worker: "far", errors: 0 }]);
    expect(hostProcessesOf(out.status.id)).toEqual([]);
    expect((await discoverServices(cluster!.nc)).filter((s) => s.metadata?.sage_job === out.status.id)).toEqual([]);
  });

  it("survives the link being cut mid-job: the worker is dropped within the lease and its parts re-placed on this side", { timeout: 90_000 }, async () => {
    // Fewer slots than the far worker, so both parts go far first (placement prefers the most free slots).
    await cluster!.addWorker("near", { slots: 2 });
    const records = 600;
    const driver = startDriver("two-hosts-job.ts", { SAGE_TEST_CLUSTER: cluster!.url, RECORDS: String(records), PACE_MS: "10" }, 80_000);
    const before = await progress(driver, /^PROGRESS \{"progress":100,/);
    expect(ns!.pids()).toEqual(expect.arrayContaining([before.tagPid, before.servicePid]));

    const cutAt = Date.now();
    ns!.cut();
    const droppedMs = await waitFor(() => /worker 'far' (left or )?stopped answering/.test(driver.stderr()), 30_000, "the driver dropping the cut-off worker");
    // The first record served by the service re-created on this side.
    await progress(driver, new RegExp(`^PROGRESS \\{"progress":\\d+,"tagPid":\\d+,"servicePid":(?!${before.servicePid}\\})\\d+\\}`));
    const resumedMs = Date.now() - cutAt;
    const exit = await driver.exitedWithin(70_000);
    const timings = { droppedMs, resumedMs, endedMs: Date.now() - cutAt };
    console.log(`two hosts, link cut: ${JSON.stringify(timings)}`);
    const out = outcomeOf(exit);

    expect(exit.code, `${out.error ?? ""}\n${exit.stderr}`).toBe(0);
    // At least once: every record reached the sink, some of them maybe twice.
    expect(out.distinct).toBe(records);
    expect(out.results).toBeGreaterThanOrEqual(records);
    expect(out.status).toMatchObject({ state: "finished", platform: "distributed", tasks: 0, services: 0, isRunning: false });
    expect(out.status.operators.find((o) => o.name === "Tag")?.workers).toEqual(["near"]);
    expect(out.status.serviceDetails).toEqual([expect.objectContaining({ name: "counter", state: "stopped", remote: true, worker: "near" })]);
    // Dropped within the lease (plus one registry check and scheduling slack), not after a TCP time-out.
    expect(timings.droppedMs).toBeLessThanOrEqual(LEASE_MS + CHECK_MS + 1500);
    expect(timings.resumedMs).toBeLessThanOrEqual(LEASE_MS + CHECK_MS + 5000);
    // Slow until the broker drops the dead host's connection (its write deadline, 10 s, after its
    // socket filled up): the dead instance's subscription still takes its share of the calls, each
    // re-sent after a wait for ACCEPTED. Bounded, never a hang.
    expect(timings.endedMs).toBeLessThan(60_000);
    // The cut-off worker hears no driver beats either: it ends its host of the job within the driver's lease.
    const deadline = cutAt + DRIVER_LEASE_MS + 3000;
    while (hostProcessesOf(out.status.id).length > 0 && Date.now() < deadline) await sleep(100);
    expect(hostProcessesOf(out.status.id)).toEqual([]);
    expect((await discoverServices(cluster!.nc)).filter((s) => s.metadata?.sage_job === out.status.id)).toEqual([]);
  });
});
