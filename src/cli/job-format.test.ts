import { describe, expect, it } from "vitest";
import type { JobStatus } from "../api/types.js";
import { jobDetails } from "./job-format.js";
import { clusterSummary } from "./jobmanager-status.js";

const base: JobStatus = {
  id: "0b6f3a5e-8d1c-4e2a-9f00-123456789abc", name: "rag", state: "finished", autostop: true, platform: "distributed",
  submittedAt: "2026-01-01T00:00:00.000Z", runtimeMs: 1200, restartCount: 1, tasks: 0, services: 0, isRunning: false,
  operators: [
    { name: "batch#0", kind: "batch", parallelism: 1, recordsIn: 0, recordsOut: 10, errors: 0 },
    { name: "Embed", kind: "map", parallelism: 2, recordsIn: 10, recordsOut: 10, errors: 0, workers: ["w1", "w2"] },
  ],
  serviceDetails: [
    { name: "vectors", state: "stopped", remote: true, calls: 10, worker: "w2" },
    { name: "cache", state: "stopped", remote: false, calls: 3 },
  ],
};

describe("sage job show", () => {
  it("names the workers of remote operators and services, in one column", () => {
    const text = jobDetails(base);
    expect(text).toContain("  platform   distributed\n");
    expect(text).toContain("  restarts   1\n");
    const embed = text.split("\n").find((line) => line.includes("Embed"))!;
    const vectors = text.split("\n").find((line) => line.includes("vectors"))!;
    expect(embed).toMatch(/^ {2}Embed\s+map×2\s+in 10\s+out 10\s+on w1, w2$/);
    expect(vectors).toMatch(/^ {2}vectors\s+stopped\s+calls 10\s+on w2$/);
    // The workers start after the longest operator line, whichever has them.
    const batch = text.split("\n").find((line) => line.includes("batch#0"))!;
    expect(embed.indexOf("  on ")).toBeGreaterThanOrEqual(Math.max(batch.length, embed.indexOf("out 10") + 6));
    expect(text).toMatch(/\n {2}cache\s+stopped\s+calls 3\n/);
  });

  it("prints what a job process reported as plain text", () => {
    const text = jobDetails({ ...base, operators: [{ ...base.operators[1]!, workers: ["w\u001b[31m1"] }], serviceDetails: [] });
    expect(text).not.toContain("\u001b");
  });

  it("prints each service's counters under it, wrapped, names as plain text and fractions rounded", () => {
    const llm = { requests: 12, retries: 1, rateLimited: 0, promptTokens: 3400, completionTokens: 1200, cacheHits: 5, meanLatencyMs: 0.1 + 0.2 };
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`counter${i}`, i * 1000]));
    const text = jobDetails({
      ...base,
      serviceDetails: [
        { name: "llm", state: "stopped", remote: true, calls: 12, worker: "w1", metrics: llm },
        { name: "cache", state: "stopped", remote: false, calls: 3 },
        { name: "wide", state: "stopped", remote: false, calls: 0, metrics: { ...many, "bad\u001b[2Jname": 1 } },
      ],
    });
    const lines = text.split("\n");
    const at = lines.findIndex((line) => line.startsWith("  llm "));
    expect(lines[at]).toMatch(/^ {2}llm\s+stopped\s+calls 12\s+on w1$/);
    expect(lines[at + 1]).toBe("    requests 12  retries 1  rateLimited 0  promptTokens 3400  completionTokens 1200  cacheHits 5");
    expect(lines[at + 2]).toBe("    meanLatencyMs 0.3");
    expect(lines[at + 3]).toMatch(/^ {2}cache\s+stopped\s+calls 3$/);
    const wide = lines.slice(lines.findIndex((line) => line.startsWith("  wide ")) + 1).filter((line) => line.startsWith("    "));
    expect(wide.length).toBeGreaterThan(1);
    for (const line of wide) expect(line.length).toBeLessThanOrEqual(100);
    expect(wide.join(" ")).toContain("counter11 11000");
    expect(text).not.toContain("\u001b");
  });

  it("leaves a job without workers as it was", () => {
    const text = jobDetails({ ...base, platform: "remote", operators: [base.operators[0]!], serviceDetails: [{ name: "s", state: "running", remote: false, calls: 0 }] });
    expect(text).not.toContain(" on ");
  });
});

describe("sage jobmanager status", () => {
  it("sums up the cluster: URL, connection, workers with slots used", () => {
    const workers = [
      { name: "w1", host: "a", slots: 4, used: 1, jobs: ["j"], lastBeatMs: 300 },
      { name: "w2", host: "b", slots: 2, used: 0, jobs: [], lastBeatMs: 900 },
    ];
    expect(clusterSummary({ url: "nats://***@10.0.0.5:4222", connected: true, workers })).toBe("nats://***@10.0.0.5:4222, 2 workers: w1 1/4, w2 0/2");
    expect(clusterSummary({ url: "nats://h:4222", connected: false, workers: [] })).toBe("nats://h:4222 (disconnected), no workers");
  });
});
