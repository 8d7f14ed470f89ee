/**
 * The job host on a worker: it waits for a module that reaches its pipeline late, and the job's
 * code does not stay on the worker's disk (removed once the module runs, its directory after the job).
 */
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostProcessesOf, runDriver, startTestCluster, type TestCluster } from "../support/cluster.js";

describe("job host", () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startTestCluster({ workers: 1, leaseMs: 1500 });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it("hosts a module whose submit() comes 500 ms after its code finished; its code is gone from the worker's disk while it runs and its directory after", async () => {
    const run = await runDriver("late-submit-job.ts", { SAGE_TEST_CLUSTER: cluster.url });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const line = run.stdout.split("\n").find((l) => l.startsWith("RESULT "));
    const result = JSON.parse(line!.slice("RESULT ".length)) as { id: string; state: string; records: number; dirs: string[]; files: string[] };
    expect(result).toMatchObject({ state: "finished", records: 20, files: [] });
    expect(result.dirs).toHaveLength(1);
    expect(result.dirs[0]).toMatch(new RegExp(`sage-job-${result.id}-`));
    expect(hostProcessesOf(result.id)).toEqual([]);
    // The worker removes it once it saw its host exit.
    await expect.poll(() => existsSync(result.dirs[0]!), { timeout: 2000 }).toBe(false);
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith(`sage-job-${result.id}`))).toEqual([]);
  });
});
