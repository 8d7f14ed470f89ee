import { describe, expect, it } from "vitest";
import { filterJobs } from "./filter-jobs.js";
import type { JobState, JobStatus } from "./types.js";

function job(id: string, name: string, state: JobState, submittedAt: string): JobStatus {
  return { id, name, state, submittedAt, autostop: true, platform: "remote", runtimeMs: 0, restartCount: 0, tasks: 0, services: 0, isRunning: false, operators: [] };
}

const JOBS = [
  job("aaaa1111", "rag-index", "finished", "2026-01-01T10:00:00.000Z"),
  job("bbbb2222", "rag-query", "running", "2026-01-01T12:00:00.000Z"),
  job("cccc3333", "Nightly RAG", "failed", "2026-01-01T11:00:00.000Z"),
  job("dddd4444", "etl", "created", "2026-01-01T13:00:00.000Z"),
];

describe("the job list's filter", () => {
  it("lists newest first", () => {
    expect(filterJobs(JOBS, { state: "", query: "" }).map((j) => j.id)).toEqual(["dddd4444", "bbbb2222", "cccc3333", "aaaa1111"]);
  });

  it("keeps one state, or the active ones", () => {
    expect(filterJobs(JOBS, { state: "failed", query: "" }).map((j) => j.name)).toEqual(["Nightly RAG"]);
    expect(filterJobs(JOBS, { state: "active", query: "" }).map((j) => j.name)).toEqual(["etl", "rag-query"]);
  });

  it("matches part of the name whatever its case, or the start of the id", () => {
    expect(filterJobs(JOBS, { state: "", query: " rag " }).map((j) => j.name)).toEqual(["rag-query", "Nightly RAG", "rag-index"]);
    expect(filterJobs(JOBS, { state: "", query: "cccc" }).map((j) => j.name)).toEqual(["Nightly RAG"]);
    expect(filterJobs(JOBS, { state: "running", query: "index" })).toEqual([]);
  });
});
