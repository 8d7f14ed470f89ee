import { describe, expect, it } from "vitest";
import type { JobState, JobStatus } from "../api/types.js";
import { statusRegression } from "./status-transitions.js";
import { jobStatus } from "../../test/support/job-status.js";

const status = (state: JobState, counts: Partial<Pick<JobStatus, "tasks" | "services">> = {}): JobStatus =>
  jobStatus({ state, platform: "remote", tasks: 0, services: 0, isRunning: false, operators: [], ...counts });

describe("status transitions a job may report", () => {
  it.each<[JobState, JobState]>([
    ["created", "running"],
    ["running", "running"],
    ["running", "finishing"],
    ["finishing", "finished"],
    ["created", "failed"],
    ["running", "stopped"],
  ])("accepts %s -> %s", (from, to) => {
    expect(statusRegression(status(from), status(to))).toBeUndefined();
  });

  it.each<[JobState, JobState, RegExp]>([
    ["failed", "running", /already ended failed, it cannot become running/],
    ["finished", "failed", /already ended finished/],
    ["running", "created", /cannot go back from running to created/],
    ["finishing", "running", /cannot go back from finishing to running/],
  ])("refuses %s -> %s", (from, to, message) => {
    expect(statusRegression(status(from), status(to))).toMatch(message);
  });

  it("lets an ended job report that it released the services it kept, and nothing more", () => {
    expect(statusRegression(status("finished", { services: 2 }), status("finished", { services: 0 }))).toBeUndefined();
    expect(statusRegression(status("finished", { services: 0 }), status("finished", { services: 1 }))).toMatch(/cannot start tasks or services again/);
    expect(statusRegression(status("finished"), status("finished", { tasks: 1 }))).toMatch(/cannot start tasks or services again/);
  });
});
