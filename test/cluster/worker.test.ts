import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { afterEach, describe, expect, it } from "vitest";
import { connectCluster } from "../../src/cluster/connect.js";
import type { DriverReport, JobHostOptions, WorkerReply, WorkerRequest } from "../../src/cluster/protocol.js";
import { subjects } from "../../src/cluster/subjects.js";
import { Worker, type WorkerOptions } from "../../src/cluster/worker.js";
import { listWorkers } from "../../src/cluster/worker-registry.js";
import { startTestBroker, stopTestBroker, type NatsServerProcess } from "../support/nats.js";
import { expectGone, isAlive, STAND_IN_HOST, startWorkerChild, waitUntil } from "./worker-child.js";

let broker: NatsServerProcess | undefined;
let nc: NatsConnection | undefined;
const workers: Worker[] = [];
const pids: number[] = [];

afterEach(async () => {
  try {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await nc?.close();
    nc = undefined;
    await expectGone(pids.splice(0));
  } finally {
    await stopTestBroker(broker);
    broker = undefined;
  }
});

interface StandInReport {
  pid: number;
  grandchildren: number[];
  env: Record<string, string | null>;
}

/** A broker, a client connection and an in-process worker whose output is kept. */
async function setUp(options: Partial<WorkerOptions> = {}) {
  broker = await startTestBroker();
  nc = await connectCluster({ url: broker.url }, { name: "worker-test" });
  const lines: Array<{ line: string; stream: "out" | "err" }> = [];
  const worker = new Worker({
    cluster: { url: broker.url },
    name: `w-${randomUUID().slice(0, 8)}`,
    slots: 2,
    beatMs: 200,
    leaseMs: 1000,
    hostEntry: STAND_IN_HOST,
    stopGraceMs: 500,
    output: (line, stream) => lines.push({ line, stream }),
    ...options,
  });
  workers.push(worker);
  await worker.start();
  /** The stand-in host's report of job `jobId`, once it printed it. */
  const report = async (jobId: string): Promise<StandInReport> => {
    const prefix = `[job ${jobId}] `;
    const find = () => lines.find((l) => l.line.startsWith(prefix) && l.line.includes('"standIn":true'));
    await waitUntil(() => find() !== undefined, 10_000);
    const parsed = JSON.parse(find()!.line.slice(prefix.length)) as StandInReport;
    pids.push(parsed.pid, ...parsed.grandchildren);
    return parsed;
  };
  return { worker, lines, report };
}

function hostOptions(jobId: string, extra: Partial<JobHostOptions> = {}): JobHostOptions {
  return { jobId, worker: "ignored", bundle: "abc123", pipelineIndex: 0, pipelineName: "p", graphFingerprint: "fp", leaseMs: 60_000, ...extra };
}

async function ask(worker: Worker, request: WorkerRequest | Record<string, unknown> | string): Promise<WorkerReply> {
  const data = typeof request === "string" ? request : JSON.stringify(request);
  return (await nc!.request(subjects.workerControl(worker.name), data, { timeout: 10_000 })).json<WorkerReply>();
}

function startHost(worker: Worker, jobId: string, slots = 1, extra: Partial<JobHostOptions> = {}) {
  return ask(worker, { type: "start-host", jobId, slots, host: hostOptions(jobId, extra) });
}

describe("worker", () => {
  it("start-host spawns the job's host with its environment and output forwarded; stop-host ends its whole tree", async () => {
    const { worker, lines, report } = await setUp();
    const jobId = randomUUID();
    expect(await startHost(worker, jobId, 1, { env: { STAND_IN_VAR: "from the driver", STAND_IN_GRANDCHILDREN: "1" } })).toEqual({ ok: true });
    const host = await report(jobId);
    expect(worker.hosts()).toEqual([{ jobId, pid: host.pid, slots: 1 }]);
    expect(host.env).toMatchObject({ SAGE_CLUSTER: broker!.url, SAGE_CLUSTER_CREDS: null, SAGE_JOB_ID: `${jobId}@${worker.name}`, STAND_IN_VAR: "from the driver", SAGE_WORKER: null });
    expect(JSON.parse(host.env.SAGE_JOB_HOST!)).toEqual({ ...hostOptions(jobId), worker: worker.name, env: { STAND_IN_VAR: "from the driver", STAND_IN_GRANDCHILDREN: "1" } });
    await waitUntil(() => lines.some((l) => l.stream === "err" && l.line === `[job ${jobId}] stand-in host on stderr`));
    // The registry shows the slot taken and the job.
    await waitUntil(async () => (await listWorkers(nc!))[0]?.used === 1);
    expect((await listWorkers(nc!))[0]!.jobs).toEqual([jobId]);

    expect(host.grandchildren).toHaveLength(2);
    expect([host.pid, ...host.grandchildren].every(isAlive)).toBe(true);
    const stopped = await ask(worker, { type: "stop-host", jobId });
    // It says how many of the host's lines it forwarded to the driver: the driver reads them all before the job ends.
    expect(stopped).toEqual({ ok: true, outputs: lines.filter((l) => l.line.startsWith(`[job ${jobId}] `)).length });
    expect((stopped as { outputs: number }).outputs).toBeGreaterThan(0);
    // The reply comes once the tree is gone, including the grandchild that left the host's group.
    expect([host.pid, ...host.grandchildren].filter(isAlive)).toEqual([]);
    expect(worker.hosts()).toEqual([]);
    expect(worker.used).toBe(0);
    expect(await ask(worker, { type: "stop-host", jobId })).toEqual({ ok: true, outputs: 0 }); // nothing to stop: still fine
    await waitUntil(async () => (await listWorkers(nc!))[0]?.used === 0);
  });

  it("ending a host ends only its own processes: not the job's driver on the same machine, nor another worker's host of the job", async () => {
    const { worker, report } = await setUp();
    const jobId = randomUUID();
    // A JobManager job process (the driver) carries SAGE_JOB_ID=<job id>; another worker's host <job id>@<its name>.
    const keep = ["-e", "setInterval(() => {}, 1000)"];
    const driver = spawn(process.execPath, keep, { stdio: "ignore", detached: true, env: { ...process.env, SAGE_JOB_ID: jobId } });
    const otherHost = spawn(process.execPath, keep, { stdio: "ignore", detached: true, env: { ...process.env, SAGE_JOB_ID: `${jobId}@another-worker` } });
    pids.push(driver.pid!, otherHost.pid!);
    expect(await startHost(worker, jobId, 1)).toEqual({ ok: true });
    const host = await report(jobId);
    expect(await ask(worker, { type: "stop-host", jobId })).toMatchObject({ ok: true });
    expect(isAlive(host.pid)).toBe(false);
    expect([driver.pid!, otherHost.pid!].every(isAlive)).toBe(true);
    // Gone before the check after the test, which counts what still runs as left behind.
    await Promise.all([driver, otherHost].map((child) => new Promise((resolve) => (child.once("exit", resolve), child.kill("SIGKILL")))));
  });

  it("reuses a job's host for more slots and refuses what would exceed its slots or is malformed", async () => {
    const { worker, report } = await setUp({ slots: 3 });
    const job = randomUUID();
    expect(await startHost(worker, job, 2)).toEqual({ ok: true });
    expect(await startHost(worker, job, 1)).toEqual({ ok: true });
    const host = await report(job);
    expect(worker.hosts()).toEqual([{ jobId: job, pid: host.pid, slots: 3 }]);

    const other = randomUUID();
    const refused = await startHost(worker, other, 1);
    expect(refused).toEqual({ ok: false, error: `worker ${worker.name} has 0 of its 3 slots free: job ${other} asked for 1` });
    expect(await startHost(worker, job, 1)).toMatchObject({ ok: false });
    expect(worker.hosts()).toHaveLength(1);

    expect(await ask(worker, "not json")).toEqual({ ok: false, error: "a worker request must be JSON" });
    expect(await ask(worker, { type: "start-host", jobId: "a.>", slots: 1, host: hostOptions("a.>") })).toMatchObject({ ok: false, error: expect.stringContaining("jobId") });
    expect(await ask(worker, { type: "start-host", jobId: other, slots: 0, host: hostOptions(other) })).toMatchObject({ ok: false, error: expect.stringContaining("slots") });
    expect(await ask(worker, { type: "start-host", jobId: other, slots: 1, host: { ...hostOptions(other), leaseMs: "soon" } })).toMatchObject({ ok: false, error: expect.stringContaining("leaseMs") });
    expect(await ask(worker, { type: "reboot", jobId: other })).toMatchObject({ ok: false, error: expect.stringContaining("unknown worker request type") });

    expect(await ask(worker, { type: "stop-host", jobId: job })).toMatchObject({ ok: true });
    expect(await startHost(worker, other, 3)).toEqual({ ok: true }); // slots freed
    await report(other);
  });

  it("ends the host tree of a job whose driver stopped beating, within the job's lease", async () => {
    const { worker, lines, report } = await setUp();
    const jobId = randomUUID();
    const leaseMs = 1500;
    expect(await startHost(worker, jobId, 1, { leaseMs, env: { STAND_IN_GRANDCHILDREN: "1" } })).toEqual({ ok: true });
    const beats = setInterval(() => nc!.publish(subjects.beat(jobId), JSON.stringify({ at: Date.now() })), 300);
    const host = await report(jobId);
    // Beats keep it: well past its lease, it still runs.
    await new Promise((resolve) => setTimeout(resolve, leaseMs + 500));
    clearInterval(beats);
    const silentFrom = Date.now();
    expect(isAlive(host.pid)).toBe(true);
    await waitUntil(() => [host.pid, ...host.grandchildren].every((pid) => !isAlive(pid)), leaseMs + 2000);
    const tornDownAfter = Date.now() - silentFrom;
    expect(tornDownAfter).toBeLessThan(leaseMs + 700);
    expect(tornDownAfter).toBeGreaterThanOrEqual(leaseMs - 300);
    expect(lines.some((l) => l.line.includes(`job ${jobId}: ending its host (no heartbeat from its driver for`))).toBe(true);
    await waitUntil(() => worker.hosts().length === 0);
  });

  it("forgets a host that exits, frees its slots and tells the driver when it crashed", async () => {
    const { worker, lines, report } = await setUp({ slots: 1 });
    const jobId = randomUUID();
    const reports: DriverReport[] = [];
    nc!.subscribe(subjects.driver(jobId), {
      callback: (_, msg) => {
        // The host's output is forwarded on the same subject: only the other reports count here.
        const report = msg.json<DriverReport>();
        if (report.type !== "output") reports.push(report);
      },
    });
    await nc!.flush();
    expect(await startHost(worker, jobId, 1, { env: { STAND_IN_EXIT_AFTER_MS: "200", STAND_IN_EXIT_CODE: "3" } })).toEqual({ ok: true });
    await report(jobId);
    await waitUntil(() => worker.hosts().length === 0);
    expect(worker.used).toBe(0);
    await waitUntil(() => reports.length === 1);
    expect(reports[0]).toEqual({ type: "host-failed", worker: worker.name, error: `the job host process on worker ${worker.name} exited (code 3)` });
    expect(lines.some((l) => l.line === `[worker] job ${jobId}: host exited (code 3)`)).toBe(true);
    const next = randomUUID();
    expect(await startHost(worker, next, 1)).toEqual({ ok: true });
    await report(next);
  });

  it("gives each host a directory of its own for the job's code and removes it after the host was killed", async () => {
    const { worker, lines, report } = await setUp();
    const jobId = randomUUID();
    expect(await startHost(worker, jobId, 1)).toEqual({ ok: true });
    const host = await report(jobId);
    const dir = host.env.SAGE_JOB_DIR!;
    expect(dirname(dir)).toBe(tmpdir());
    expect(basename(dir)).toMatch(new RegExp(`^sage-job-${jobId}-`));
    // Where the host puts the bundle; a host killed with SIGKILL cannot remove it itself.
    writeFileSync(join(dir, "job.mjs"), "// the job's source\n");
    process.kill(host.pid, "SIGKILL");
    await waitUntil(() => lines.some((l) => l.line === `[worker] job ${jobId}: host exited (signal SIGKILL)`));
    expect(existsSync(dir)).toBe(false);
  });

  it("stop() ends every host tree, deletes its entry and disconnects", async () => {
    const { worker, report } = await setUp();
    const jobs = [randomUUID(), randomUUID()];
    for (const jobId of jobs) expect(await startHost(worker, jobId, 1, { env: { STAND_IN_GRANDCHILDREN: "1" } })).toEqual({ ok: true });
    const hosts = await Promise.all(jobs.map(report));
    expect((await listWorkers(nc!)).map((w) => w.name)).toEqual([worker.name]);
    await worker.stop();
    expect(await worker.left).toEqual({ reason: "stopped" });
    expect(hosts.flatMap((h) => [h.pid, ...h.grandchildren]).filter(isAlive)).toEqual([]);
    expect(await listWorkers(nc!)).toEqual([]);
    await expect(nc!.request(subjects.workerControl(worker.name), "{}", { timeout: 500 })).rejects.toThrow();
  });

  it("a worker process leaves cleanly on SIGTERM: exit 0, entry gone, host processes gone", async () => {
    broker = await startTestBroker();
    nc = await connectCluster({ url: broker.url }, { name: "worker-test" });
    const child = startWorkerChild({ cluster: { url: broker.url }, name: "termed", slots: 2, hostEntry: STAND_IN_HOST });
    pids.push(child.pid);
    expect(await child.joined).toBe(`worker termed joined ${broker.url} with 2 slots`);
    const jobId = randomUUID();
    const reply = (await nc.request(subjects.workerControl("termed"), JSON.stringify({ type: "start-host", jobId, slots: 1, host: hostOptions(jobId, { env: { STAND_IN_GRANDCHILDREN: "1" } }) }), { timeout: 10_000 })).json();
    expect(reply).toEqual({ ok: true });
    await waitUntil(() => child.output().stdout.includes('"standIn":true'));
    const line = child.output().stdout.split("\n").find((l) => l.includes('"standIn":true'))!;
    const host = JSON.parse(line.slice(line.indexOf("{"))) as StandInReport;
    pids.push(host.pid, ...host.grandchildren);
    child.child.kill("SIGTERM");
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.output().stdout).toContain("worker termed received SIGTERM: leaving");
    expect([host.pid, ...host.grandchildren].filter(isAlive)).toEqual([]);
    expect(await listWorkers(nc)).toEqual([]);
  });

  it("a worker with an unreachable cluster fails within seconds with a clear message", async () => {
    const started = Date.now();
    const worker = new Worker({ cluster: { url: "nats://127.0.0.1:1" }, name: "nowhere", connectTimeoutMs: 2000 });
    await expect(worker.start()).rejects.toThrow("cannot connect to the NATS cluster at nats://127.0.0.1:1");
    const child = startWorkerChild({ cluster: { url: "nats://user:secret@127.0.0.1:1" }, name: "nowhere" });
    pids.push(child.pid);
    expect((await child.exited).code).toBe(1);
    expect(child.output().stderr).toMatch(/^sage worker: cannot connect to the NATS cluster at nats:\/\/user:\*\*\*@127\.0\.0\.1:1: /);
    expect(child.output().stderr).not.toContain("secret");
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
