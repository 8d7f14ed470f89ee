/**
 * Remote mode - a job that reads a variable the client had set, but the job process lacks, says
 * so on its log (the client sends the names of its variables, never their values).
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientEnvNames, installEnvGuard } from "../../src/jobmanager/env-guard.js";
import { closeTestServer, makeRepoTmpDir, SAGE_IMPORT, startTestServer, type TestServer } from "./helpers.js";

describe("remote mode - reading a variable only the client has", () => {
  let server: TestServer;
  let dir: string;

  beforeAll(async () => {
    server = await startTestServer();
    dir = makeRepoTmpDir();
  });
  afterAll(() => closeTestServer(server, dir));

  it("sends names only, leaving out the framework's own and those passed with env", () => {
    const names = JSON.parse(clientEnvNames({ API_KEY: "secret", SAGE_TOKEN: "t", FORCE_COLOR: "1", PASSED: "x" }, { PASSED: "x" })) as string[];
    expect(names).toEqual(["API_KEY"]);
  });

  it("warns once per variable, and only for variables unset here", () => {
    const original = process.env;
    const warnings: string[] = [];
    process.env = { ...original, SET_HERE: "1" };
    try {
      installEnvGuard(JSON.stringify(["MISSING_HERE", "SET_HERE"]), (text) => warnings.push(text));
      expect(process.env.MISSING_HERE).toBeUndefined();
      expect("MISSING_HERE" in process.env).toBe(false);
      expect(process.env.SET_HERE).toBe("1");
      expect(process.env.NOT_ON_CLIENT).toBeUndefined();
    } finally {
      process.env = original;
    }
    expect(warnings).toEqual([
      "[sage] the job read $MISSING_HERE, which is set on the client but not in the job: pass it with --env MISSING_HERE=... (or RemoteEnvironment({ env }))\n",
    ]);
  });

  it("prints the warning from a RemoteEnvironment script's job, and the value once passed with env", async () => {
    const script = join(dir, "reads-env.ts");
    writeFileSync(
      script,
      `import { RemoteEnvironment } from ${JSON.stringify(SAGE_IMPORT)};
const env = new RemoteEnvironment("reads-env", { port: ${server.port}, token: ${JSON.stringify(server.token)}, env: { PASSED_VAR: "given" } });
env.fromBatch(["CLIENT_ONLY_VAR", "PASSED_VAR"]).sink((name: string) => console.log(name + "=" + (process.env[name] ?? "(unset)")));
await env.submit({ autostop: true });
`,
    );
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, CLIENT_ONLY_VAR: "secret-value", PASSED_VAR: "client" } });
      let out = "";
      child.stdout.on("data", (chunk) => (out += chunk));
      child.on("close", (exit) => resolve({ code: exit, stdout: out }));
    });
    expect(code).toBe(0);
    expect(stdout).toBe(
      "[sage] the job read $CLIENT_ONLY_VAR, which is set on the client but not in the job: pass it with --env CLIENT_ONLY_VAR=... (or RemoteEnvironment({ env }))\n" +
        "CLIENT_ONLY_VAR=(unset)\nPASSED_VAR=given\n",
    );
  }, 60_000);
});
