/**
 * The RAG operators in distributed mode: the store (with its approximate index and SQLite file)
 * runs as a remote service, embedding, indexing, retrieval and evaluation on the workers, and the
 * evaluation report is merged in the driver. Needs `npm run build` (the workers run dist/).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobStatus } from "../../src/index.js";
import { hostProcessesOf, runNode, startTestCluster, type TestCluster } from "../support/cluster.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/rag-distributed-job.ts", import.meta.url));

describe("RAG operators in distributed mode", () => {
  let cluster: TestCluster;
  let dir: string;

  beforeAll(async () => {
    cluster = await startTestCluster({ workers: 2 });
    dir = mkdtempSync(join(tmpdir(), "sage-rag-dist-"));
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("indexes on the workers in one job, retrieves and evaluates there in the next, and reports in the driver", async () => {
    const run = (mode: string) => runNode(["--import", "tsx", FIXTURE], { SAGE_TEST_CLUSTER: cluster.url, RAG_DIR: dir, RAG_MODE: mode }, 90_000);
    const indexed = await run("index");
    expect(indexed.code, indexed.stderr).toBe(0);
    const first = JSON.parse(indexed.stdout.trim().split("\n").at(-1)!) as { status: JobStatus };
    expect(first.status).toMatchObject({ state: "finished", platform: "distributed" });
    expect(first.status.operators.find((o) => o.name === "EmbeddingMap")).toMatchObject({ recordsIn: 6, recordsOut: 6 }); // three documents, two chunks each

    // The job host's store saved its entries and its approximate index beside them.
    expect(existsSync(join(dir, "vectors.db"))).toBe(true);
    expect(existsSync(join(dir, "vectors.db.usearch"))).toBe(true);

    const queried = await run("query");
    expect(queried.code, queried.stderr).toBe(0);
    const second = JSON.parse(queried.stdout.trim().split("\n").at(-1)!) as { results: Array<{ query: string; passages: Array<{ id: string }>; scores: Record<string, number> }>; status: JobStatus };
    const byQuery = new Map(second.results.map((r) => [r.query, r]));
    expect(byQuery.get("what is the capital of Italy")!.passages[0]!.id).toBe("rome#1");
    expect(byQuery.get("where is the Eiffel Tower")!.passages[0]!.id).toBe("paris#0");
    expect(byQuery.get("where is the Eiffel Tower")!.scores).toEqual({ contextRecall: 0.5 });
    const report = JSON.parse(readFileSync(join(dir, "eval.json"), "utf8")) as Record<string, { count: number; mean: number }>;
    expect(report.contextRecall!.count).toBe(3);
    const recalls = second.results.map((r) => r.scores.contextRecall!);
    expect(report.contextRecall!.mean).toBeCloseTo(recalls.reduce((a, b) => a + b, 0) / 3, 12);
    expect(second.status.serviceDetails?.find((s) => s.name === "vectors")).toMatchObject({ remote: true, state: "stopped" });
    expect(hostProcessesOf(second.status.id)).toEqual([]);
  }, 180_000);
});
