import { describe, expect, it } from "vitest";
import { LocalEnvironment } from "../index.js";
import { compile } from "../graph/compile.js";
import { deployOnCluster } from "./distributed-executor.js";
import { jobEnvProblem } from "./job-env.js";
import { parseWorkerRequest } from "./worker-request.js";

const REFUSED = ["NODE_OPTIONS", "NODE_PATH", "NODE_EXTRA_CA_CERTS", "node_options", "LD_PRELOAD", "DYLD_INSERT_LIBRARIES", "OPENSSL_CONF", "PATH", "SAGE_CLUSTER", "SAGE_JOB_HOST"];

function startHost(env: Record<string, unknown>) {
  const host = { jobId: "j1", worker: "w", bundle: "abc", pipelineIndex: 0, pipelineName: "p", graphFingerprint: "fp", leaseMs: 5000, env };
  return parseWorkerRequest(JSON.stringify({ type: "start-host", jobId: "j1", slots: 1, host }));
}

describe("a job's environment (config.env / host.env)", () => {
  it("passes ordinary variables", () => {
    expect(jobEnvProblem("API_URL", "http://x")).toBeUndefined();
    expect(jobEnvProblem("_x1", "")).toBeUndefined();
    expect(startHost({ API_URL: "http://x", PATHS: "a" })).toMatchObject({ ok: true });
  });

  it.each(REFUSED)("a worker refuses a start-host request that sets %s", (name) => {
    const parsed = startHost({ [name]: "--import=data:text/javascript,process.exit(7)" });
    expect(parsed).toEqual({ ok: false, error: expect.stringContaining(`start-host: host.env: '${name}' is not allowed`) });
  });

  it("a worker refuses names that are no variable names, and values that are no strings", () => {
    expect(startHost({ "A=B": "x" })).toEqual({ ok: false, error: expect.stringContaining("'A=B' is not a variable name") });
    expect(startHost({ "": "x" })).toMatchObject({ ok: false });
    expect(startHost({ A: 1 })).toEqual({ ok: false, error: expect.stringContaining("'A' must have a string value") });
  });

  it("the driver refuses the same names up front, before it opens a cluster", async () => {
    const env = new LocalEnvironment("env-check", { env: { FINE: "1", NODE_OPTIONS: "--require=/evil.js" }, cluster: "nats://127.0.0.1:1" });
    env.fromBatch([1]).map((x: number) => x, { remote: true }).sink(() => {});
    await expect(deployOnCluster(env, compile(env), { jobId: "j1", code: "", pipelineIndex: 0 })).rejects.toThrow(/config\.env: 'NODE_OPTIONS' is not allowed/);
  });
});
