/**
 * Job host processes of one job on one machine (two workers there, or a worker in a network
 * namespace as in the two-hosts test): ending one host ends its own tree, never the other's.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { JobHostProcess } from "../../src/cluster/job-host-process.js";
import type { JobHostOptions } from "../../src/cluster/protocol.js";
import { expectGone, isAlive, STAND_IN_HOST, waitUntil } from "./worker-child.js";

interface StandInReport {
  pid: number;
  grandchildren: number[];
}

async function spawnHost(jobId: string, worker: string): Promise<{ host: JobHostProcess; report: () => StandInReport | undefined }> {
  let report: StandInReport | undefined;
  const options: JobHostOptions = { jobId, worker, bundle: "abc123", pipelineIndex: 0, pipelineName: "p", graphFingerprint: "fp", leaseMs: 60_000, env: { STAND_IN_GRANDCHILDREN: "1" } };
  const host = await JobHostProcess.spawn({
    entry: STAND_IN_HOST,
    options,
    cluster: { url: "nats://127.0.0.1:1" },
    output: (line, stream) => {
      const text = line.slice(`[job ${jobId}] `.length);
      if (stream === "out" && text.includes('"standIn":true')) report = JSON.parse(text) as StandInReport;
    },
  });
  await waitUntil(() => report !== undefined, 10_000);
  return { host, report: () => report };
}

describe("JobHostProcess", () => {
  it("ends its own tree and leaves another host of the same job running", async () => {
    const jobId = randomUUID();
    const a = await spawnHost(jobId, "a");
    const b = await spawnHost(jobId, "b");
    const treeOf = (h: typeof a) => [h.host.pid, ...h.report()!.grandchildren];
    try {
      expect([...treeOf(a), ...treeOf(b)].every(isAlive)).toBe(true);
      await a.host.end(500);
      // Its grandchildren (one left its group) were found by its host's marker and killed after it exited.
      expect(treeOf(a).filter(isAlive)).toEqual([]);
      expect(treeOf(b).every(isAlive)).toBe(true);
    } finally {
      await Promise.all([a.host.end(500), b.host.end(500)]);
      await expectGone([...treeOf(a), ...treeOf(b)]);
    }
  });
});
