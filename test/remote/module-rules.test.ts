import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobFailedError, RemoteEnvironment } from "../../src/index.js";
import { SAGE_IMPORT, bundleSource, closeTestServer, makeRepoTmpDir, startTestServer, submitRaw, untilJobProcessEnded, type TestServer } from "./helpers.js";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
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

  it("fails a job whose module submits a second pipeline, though the first one ran", async () => {
    const code = await bundleSource(
      dir,
      "two-submits",
      `import { LocalEnvironment } from "${SAGE_IMPORT}";
for (const name of ["first", "second"]) {
  const env = new LocalEnvironment(name);
  env.fromBatch([name]).sink((x: string) => console.log(x));
  await env.submit({ autostop: true });
}
`,
    );
    const submitted = await submitRaw(server, "two-submits", code);
    const final = (await untilJobProcessEnded(server, submitted.id))!;
    expect(final.state).toBe("failed");
    expect(final.error?.message).toMatch(/failed after its pipeline finished: a job module runs one pipeline/);
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
});
