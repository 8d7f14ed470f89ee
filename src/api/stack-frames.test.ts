import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { isFrameworkFrame, userFrames } from "./stack-frames.js";

describe("userFrames", () => {
  const id = "0c3b2404-1111-2222-3333-444455556666";
  const stack = [
    "Error: deliberate failure",
    "    with a second message line",
    `    at env.fromBatch.map.name (/data/jobs/${id}/test/fixtures/job-failing.ts:8:24)`,
    `    at FusedRun.push (eval at compileFactory (file:///data/jobs/${id}/job.mjs:5069:15), <anonymous>:11:29)`,
    `    at SourceTask.loop (/data/jobs/${id}/src/runtime/task.ts:142:34)`,
    "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
    "    at async <anonymous> (/home/me/project/pipeline.ts:6:1)",
  ].join("\n");

  it("keeps the user's frames in order, relative to the job directory, and counts the rest", () => {
    expect(userFrames(stack, { jobId: id })).toEqual([
      "    at env.fromBatch.map.name (test/fixtures/job-failing.ts:8:24)",
      "    at async <anonymous> (/home/me/project/pipeline.ts:6:1)",
      "    ... (3 framework frames hidden; SAGE_STACK=full shows them)",
    ]);
  });

  it("shows every frame with SAGE_STACK=full, for a report on SAGE itself", () => {
    process.env.SAGE_STACK = "full";
    try {
      const frames = userFrames(stack, { jobId: id });
      expect(frames).toHaveLength(5);
      expect(frames[2]).toBe("    at SourceTask.loop (src/runtime/task.ts:142:34)");
      expect(frames.some((line) => line.includes("hidden"))).toBe(false);
    } finally {
      delete process.env.SAGE_STACK;
    }
  });

  it("tells SAGE's own modules from a user's files of the same layout", () => {
    expect(isFrameworkFrame("x (/p/node_modules/sage/dist/runtime/task.js:1:1)")).toBe(true);
    expect(isFrameworkFrame("x (/p/src/api/environment.ts:79:17)")).toBe(true);
    expect(isFrameworkFrame("x (/p/src/api/my-own-handler.ts:1:1)")).toBe(false);
    expect(isFrameworkFrame("/p/lib/user.js:3:3")).toBe(false);
    expect(userFrames(undefined)).toEqual([]);
  });

  it("built, tells every file of SAGE's own dist/ but the dashboard, whatever the path's characters", () => {
    const dist = "/home/me/my app/node_modules/sage/dist/";
    expect(isFrameworkFrame("SourceTask.loop (file:///home/me/my%20app/node_modules/sage/dist/chunks/chunk-GQHNM4D3.js:1874:34)", dist)).toBe(true);
    expect(isFrameworkFrame("file:///home/me/my%20app/node_modules/sage/dist/index.js:355:56", dist)).toBe(true);
    expect(isFrameworkFrame("x (/home/me/my app/node_modules/sage/dist/cli/main.js:10:2)", dist)).toBe(true);
    expect(isFrameworkFrame("x (file:///home/me/my%20app/node_modules/sage/dist/dashboard/assets/index.js:1:1)", dist)).toBe(false);
    // Another project's build, and the user's own files beside SAGE's, are the user's.
    expect(isFrameworkFrame("x (file:///home/me/my%20app/dist/chunks/chunk-ABC123.js:1:1)", dist)).toBe(false);
    expect(isFrameworkFrame("userMap (file:///home/me/my%20app/fail.mjs:3:52)", dist)).toBe(false);
  });

  it("counts the `sage` command's own frames below a user's module: its bin/ and commander, awaited or not", () => {
    const bin = fileURLToPath(new URL("../../bin/sage.js", import.meta.url));
    expect(isFrameworkFrame(`async ${pathToFileURL(bin).href}:5:1`)).toBe(true);
    expect(isFrameworkFrame(`${pathToFileURL(bin).href}:5:1`)).toBe(true);
    expect(isFrameworkFrame("async Command.parseAsync (/home/me/app/node_modules/commander/lib/command.js:1122:5)")).toBe(true);
    // A user's own bin/ is the user's.
    expect(isFrameworkFrame("async file:///home/me/app/bin/run.js:5:1")).toBe(false);
  });
});
