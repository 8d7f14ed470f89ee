/**
 * Remote mode - what a JobManager keeps in its data dir: only under paths it built from its own
 * job ids, owner-only, each bundle once, and ended jobs only as long as the retention says.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { dataPaths } from "../../src/jobmanager/paths.js";
import {
  SAGE_IMPORT,
  bundleSource,
  closeTestServer,
  jobLogs,
  makeRepoTmpDir,
  removeDir,
  request,
  startTestServer,
  submitRaw,
  untilJobProcessEnded,
  waitUntil,
  type TestServer,
} from "./helpers.js";

const QUICK = (tag: string) => `import { LocalEnvironment } from ${JSON.stringify(SAGE_IMPORT)};
const env = new LocalEnvironment("quick", { logLevel: "warn" });
env.fromBatch([1, 2, 3]).sink(() => {});
await env.submit({ autostop: true });
console.log(${JSON.stringify(tag)});
`;

const ENDLESS = `import { LocalEnvironment } from ${JSON.stringify(SAGE_IMPORT)};
const env = new LocalEnvironment("endless", { logLevel: "warn" });
env.fromSource(async function* () {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    yield 1;
  }
}).sink(() => {});
await env.submit({ autostop: true });
`;

describe("remote mode - the data dir", () => {
  let tmp: string;
  const servers: TestServer[] = [];
  const roots: string[] = [];

  beforeAll(() => {
    tmp = makeRepoTmpDir();
  });

  afterEach(async () => {
    for (const server of servers.splice(0)) await closeTestServer(server);
    for (const root of roots.splice(0)) removeDir(root);
  });

  afterAll(() => removeDir(tmp));

  async function serve(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
    const server = await startTestServer(options);
    servers.push(server);
    return server;
  }

  function tempRoot(): string {
    const root = mkdtempSync(join(tmpdir(), "sage-datadir-test-"));
    roots.push(root);
    return root;
  }

  it("a job cannot name another job or a path: its reports are checked and its id is the server's", async () => {
    const root = tempRoot();
    const victim = join(root, "victim");
    mkdirSync(victim);
    writeFileSync(join(victim, "precious"), "keep me");
    const server = await serve({ dataDir: join(root, "data") });
    const gate = join(root, "gate");
    const forged = (tasks: unknown) => `report({ type: "event", event: { type: "state", jobId: "../../victim", state: "running", at: new Date().toISOString(), status: {
  id: "../../victim", name: "forged", state: "running", autostop: false, platform: "remote", submittedAt: new Date().toISOString(),
  runtimeMs: 0, restartCount: 0, tasks: ${JSON.stringify(tasks)}, services: 0, isRunning: true, operators: [] } } });`;
    // A job reaches its supervisor's channel through the job process hook, with anything it likes.
    const code = await bundleSource(tmp, "forges", `import { existsSync } from "node:fs";
const report = (message: unknown) => (globalThis as any)[Symbol.for("sage.jobProcess")].report(message);
report({ type: "event", event: { type: "metrics", status: "no" } });
report("just a string");
${forged("<img src=x onerror=alert(1)>")}
${forged(1)}
console.log("SENT");
while (!existsSync(${JSON.stringify(gate)})) await new Promise((resolve) => setTimeout(resolve, 20));
${QUICK("DONE")}`);
    const created = await submitRaw(server, "forges", code);
    await waitUntil(async () => (await jobLogs(server, created.id)).includes("SENT"), 10_000, "the forged reports");
    await waitUntil(async () => (await server.client.getJob(created.id)).state === "running", 5000, "the well-typed report");
    const live = await server.client.getJob(created.id);
    expect(live).toMatchObject({ id: created.id, tasks: 1 });
    expect((await server.client.listJobs()).map((job) => job.id)).not.toContain("../../victim");
    const deleted = await request(server, "DELETE", "/api/jobs/..%2f..%2fvictim");
    expect(deleted.status).toBe(404);
    expect(existsSync(join(victim, "precious"))).toBe(true);

    writeFileSync(gate, "");
    const final = await untilJobProcessEnded(server, created.id);
    expect(final).toMatchObject({ id: created.id, state: "finished" });
    const log = (await jobLogs(server, created.id)).join("\n");
    expect(log).toMatch(/ignored a malformed report from the job process: status.tasks must be a finite number >= 0, got "<img/);
    expect(log).toMatch(/ignored a malformed report from the job process: the status is not an object/);
    expect(log).toMatch(/ignored a malformed report from the job process: the message is not an object/);
    expect(() => dataPaths(server.dataDir).jobDir("../../victim")).toThrow(/not a job id/);
  }, 30_000);

  it("a job cannot take back its end: state reports only move forward, and times and sizes stay plausible", async () => {
    const server = await serve({ dataDir: join(tempRoot(), "data") });
    const status = (state: string, extra = "") => `{ id: "x", name: "forged", state: "${state}", autostop: false, platform: "remote",
  submittedAt: new Date().toISOString(), runtimeMs: 1e300, restartCount: 0, tasks: 0, services: 0, isRunning: false, operators: [${extra}] }`;
    const code = await bundleSource(tmp, "takes-back", `
const report = (message: unknown) => (globalThis as any)[Symbol.for("sage.jobProcess")].report(message);
const at = () => new Date().toISOString();
report({ type: "event", event: { type: "state", jobId: "x", state: "running", at: at(), status: ${status("running", `{ name: "wide", kind: "map", parallelism: 1e9, recordsIn: 0, recordsOut: 0, errors: 0 }`)} } });
report({ type: "event", event: { type: "state", jobId: "x", state: "failed", at: at(), status: ${status("failed")} } });
for (let i = 0; i < 6; i++) report({ type: "event", event: { type: "state", jobId: "x", state: "running", at: at(), status: ${status("running")} } });
${QUICK("DONE").replace(/^import .*\n/, "")}`.replace(/^/, `import { LocalEnvironment } from ${JSON.stringify(SAGE_IMPORT)};\n`));
    const created = await submitRaw(server, "takes-back", code);
    const final = (await untilJobProcessEnded(server, created.id))!;
    // The job said it failed: that stays its end, whatever it reports afterwards.
    expect(final.state).toBe("failed");
    expect(final.runtimeMs).toBeLessThan(60_000);
    expect(final.operators.every((op) => op.parallelism <= 1024)).toBe(true);
    const log = (await jobLogs(server, created.id)).join("\n");
    expect(log).toMatch(/ignored a malformed report from the job process: status.operators\[0\].parallelism is 1000000000, above the limit of 1024/);
    expect(log).toMatch(/ignored a report from the job process: the job already ended failed, it cannot become running/);
    // The pipeline's own reports after the forged end are ignored too; past five, they are counted.
    expect(log).toMatch(/\[jobmanager\] \d+ more report\(s\) from the job process were ignored/);
  }, 30_000);

  it("the job store is owner-only even in a data dir that others may read", async () => {
    const root = tempRoot();
    chmodSync(root, 0o755);
    const server = await serve({ dataDir: root });
    const created = await submitRaw(server, "secret", await bundleSource(tmp, "secret", QUICK("DONE")), { env: { API_KEY: "s3cret" } });
    expect((await untilJobProcessEnded(server, created.id))?.state).toBe("finished");
    const database = dataPaths(root).database;
    for (const file of [database, `${database}-wal`, `${database}-shm`]) {
      expect(existsSync(file), file).toBe(true);
      expect((statSync(file).mode & 0o777).toString(8), file).toBe("600");
    }
    const bundles = dataPaths(root).bundles;
    expect(statSync(bundles).mode & 0o077).toBe(0);
    for (const entry of readdirSync(bundles)) expect(statSync(join(bundles, entry)).mode & 0o077).toBe(0);
    expect(statSync(dataPaths(root).jobDir(created.id)).mode & 0o077).toBe(0);
  }, 30_000);

  it("the same code submitted twice is stored once", async () => {
    const server = await serve();
    const code = await bundleSource(tmp, "twice", QUICK("DONE"));
    const jobs = [await submitRaw(server, "one", code), await submitRaw(server, "two", code)];
    for (const job of jobs) expect((await untilJobProcessEnded(server, job.id))?.state).toBe("finished");
    const bundles = readdirSync(dataPaths(server.dataDir).bundles);
    expect(bundles).toHaveLength(1);
    const stored = statSync(join(dataPaths(server.dataDir).bundles, bundles[0]!));
    for (const job of jobs) expect(statSync(join(dataPaths(server.dataDir).jobDir(job.id), "job.mjs")).ino).toBe(stored.ino);
    // Deleting one job keeps the bundle the other uses; deleting both removes it.
    await server.client.deleteJob(jobs[0]!.id);
    expect(readdirSync(dataPaths(server.dataDir).bundles)).toHaveLength(1);
    await server.client.deleteJob(jobs[1]!.id);
    expect(readdirSync(dataPaths(server.dataDir).bundles)).toHaveLength(0);
  }, 30_000);

  it("refuses settings that are not positive whole numbers, naming them", async () => {
    const dataDir = tempRoot();
    await expect(startTestServer({ dataDir, logLimits: { maxBytes: 0 } })).rejects.toThrow(/setting 'maxBytes' must be a positive whole number, got 0/);
    await expect(startTestServer({ dataDir, retention: { maxJobs: 2.5 } })).rejects.toThrow(/'maxJobs'/);
  });

  it("retention removes the oldest ended jobs with their files, never a live one", async () => {
    const server = await serve({ retention: { maxJobs: 2 } });
    const paths = dataPaths(server.dataDir);
    const live = await submitRaw(server, "endless", await bundleSource(tmp, "endless", ENDLESS));
    await waitUntil(async () => (await server.client.getJob(live.id)).state === "running", 10_000, "the endless job to run");
    const ended: string[] = [];
    for (let i = 0; i < 3; i++) {
      const job = await submitRaw(server, `quick-${i}`, await bundleSource(tmp, `quick-${i}`, QUICK(`DONE ${i}`)));
      expect((await untilJobProcessEnded(server, job.id))?.state).toBe("finished");
      ended.push(job.id);
    }
    const ids = (await server.client.listJobs()).map((job) => job.id);
    expect(ids).toEqual([live.id, ended[1], ended[2]]);
    expect(existsSync(paths.jobDir(ended[0]!))).toBe(false);
    expect(readdirSync(paths.bundles)).toHaveLength(3); // the live one's and the two kept
    expect((await request(server, "GET", `/api/jobs/${ended[0]}`)).status).toBe(404);

    // Once it ended, the formerly live job is the oldest ended one: it goes first.
    expect((await server.client.stopJob(live.id)).state).toBe("stopped"); // answers once the process is gone
    expect((await server.client.listJobs()).map((job) => job.id)).toEqual([ended[1], ended[2]]);
    expect(readdirSync(paths.bundles)).toHaveLength(2);

    // A restart with a shorter retention applies it at once.
    const { dataDir, token } = server;
    await server.close();
    const again = await serve({ dataDir, token, retention: { maxAgeMs: 1 } });
    expect(await again.client.listJobs()).toEqual([]);
    expect(readdirSync(paths.bundles)).toHaveLength(0);
    expect(readdirSync(join(dataDir, "jobs"))).toHaveLength(0);
  }, 60_000);
});
