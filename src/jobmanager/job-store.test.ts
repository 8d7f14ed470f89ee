import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { JobState, JobStatus } from "../api/types.js";
import { JobStore } from "./job-store.js";
import { MetricsHistory } from "./metrics-history.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), "sage-store-"));
  dirs.push(dir);
  return join(dir, "jobs.db");
}

function status(id: string, state: JobState, submittedAt = new Date().toISOString()): JobStatus {
  return {
    id,
    name: `job-${id}`,
    state,
    autostop: true,
    platform: "remote",
    submittedAt,
    runtimeMs: 0,
    restartCount: 0,
    tasks: state === "running" ? 2 : 0,
    services: state === "running" ? 1 : 0,
    isRunning: state === "running",
    operators: [],
  };
}

describe("JobStore", () => {
  it("keeps jobs across a reopen, in submission order", () => {
    const file = tempDb();
    const store = new JobStore(file);
    store.save({ id: "b", name: "job-b", state: "finished", options: { autostop: true }, status: status("b", "finished", "2026-01-02T00:00:00.000Z"), logTail: ["x"] });
    store.save({ id: "a", name: "job-a", state: "failed", options: {}, status: status("a", "failed", "2026-01-01T00:00:00.000Z"), logTail: [] });
    store.close();
    const reopened = new JobStore(file);
    expect(reopened.list().map((r) => r.id)).toEqual(["a", "b"]);
    expect(reopened.get("b")).toMatchObject({ name: "job-b", state: "finished", options: { autostop: true }, logTail: ["x"] });
    reopened.close();
  });

  it("updates a job's state, status and log tail in place", () => {
    const store = new JobStore(tempDb());
    store.save({ id: "j", name: "job-j", state: "running", options: {}, status: status("j", "running"), logTail: [] });
    store.save({ id: "j", name: "job-j", state: "finished", options: {}, status: status("j", "finished"), logTail: ["done"] });
    expect(store.list()).toHaveLength(1);
    expect(store.get("j")).toMatchObject({ state: "finished", logTail: ["done"], status: { state: "finished" } });
    store.close();
  });

  it("marks jobs that were running when the server went down as failed, with the reason", () => {
    const store = new JobStore(tempDb());
    store.save({ id: "r", name: "job-r", state: "running", options: {}, status: status("r", "running"), logTail: [] });
    store.save({ id: "f", name: "job-f", state: "finished", options: {}, status: status("f", "finished"), logTail: [] });
    expect(store.failInterrupted("server went down", "2026-01-03T00:00:00.000Z")).toEqual(["r"]);
    expect(store.get("r")!.status).toMatchObject({ state: "failed", tasks: 0, services: 0, isRunning: false, endedAt: "2026-01-03T00:00:00.000Z", error: { message: "server went down" } });
    expect(store.get("f")!.state).toBe("finished");
    store.close();
  });

  it("forgets a deleted job", () => {
    const store = new JobStore(tempDb());
    store.save({ id: "d", name: "job-d", state: "finished", options: {}, status: status("d", "finished"), logTail: [] });
    store.delete("d");
    expect(store.get("d")).toBeUndefined();
    expect(store.list()).toEqual([]);
    store.close();
  });

  it("keeps a job's metrics history across a reopen, replaced by each save, and forgets it with the job", () => {
    const file = tempDb();
    const store = new JobStore(file);
    store.save({ id: "h", name: "job-h", state: "running", options: {}, status: status("h", "running"), logTail: [] });
    const history = new MetricsHistory({ intervalMs: 10 });
    const sampled = (recordsOut: number) => ({ ...status("h", "running"), operators: [{ name: "map", kind: "map", parallelism: 1, recordsIn: 0, recordsOut, errors: 0 }] });
    history.sample(sampled(0), 1000);
    store.saveHistory("h", history.toJSON());
    history.sample(sampled(50), 1010);
    store.saveHistory("h", history.toJSON());
    store.close();

    const reopened = new JobStore(file);
    expect(reopened.history("h")).toEqual(history.toJSON());
    expect(reopened.history("h")!.operators[0]!.recordsOutPerSecond).toEqual([null, 5000]);
    // Listing and reading jobs leave the history out (it is served on its own route).
    expect(Object.keys(reopened.get("h")!)).not.toContain("history");
    reopened.delete("h");
    expect(reopened.history("h")).toBeUndefined();
    reopened.close();
    const again = new JobStore(file);
    expect(again.history("h")).toBeUndefined();
    again.close();
  });
});
