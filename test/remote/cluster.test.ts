/**
 * A JobManager started with --cluster (through the CLI, as users do): the jobs submitted to it place
 * their remote parts on that cluster's workers, /api/info and `sage jobmanager status` show the
 * cluster and its workers, and nothing of a job is left on the workers after it. A cluster the
 * JobManager cannot use keeps it from starting at all. Needs `npm run build` (the CLI runs dist/).
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobStatus } from "../../src/api/types.js";
import { dataPaths } from "../../src/jobmanager/paths.js";
import { eventually, freePort, isAlive, jobManagerSlot, sageDone } from "../cli/sage-cli.js";
import { hostProcessesOf, startTestCluster, type TestCluster } from "../support/cluster.js";
import { discoverServices, startTestBroker, stopTestBroker, type NatsServerProcess } from "../support/nats.js";
import { jobProcessPids } from "./helpers.js";

type Slot = Awaited<ReturnType<typeof jobManagerSlot>>;

const JOB = "test/remote/fixtures/distributed-job.ts";

// GET /api/info of the slot's JobManager, with the token it stored.
async function info(slot: Slot): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const token = readFileSync(dataPaths(slot.dataDir).token, "utf8").trim();
  const response = await fetch(`http://127.0.0.1:${slot.port}/api/info`, { headers: { authorization: `Bearer ${token}` } });
  return response.json();
}

// Starts a JobManager on a fresh slot with the given extra options; answers the slot and the run.
async function startJobManager(extra: string[], env?: Record<string, string>) {
  const slot = await jobManagerSlot();
  const run = await sageDone(["jobmanager", "start", ...extra, ...slot.options], env);
  return { slot, run };
}

describe("remote mode - a JobManager with a cluster", () => {
  let cluster: TestCluster;
  let slot: Slot;
  let serverPid: number;
  const job = (...args: string[]) => sageDone(["job", ...args, ...slot.options]);

  beforeAll(async () => {
    cluster = await startTestCluster({ workers: 2 });
    const started = await startJobManager(["--cluster", cluster.url]);
    slot = started.slot;
    expect(started.run.stderr).toBe("");
    expect(started.run.code).toBe(0);
    expect(started.run.stdout).toContain(`  cluster:   ${cluster.url}, 2 workers: w1 0/4, w2 0/4\n`);
    serverPid = slot.pid()!;
  }, 60_000);

  afterAll(async () => {
    if (slot) {
      const stopped = await sageDone(["jobmanager", "stop", ...slot.options]);
      expect(stopped.code).toBe(0);
      await eventually(() => !isAlive(serverPid), 10_000);
      expect(jobProcessPids(slot.dataDir)).toEqual([]);
      await slot.cleanup([serverPid]);
    }
    await cluster?.stop();
  }, 60_000);

  it("runs a submitted job's remote service and operator on the workers, names them in its status, and leaves nothing on them", async () => {
    const submitted = await job("submit", JOB);
    expect(submitted.stderr).toMatch(/\[sage\] job distributed-job \(\w{8}\) finished in/);
    expect(submitted.stdout).toContain("records 500 sum 124750 bumps 100\n");
    // Parallelism 2 over two workers: two processes, neither of them the job process.
    expect(submitted.stdout).toContain("operator processes 2, none is the job process\n");
    expect(submitted.code).toBe(0);
    const prefix = /\[sage\] job distributed-job \((\w{8})\) finished/.exec(submitted.stderr)![1]!;

    const status = JSON.parse((await job("show", prefix, "--json")).stdout) as JobStatus;
    expect(status).toMatchObject({ state: "finished", platform: "distributed", restartCount: 0, tasks: 0, services: 0 });
    const tag = status.operators.find((o) => o.name === "Tag")!;
    expect(tag).toMatchObject({ recordsIn: 500, recordsOut: 500 });
    expect([...tag.workers!].sort()).toEqual(["w1", "w2"]);
    // Operators of the job process have no workers.
    expect(status.operators.find((o) => o.kind === "batch")).not.toHaveProperty("workers");
    expect(status.serviceDetails).toMatchObject([{ name: "counter", state: "stopped", remote: true, calls: 500, worker: expect.stringMatching(/^w[12]$/), errors: 0 }]);
    const shown = (await job("show", prefix)).stdout;
    expect(shown).toContain("  platform   distributed\n");
    expect(shown).toMatch(/\n {2}Tag\s+map×2\s+in 500\s+out 500\s+on w[12], w[12]\n/);
    expect(shown).toMatch(new RegExp(`\\n {2}counter\\s+stopped\\s+calls 500\\s+on ${status.serviceDetails![0]!.worker}\\n`));

    // Nothing of the job is left: no host process on a worker, no service answering, no job process.
    expect(hostProcessesOf(status.id)).toEqual([]);
    expect((await discoverServices(cluster.nc)).filter((s) => s.metadata?.sage_job === status.id)).toEqual([]);
    await eventually(() => jobProcessPids(slot.dataDir).length === 0);
    // The workers' registry entries let go of it too (at their next beat).
    await eventually(async () => (await info(slot)).cluster.workers.every((w: { jobs: string[]; used: number }) => !w.jobs.includes(status.id) && w.used === 0), 5000);
  });

  it("lists the cluster and its live workers in /api/info and `sage jobmanager status`", async () => {
    const answer = await info(slot);
    expect(answer.cluster).toMatchObject({ url: cluster.url, connected: true });
    expect(answer.cluster.workers.map((w: { name: string }) => w.name)).toEqual(["w1", "w2"]);
    for (const w of answer.cluster.workers) {
      expect(w).toEqual({ name: expect.any(String), host: expect.any(String), slots: 4, used: 0, jobs: [], lastBeatMs: expect.any(Number) });
      expect(w.lastBeatMs).toBeLessThan(2000);
    }
    const status = await sageDone(["jobmanager", "status", ...slot.options]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`  cluster    ${cluster.url}, 2 workers: w1 0/4, w2 0/4\n`);
    const json = JSON.parse((await sageDone(["jobmanager", "status", "--json", ...slot.options])).stdout) as { cluster: { url: string } };
    expect(json.cluster.url).toBe(cluster.url);

    // A worker that joins shows up; one that leaves goes.
    const w3 = await cluster.addWorker("w3", { slots: 1 });
    await eventually(async () => (await info(slot)).cluster.workers.length === 3);
    w3.child.kill("SIGTERM");
    await eventually(async () => (await info(slot)).cluster.workers.length === 2);
  });

  it("refuses a job whose --env would send its remote parts to another cluster", async () => {
    const refused = await job("submit", JOB, "--env", "SAGE_CLUSTER=nats://127.0.0.1:1");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("'options.env' sets SAGE_CLUSTER, which this JobManager sets itself (it was started with --cluster)");
    expect(JSON.parse((await job("list", "--json")).stdout)).toHaveLength(1);
  });
});

describe("remote mode - a JobManager without a cluster", () => {
  let slot: Slot | undefined;

  afterAll(async () => {
    await slot?.cleanup();
  });

  it("runs the same job on an embedded cluster of the job's own, gone with the job", async () => {
    const started = await startJobManager([], { SAGE_CLUSTER: "" });
    slot = started.slot;
    expect(started.run.code, started.run.stderr).toBe(0);
    expect(started.run.stdout).not.toContain("cluster:");
    expect(await info(slot)).not.toHaveProperty("cluster");
    const submitted = await sageDone(["job", "submit", JOB, ...slot.options]);
    expect(submitted.stdout).toContain("records 500 sum 124750 bumps 100\n");
    expect(submitted.code, submitted.stderr).toBe(0);
    const [status] = JSON.parse((await sageDone(["job", "list", "--json", ...slot.options])).stdout) as JobStatus[];
    expect(status).toMatchObject({ state: "finished", platform: "distributed" });
    expect([...status!.operators.find((o) => o.name === "Tag")!.workers!].sort()).toEqual(["local-1", "local-2"]);
    // Its broker, workers and their hosts ran under the job process (they carry its bundle's path): all gone.
    await eventually(() => jobProcessPids(slot!.dataDir).length === 0);
    expect(hostProcessesOf(status!.id)).toEqual([]);
  });
});

describe("remote mode - a JobManager whose cluster is not usable does not start", () => {
  let broker: NatsServerProcess | undefined;
  const slots: Slot[] = [];

  afterAll(async () => {
    for (const slot of slots) await slot.cleanup();
    await stopTestBroker(broker);
  });

  // Nothing of the server is left: no process, no pid file.
  const expectNotStarted = (slot: Slot) => {
    expect(slot.pid()).toBeUndefined();
    expect(jobProcessPids(slot.dataDir)).toEqual([]);
  };

  it("fails with a clear message when nothing listens at the cluster's URL", async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    const { slot, run } = await startJobManager(["--cluster", url]);
    slots.push(slot);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`the JobManager did not start (exit code 1); the log says:`);
    expect(run.stderr).toContain(`the JobManager's cluster is not usable: cannot connect to the NATS cluster at ${url}: nothing listens there`);
    expect(run.stdout).toBe("");
    expectNotStarted(slot);
    // In the foreground too: exit code 1 and the same line, at once.
    const foreground = await sageDone(["jobmanager", "start", "--foreground", "--cluster", url, ...slot.options]);
    expect(foreground.code).toBe(1);
    expect(foreground.stderr).toMatch(/^sage: the JobManager's cluster is not usable: cannot connect to the NATS cluster at .*nothing listens there.*\(E_CLUSTER\)\n$/);
    expectNotStarted(slot);
  });

  it("fails when the cluster refuses its credentials; with the right ones, the password is shown nowhere", async () => {
    broker = await startTestBroker({ args: ["--user", "sage", "--pass", "s3cret-pw"] });
    const wrong = await startJobManager(["--cluster", `nats://sage:wrong@127.0.0.1:${broker.port}`]);
    slots.push(wrong.slot);
    expect(wrong.run.code).toBe(1);
    expect(wrong.run.stderr).toContain(`cannot connect to the NATS cluster at nats://sage:***@127.0.0.1:${broker.port}: the server refused the credentials`);
    expect(wrong.run.stderr).not.toContain("wrong@");
    expectNotStarted(wrong.slot);

    // SAGE_CLUSTER stands in for --cluster.
    const right = await startJobManager([], { SAGE_CLUSTER: `nats://sage:s3cret-pw@127.0.0.1:${broker.port}` });
    slots.push(right.slot);
    expect(right.run.code, right.run.stderr).toBe(0);
    const pid = right.slot.pid()!;
    expect((await info(right.slot)).cluster).toEqual({ url: `nats://sage:***@127.0.0.1:${broker.port}`, connected: true, workers: [] });
    const status = await sageDone(["jobmanager", "status", ...right.slot.options]);
    expect(status.stdout).toContain(`  cluster    nats://sage:***@127.0.0.1:${broker.port}, no workers\n`);
    // The URL reached the server through its environment, not its command line.
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).not.toContain("s3cret-pw");
    for (const output of [right.run.stdout, status.stdout, readFileSync(dataPaths(right.slot.dataDir).log, "utf8")]) expect(output).not.toContain("s3cret-pw");
    expect((await sageDone(["jobmanager", "stop", ...right.slot.options])).code).toBe(0);
    await eventually(() => !isAlive(pid));
  });
});
