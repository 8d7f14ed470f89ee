/**
 * Workers joining and leaving mid-job (issue 7, "Tests"): a worker that joins takes the
 * placements the full ones cannot, and a worker stopped with SIGTERM leaves cleanly while the job
 * survives it as a dead worker (its instances are re-placed).
 */
import { describe, expect, it } from "vitest";
import { listWorkers } from "../../src/cluster/worker-registry.js";
import { endProcess, hostProcessesOf } from "../support/cluster.js";
import { parentOf, running, tagged } from "../support/driver.js";
import { faultHarness, type FaultJobResult } from "../support/faults.js";

const { setUp, expectNothingLeft } = faultHarness();

// As in faults-kill: a job of a few seconds, so a worker joins or leaves while it runs.
const JOB = { RECORDS: "20000", DELAY_EVERY: "100", DELAY_MS: "20" };

describe("distributed faults: workers joining and leaving", () => {
  it("a worker that joins mid-job takes a second job's parts when the others are full", async () => {
    // Job A takes 3 slots (a service and 2 instances): all of w1 (2) and w2 (1).
    const { cluster, start } = await setUp(JOB, { workers: 2, slots: [2, 1] });
    const a = start();
    const jobA = (await a.line(/^JOB /)).slice(4);
    await a.line(/^PROGRESS 1000$/);
    expect((await listWorkers(cluster.nc)).map((w) => [w.name, w.used, w.slots])).toEqual([["w1", 2, 2], ["w2", 1, 1]]);
    const joinedAt = Date.now();
    await cluster.addWorker("w3", { slots: 3 });
    const joinMs = Date.now() - joinedAt;
    const b = start({ RECORDS: "2000" });
    const jobB = (await b.line(/^JOB /)).slice(4);
    const [exitA, exitB] = await Promise.all([a.exitedWithin(20_000), b.exitedWithin(20_000)]);
    const resultA = tagged<FaultJobResult>(exitA.stdout, "RESULT");
    const resultB = tagged<FaultJobResult>(exitB.stdout, "RESULT");
    expect(resultA, exitA.stdout + exitA.stderr).toBeDefined();
    expect(resultB, exitB.stdout + exitB.stderr).toBeDefined();
    console.log(`worker join: w3 joined in ${joinMs} ms; job B ran ${resultB!.ms} ms while A ran (${resultA!.ms} ms in all)`);
    // A was still running when B placed its parts: all of B is on w3.
    expect(resultA!.status.endedAt! > resultB!.status.startedAt!).toBe(true);
    expect(resultB!.status.operators.find((o) => o.name === "Work")!.workers).toEqual(["w3"]);
    expect(resultB!.status.serviceDetails).toEqual([expect.objectContaining({ name: "ledger", worker: "w3", state: "stopped" })]);
    expect([resultA!.distinct, resultB!.distinct]).toEqual([20000, 2000]);
    expect([...resultA!.status.operators.find((o) => o.name === "Work")!.workers!].sort()).toEqual(["w1", "w2"]);
    await expectNothingLeft(jobA);
    await expectNothingLeft(jobB);
  }, 40_000);

  it("a worker stopped with SIGTERM mid-job leaves cleanly, and its instances are re-placed", async () => {
    const { cluster, start } = await setUp(JOB);
    const run = start();
    const jobId = (await run.line(/^JOB /)).slice(4);
    await run.line(/^PROGRESS 4000$/);
    const leaving = cluster.workers[0]!;
    const hosts = hostProcessesOf(jobId).filter((pid) => parentOf(pid) === leaving.child.pid);
    const others = hostProcessesOf(jobId).filter((pid) => parentOf(pid) !== leaving.child.pid);
    expect(hosts.length).toBeGreaterThan(0);
    expect(others.length).toBeGreaterThan(0);
    const stoppedAt = Date.now();
    await endProcess(leaving.child, "SIGTERM");
    const leftMs = Date.now() - stoppedAt;
    // It left cleanly: exit 0, its entry gone at once (not after a lease), its hosts ended.
    expect(leaving.child.exitCode).toBe(0);
    expect(leaving.output.join("")).toContain("left the cluster");
    expect((await listWorkers(cluster.nc)).map((w) => w.name)).toEqual(["w2"]);
    expect(hosts.filter(running)).toEqual([]);
    // The other worker's host of the same job is not touched.
    expect(others.filter(running)).toEqual(others);
    const exit = await run.exitedWithin(15_000);
    const result = tagged<FaultJobResult>(exit.stdout, "RESULT");
    expect(result, exit.stdout + exit.stderr).toBeDefined();
    console.log(`worker SIGTERM: left in ${leftMs} ms, job finished ${Date.now() - stoppedAt} ms after (${result!.ms} ms in all), ${result!.duplicates} duplicate(s), restartCount ${result!.status.restartCount}`);
    expect(result!.distinct).toBe(20000);
    expect(result!.status.state).toBe("finished");
    expect(result!.status.restartCount).toBeGreaterThan(0);
    expect(result!.status.operators.find((o) => o.name === "Work")!.workers).toEqual(["w2"]);
    await expectNothingLeft(jobId);
  }, 40_000);
});
