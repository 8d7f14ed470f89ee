import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { NatsConnection } from "@nats-io/nats-core";
import { afterEach, describe, expect, it } from "vitest";
import { connectCluster } from "../../src/cluster/connect.js";
import { startNatsServer } from "../../src/cluster/nats-server-process.js";
import {
  listWorkers,
  registerWorker,
  watchWorkers,
  WorkerNameTakenError,
  type RegistrationOptions,
  type WorkerChange,
  type WorkerRegistration,
} from "../../src/cluster/worker-registry.js";
import { startTestBroker, stopTestBroker, type NatsServerProcess } from "../support/nats.js";
import { expectGone, startWorkerChild, waitUntil } from "./worker-child.js";

let broker: NatsServerProcess | undefined;
const connections: NatsConnection[] = [];
const registrations: WorkerRegistration[] = [];
const pids: number[] = [];

afterEach(async () => {
  try {
    await Promise.all(registrations.splice(0).map((r) => r.leave()));
    await Promise.all(connections.splice(0).map((nc) => nc.close()));
    await expectGone(pids.splice(0));
  } finally {
    await stopTestBroker(broker);
    broker = undefined;
  }
});

async function connected(url = broker!.url): Promise<NatsConnection> {
  const nc = await connectCluster({ url }, { name: "registry-test" });
  connections.push(nc);
  return nc;
}

function member(name: string, extra: Partial<RegistrationOptions> = {}): RegistrationOptions {
  return { name, id: randomUUID(), slots: 2, hostname: hostname(), pid: process.pid, version: "test", beatMs: 200, leaseMs: 1000, ...extra };
}

async function joined(nc: NatsConnection, options: RegistrationOptions): Promise<WorkerRegistration> {
  const registration = await registerWorker(nc, options);
  registrations.push(registration);
  return registration;
}

describe("worker registry", () => {
  it("lists the workers that joined, with their load and age, and forgets one that left", async () => {
    broker = await startTestBroker();
    const nc = await connected();
    expect(await listWorkers(nc)).toEqual([]); // no bucket yet: nobody ever joined
    let load = { used: 0, jobs: [] as string[] };
    const a = await joined(nc, member("a", { load: () => load }));
    await joined(nc, member("b.with dots", { slots: 5 }));
    const listed = await listWorkers(nc);
    expect(listed.map((w) => [w.name, w.slots, w.used])).toEqual([
      ["a", 2, 0],
      ["b.with dots", 5, 0],
    ]);
    expect(listed[0]).toMatchObject({ hostname: hostname(), pid: process.pid, beatMs: 200, leaseMs: 1000, jobs: [], version: "test" });
    expect(listed[0]!.ageMs).toBeLessThan(1000);

    load = { used: 1, jobs: ["job-1"] };
    a.refresh();
    await waitUntil(async () => (await listWorkers(nc)).find((w) => w.name === "a")?.used === 1, 2000);
    expect((await listWorkers(nc)).find((w) => w.name === "a")!.jobs).toEqual(["job-1"]);

    await a.leave();
    expect((await listWorkers(nc)).map((w) => w.name)).toEqual(["b.with dots"]);
  });

  it("refuses a second worker with a live worker's name, and lets it take over once the first was killed and its lease ran out", async () => {
    broker = await startTestBroker();
    const nc = await connected();
    const first = startWorkerChild({ cluster: { url: broker.url }, name: "twin", slots: 1, beatMs: 200, leaseMs: 1500 });
    pids.push(first.pid);
    await first.joined;

    const refused = await registerWorker(nc, member("twin")).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(WorkerNameTakenError);
    expect((refused as Error).message).toContain(`a worker named 'twin' is already in the cluster (host ${hostname()}, pid ${first.pid}`);
    // The CLI's second worker is refused the same way, and the first stays listed.
    const second = startWorkerChild({ cluster: { url: broker.url }, name: "twin" });
    pids.push(second.pid);
    expect((await second.exited).code).toBe(1);
    expect(second.output().stderr).toContain("a worker named 'twin' is already in the cluster");
    expect((await listWorkers(nc)).map((w) => w.pid)).toEqual([first.pid]);

    first.child.kill("SIGKILL");
    await first.exited;
    const killedAt = Date.now();
    // Its entry is still there, but stale entries are not listed once the lease ran out.
    await waitUntil(async () => (await listWorkers(nc)).length === 0, 3000);
    const staleAfter = Date.now() - killedAt;
    expect(staleAfter).toBeLessThan(1500 + 500);
    const taken = await joined(nc, member("twin"));
    expect((await listWorkers(nc)).map((w) => w.id)).toEqual([taken.entry.id]);
  });

  it("a worker whose name was taken while it was frozen leaves with exit code 1 and leaves the new holder's entry alone", async () => {
    broker = await startTestBroker();
    const nc = await connected();
    const frozen = startWorkerChild({ cluster: { url: broker.url }, name: "frozen", slots: 1, beatMs: 200, leaseMs: 800 });
    pids.push(frozen.pid);
    await frozen.joined;
    frozen.child.kill("SIGSTOP");
    await waitUntil(async () => (await listWorkers(nc)).length === 0, 3000);
    const holder = await joined(nc, member("frozen"));
    frozen.child.kill("SIGCONT");
    expect((await frozen.exited).code).toBe(1);
    expect(frozen.output().stderr).toContain("its name was taken");
    expect((await listWorkers(nc)).map((w) => w.id)).toEqual([holder.entry.id]);
  });

  it("a watch hears joins, leaves and workers that went silent", async () => {
    broker = await startTestBroker();
    const nc = await connected();
    const early = await joined(nc, member("early"));
    const changes: WorkerChange[] = [];
    const watch = watchWorkers(nc, { onChange: (change) => changes.push(change), checkMs: 50 });
    try {
      await watch.ready;
      expect(watch.live().map((w) => w.name)).toEqual(["early"]);
      const child = startWorkerChild({ cluster: { url: broker.url }, name: "silent", beatMs: 200, leaseMs: 1000 });
      pids.push(child.pid);
      await child.joined;
      await waitUntil(() => watch.live().some((w) => w.name === "silent"), 3000);
      await early.leave();
      await waitUntil(() => changes.some((c) => c.type === "left" && c.worker.name === "early"), 3000);
      child.child.kill("SIGKILL");
      const killedAt = Date.now();
      await waitUntil(() => changes.some((c) => c.type === "left" && c.worker.name === "silent"), 3000);
      expect(Date.now() - killedAt).toBeLessThan(1000 + 500);
      expect(changes.map((c) => `${c.type}${c.type === "left" ? `(${c.reason})` : ""} ${c.worker.name}`)).toEqual([
        "joined early",
        "joined silent",
        "left(left) early",
        "left(silent) silent",
      ]);
      expect(watch.live()).toEqual([]);
      await child.exited;
    } finally {
      watch.stop();
    }
  });

  it("a worker writes its entry again after the broker came back without its store", async () => {
    broker = await startTestBroker();
    const port = broker.port;
    const nc = await connected();
    const registration = await joined(nc, member("survivor"));
    const watcher = await connected();
    const watch = watchWorkers(watcher, { checkMs: 50 });
    try {
      await watch.ready;
      expect(watch.live().map((w) => w.name)).toEqual(["survivor"]);
      await stopTestBroker(broker);
      broker = await startNatsServer({ port });
      const other = await connected(broker.url);
      await waitUntil(async () => (await listWorkers(other)).some((w) => w.name === "survivor"), 8000);
      expect((await listWorkers(other))[0]!.id).toBe(registration.entry.id);
      // The watch, too, sees it again once it watches the new bucket.
      await waitUntil(() => watch.live().some((w) => w.name === "survivor" && w.ageMs < 500), 8000);
    } finally {
      watch.stop();
    }
  });
});
