import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobFailedError, RemoteEnvironment, type JobStatus } from "../../src/index.js";
import { SAGE_IMPORT, bundleSource, closeTestServer, runScript, makeRepoTmpDir, startTestServer, submitRaw, untilJobProcessEnded, type TestServer } from "./helpers.js";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// A job module runs twice: once in the client, once on the JobManager. These tests pin what
// happens when the two runs disagree.
describe("remote mode - what a job module may do", () => {
  let server: TestServer;
  let dir: string;

  beforeAll(async () => {
    server = await startTestServer();
    dir = makeRepoTmpDir();
  });

  afterAll(() => closeTestServer(server, dir));

  function writeEntry(name: string): string {
    const file = join(dir, `${name}.ts`);
    // The shape depends on a flag only the client process has (the server here shares this
    // process's environment, so a global stands in for "the client's environment"); the job
    // process gets the same choice only through SAGE_TEST_SHAPE passed with env.
    writeFileSync(
      file,
      `import { RemoteEnvironment } from "${SAGE_IMPORT}";
export function build(env: RemoteEnvironment) {
  const source = env.fromBatch([1, 2, 3]);
  const double = (globalThis as Record<string, unknown>).__sageTestDouble === true || process.env.SAGE_TEST_SHAPE === "double";
  (double ? source.map((x: number) => x * 2, { name: "Double" }) : source).sink((x: number) => console.log("value " + x));
}
if (process.env.SAGE_JOB_ID) {
  const env = new RemoteEnvironment("shape");
  build(env);
  await env.submit({ autostop: true });
}
`,
    );
    return file;
  }

  it("fails with a clear message when the JobManager builds a different pipeline than the client", async () => {
    const entry = writeEntry("mismatch");
    const { build } = (await import(entry)) as { build(env: RemoteEnvironment): void };
    (globalThis as Record<string, unknown>).__sageTestDouble = true;
    try {
      const env = new RemoteEnvironment("shape", { port: server.port, token: server.token, entry, logs: false });
      build(env);
      const error = await env.submit({ autostop: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobFailedError);
      expect((error as Error).message).toMatch(/built a different pipeline on the JobManager than on the client.*RemoteEnvironment\(\{ env \}\)/);
    } finally {
      delete (globalThis as Record<string, unknown>).__sageTestDouble;
    }
  });

  it("runs the client's pipeline when what it depends on is passed with env", async () => {
    const entry = writeEntry("with-env");
    const { build } = (await import(entry)) as { build(env: RemoteEnvironment): void };
    (globalThis as Record<string, unknown>).__sageTestDouble = true;
    try {
      const env = new RemoteEnvironment("shape", { port: server.port, token: server.token, entry, env: { SAGE_TEST_SHAPE: "double" }, logs: false });
      build(env);
      const job = await env.submit({ autostop: true });
      await untilJobProcessEnded(server, job.id);
      const { lines } = await server.client.logs(job.id);
      expect(lines.filter((line) => line.startsWith("value "))).toEqual(["value 2", "value 4", "value 6"]);
    } finally {
      delete (globalThis as Record<string, unknown>).__sageTestDouble;
    }
  });

  it("runs every pipeline of a module submitted as a whole, one after another, as one job", async () => {
    const code = await bundleSource(
      dir,
      "two-submits",
      `import { LocalEnvironment } from "${SAGE_IMPORT}";
for (const name of ["first", "second"]) {
  const env = new LocalEnvironment(name);
  env.fromBatch([name]).sink((x: string) => console.log(x), { name: "Print_" + name });
  await env.submit({ autostop: true });
  console.log(name + " done");
}
`,
    );
    const submitted = await submitRaw(server, "two-submits", code);
    const states: JobStatus[] = [];
    for await (const event of server.client.events(submitted.id)) if (event.type === "state") states.push(event.status);
    const final = await server.client.getJob(submitted.id);
    expect(final.state).toBe("finished");
    // The first pipeline's end is not the job's: the job runs until the module's code has finished.
    const firstEnd = states.find((status) => ["finished", "stopped", "failed"].includes(status.state))!;
    expect(firstEnd.operators).toHaveLength(4);
    expect(final.operators.map((op) => op.name)).toEqual(["batch#0", "Print_first", "batch#0", "Print_second"]);
    expect(final.tasks).toBe(0);
    expect(final.services).toBe(0);
    const { lines } = await server.client.logs(submitted.id);
    expect(lines).toEqual(["first", "first done", "second", "second done"]);
  });

  it("a whole module's job runs from the module's start to its end: the gaps between pipelines count", async () => {
    const code = await bundleSource(
      dir,
      "gaps",
      `import { LocalEnvironment } from "${SAGE_IMPORT}";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
for (const name of ["a", "b"]) {
  const env = new LocalEnvironment(name);
  env.fromBatch([1]).sink(() => {});
  await env.submit({ autostop: true });
  await sleep(700);
}
`,
    );
    const submitted = await submitRaw(server, "gaps", code);
    const final = (await untilJobProcessEnded(server, submitted.id))!;
    expect(final.state).toBe("finished");
    expect(final.runtimeMs).toBeGreaterThanOrEqual(1400);
    expect(Date.parse(final.endedAt!) - Date.parse(final.startedAt!)).toBe(final.runtimeMs);
  });

  it("fails a RemoteEnvironment job whose module submits another environment at that point than the client did", async () => {
    const entry = join(dir, "swapped-order.ts");
    writeFileSync(
      entry,
      `import { RemoteEnvironment } from "${SAGE_IMPORT}";
const names = process.env.SAGE_JOB_ID ? ["second", "first"] : ["first", "second"];
for (const name of names) {
  const env = new RemoteEnvironment(name, { port: Number(process.env.SAGE_TEST_PORT), token: process.env.SAGE_TEST_TOKEN, logs: false });
  env.fromBatch([name]).sink(() => {});
  await env.submit({ autostop: true });
}
`,
    );
    const { code: exitCode, stderr } = await runScript(entry, { SAGE_TEST_PORT: String(server.port), SAGE_TEST_TOKEN: server.token });
    expect(exitCode).not.toBe(0);
    expect(stderr).toMatch(/submit\(\) number 1 on the JobManager is environment 'second', but on the client it was 'first'/);
  });

  it("a whole module whose pipeline failed fails, as under sage run, even when the module caught the failure", async () => {
    const code = await bundleSource(
      dir,
      "caught-failure",
      `import { LocalEnvironment } from "${SAGE_IMPORT}";
const failing = new LocalEnvironment("failing", { logLevel: "silent" });
failing.fromBatch([1]).map(() => { throw new Error("bad record"); }, { name: "Breaks" }).sink(() => {});
await failing.submit({ autostop: true }).catch(() => console.log("caught"));
const next = new LocalEnvironment("next");
next.fromBatch([2]).sink((x: number) => console.log("next " + x));
await next.submit({ autostop: true });
`,
    );
    const submitted = await submitRaw(server, "caught-failure", code);
    const final = (await untilJobProcessEnded(server, submitted.id))!;
    expect(final.state).toBe("failed");
    expect(final.error).toMatchObject({ operator: "Breaks", message: "bad record" });
    expect(final.operators.map((op) => op.name)).toEqual(["batch#0", "Breaks", "sink#2", "batch#0", "sink#1"]);
    expect((await server.client.logs(submitted.id)).lines).toEqual(["caught", "next 2"]);
  });

  it("a stop ends a multi-pipeline module: its later pipelines do not run", async () => {
    const code = await bundleSource(
      dir,
      "stopped-module",
      `import { LocalEnvironment } from "${SAGE_IMPORT}";
const env = new LocalEnvironment("endless");
env.fromSource(async function* () { for (;;) { await new Promise((r) => setTimeout(r, 10)); yield 1; } }).sink(() => {});
console.log("PIPELINE 1");
await env.submit({ autostop: true });
console.log("AFTER 1");
const next = new LocalEnvironment("next");
next.fromBatch([1]).sink(() => console.log("PIPELINE 2"));
await next.submit({ autostop: true });
`,
    );
    const submitted = await submitRaw(server, "stopped-module", code);
    await server.client.waitForJob(submitted.id, { until: (status) => status.state === "running", timeoutMs: 10_000 });
    const stopped = await server.client.stopJob(submitted.id);
    expect(stopped.state).toBe("stopped");
    await untilJobProcessEnded(server, submitted.id);
    const { lines } = await server.client.logs(submitted.id);
    expect(lines).toEqual(["PIPELINE 1"]);
  });

  it("a RemoteEnvironment script's job runs its own pipeline only: earlier pipelines and code after submit run on the client", async () => {
    const marks = join(dir, "marks.txt");
    const entry = join(dir, "three-pipelines.ts");
    writeFileSync(
      entry,
      `import { appendFileSync } from "node:fs";
import { LocalEnvironment, RemoteEnvironment } from "${SAGE_IMPORT}";
const where = process.env.SAGE_JOB_ID ? "server" : "client";
const mark = (text: string) => appendFileSync(${JSON.stringify(marks)}, where + " " + text + "\\n");
console.log("before, on the " + where);
const local = new LocalEnvironment("local-one");
local.fromBatch([1]).sink(() => mark("local pipeline"));
await local.submit({ autostop: true });
const remote = new RemoteEnvironment("remote-two", { port: Number(process.env.SAGE_TEST_PORT), token: process.env.SAGE_TEST_TOKEN });
remote.fromBatch([2]).sink((x: number) => { mark("remote pipeline"); console.log("remote record " + x); });
const job = await remote.submit({ autostop: true });
mark("after submit");
console.log("job " + (await job.status()).state);
`,
    );
    const { code: exitCode, stdout, stderr } = await runScript(entry, { SAGE_TEST_PORT: String(server.port), SAGE_TEST_TOKEN: server.token });
    expect(exitCode, stderr).toBe(0);
    // The client prints its own lines and the job's output, each once.
    expect(stdout).toBe("before, on the client\nremote record 2\njob finished\n");
    expect(readFileSync(marks, "utf8").split("\n").filter(Boolean).sort()).toEqual(["client after submit", "client local pipeline", "server remote pipeline"]);
    const jobs = (await server.client.listJobs()).filter((status) => status.name === "remote-two");
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.operators.map((op) => op.kind)).toEqual(["batch", "sink"]);
  });

  it("fails with a clear message when the JobManager's run of the script does not reach the client's pipeline", async () => {
    const entry = join(dir, "fewer-submits.ts");
    writeFileSync(
      entry,
      `import { LocalEnvironment, RemoteEnvironment } from "${SAGE_IMPORT}";
if (!process.env.SAGE_JOB_ID) {
  const local = new LocalEnvironment("client-only");
  local.fromBatch([1]).sink(() => {});
  await local.submit({ autostop: true });
}
const remote = new RemoteEnvironment("second", { port: Number(process.env.SAGE_TEST_PORT), token: process.env.SAGE_TEST_TOKEN, logs: false });
remote.fromBatch([2]).sink(() => {});
await remote.submit({ autostop: true });
`,
    );
    const { code: exitCode, stderr } = await runScript(entry, { SAGE_TEST_PORT: String(server.port), SAGE_TEST_TOKEN: server.token });
    expect(exitCode).not.toBe(0);
    expect(stderr).toMatch(/made 1 submit\(\) call\(s\) on the JobManager, but the client submitted its pipeline at call 2/);
  });

  it("sage run bundles the file it runs for a RemoteEnvironment (it bundled the CLI), and shows the job's output", async () => {
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const child = spawn(process.execPath, ["bin/sage.js", "run", "test/fixtures/remote-hello.ts"], {
      cwd: root,
      env: { ...process.env, SAGE_TEST_PORT: String(server.port), SAGE_TEST_TOKEN: server.token },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    // The job's own output, streamed from the JobManager, then the client's line.
    expect(stdout).toContain("hello ann\nhello bob\nhello cy\ngreeter cleaned up\n");
    expect(stdout).toContain("client: finished tasks=0 services=0 platform=remote");
  });

  it("sage run prints a RemoteEnvironment job's output before the job's summary", async () => {
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const child = spawn("sh", ["-c", "node bin/sage.js run test/fixtures/remote-hello.ts 2>&1"], {
      cwd: root,
      env: { ...process.env, SAGE_TEST_PORT: String(server.port), SAGE_TEST_TOKEN: server.token },
      stdio: ["ignore", "pipe", "ignore"],
    });
    let merged = "";
    child.stdout.on("data", (chunk) => (merged += chunk));
    expect(await new Promise<number | null>((resolve) => child.on("close", resolve))).toBe(0);
    const rows = merged.split("\n");
    const lastOutput = rows.indexOf("greeter cleaned up");
    const summary = rows.findIndex((row) => /^\[sage\] job remote-hello \(\w{8}\) finished/.test(row));
    expect(lastOutput, merged).toBeGreaterThanOrEqual(0);
    expect(summary, merged).toBeGreaterThan(lastOutput);
  });
});
