/**
 * OpenAIGenerator in distributed mode, the LLM service on a worker: streaming falls back to whole
 * answers (one delta each) instead of failing on an iterator that cannot be sent. Needs
 * `npm run build` (the workers run dist/).
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobStatus } from "../../src/index.js";
import { hostProcessesOf, runNode, startTestCluster, type TestCluster } from "../support/cluster.js";
import { startOpenAIServer, type OpenAIServer } from "../support/openai-server.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/remote-stream-job.ts", import.meta.url));

describe("OpenAIGenerator with the LLM service on a worker", () => {
  let cluster: TestCluster;
  let server: OpenAIServer;

  beforeAll(async () => {
    server = await startOpenAIServer({ chunkDelayMs: 2 });
    cluster = await startTestCluster({ workers: 1 });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    await server?.close();
  }, 30_000);

  it("stream: true emits each answer whole, as one delta before its final record, and says why once", async () => {
    const run = await runNode(["--import", "tsx", FIXTURE], { SAGE_TEST_CLUSTER: cluster.url, OPENAI_BASE_URL: server.url }, 90_000);
    expect(run.code, run.stderr).toBe(0);
    const { out, status } = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { out: Array<Record<string, unknown>>; status: JobStatus };
    expect(status).toMatchObject({ state: "finished", platform: "distributed" });
    expect(status.serviceDetails?.find((s) => s.name === "llm")).toMatchObject({ remote: true, metrics: { requests: 2, errors: 0 } });
    const byId = (id: string) => out.filter((r) => r.id === id || r.of === id || (r as { input?: unknown }).input === id);
    for (const [id, text] of [["a", "echo: alpha"], ["b", "echo: beta gamma"]] as const) {
      const records = byId(id);
      expect(records).toHaveLength(2);
      expect(records[0]).toMatchObject({ kind: "delta", text, index: 0, of: id });
      expect(records[1]).toMatchObject({ id, prompt: id === "a" ? "alpha" : "beta gamma", generated: text });
    }
    // Plain chat requests: no stream was asked for.
    expect(server.requests.map((r) => (r.body as { stream?: boolean }).stream ?? false)).toEqual([false, false]);
    expect(run.stderr.match(/runs in another process, so each answer arrives whole/g)).toHaveLength(1);
    expect(hostProcessesOf(status.id)).toEqual([]);
  }, 120_000);
});
