/**
 * Distributed mode - pipeline conformance: every case of test/conformance/cases.ts runs as a driver
 * script (fixtures/conformance-case.ts) on a cluster of the test's own, with every operator but
 * sources and sinks, and every service, remote, and must give exactly the local results.
 * (Operators inside a feedback loop stay in the driver: the loop's in-flight count needs one process.)
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import { pipelineCases } from "../conformance/cases.js";
import { byValue, decodeSpecials as decode } from "../conformance/special-values.js";
import { hostProcessesOf, runDriver, startTestCluster, type TestCluster } from "../support/cluster.js";
import { discoverServices } from "../support/nats.js";

describe("distributed mode - pipeline conformance", () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startTestCluster({ workers: 2, slots: 16 });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  describe.concurrent("cases", () => {
    it.for(pipelineCases.map((c, i) => [c.name, i] as const))("%s", async ([, index], { expect }) => {
      const testCase = pipelineCases[index]!;
      const run = await runDriver(`conformance-case.ts`, { SAGE_TEST_CLUSTER: cluster.url }, 90_000, [String(index)]);
      expect(run.code, run.stderr).toBe(0);
      const line = run.stdout.split("\n").find((l) => l.startsWith("RESULT "));
      expect(line, run.stdout + run.stderr).toBeDefined();
      const { results: encoded, status, expectedPlatform } = JSON.parse(line!.slice("RESULT ".length)) as {
        results: unknown;
        status: { id: string; state: string; platform: string };
        expectedPlatform: string;
      };
      // A case made of sources and sinks only has nothing to place remotely: it runs locally.
      expect(status).toMatchObject({ state: "finished", platform: expectedPlatform });
      const results = decode(encoded) as unknown[];
      testCase.check?.(results);
      if (testCase.expected) {
        if (testCase.ordered) expect(results).toEqual(testCase.expected);
        else expect([...results].sort(byValue)).toEqual([...testCase.expected].sort(byValue));
      }
      expect(hostProcessesOf(status.id)).toEqual([]);
      expect((await discoverServices(cluster.nc)).filter((s) => s.metadata?.sage_job === status.id)).toEqual([]);
    });
  });
});
