import { describe, expect, it } from "vitest";
import type { JobHandle } from "../api/types.js";
import { formatDuration, jobHeadline, operatorLines, placementLine } from "./format.js";
import { createProgressDisplay } from "./progress.js";
import { fakeTerminal, jobStatus } from "../../test/support/job-status.js";

const status = jobStatus;

describe("sage run - progress display", () => {
  it("formats one line per operator with parallelism, counts and errors", () => {
    expect(operatorLines(status())).toEqual([
      "Source   batch                     out 1,200",
      "Embed    map×4      in 1,200       out 1,100       errors 2",
      "Save     sink       in 1,100",
    ]);
    expect(jobHeadline(status({ state: "failed", error: { message: "boom", operator: "Embed" } }))).toBe("job demo (01234567) failed in 1.5s: Embed: boom");
  });

  it.each([
    [850, "850ms"],
    [12_345, "12.3s"],
    [245_000, "4m05s"],
  ])("formats %d ms as %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("on a terminal draws a block, erases it before the program writes, and leaves a summary", () => {
    const terminal = fakeTerminal();
    const display = createProgressDisplay(terminal);
    const job = { id: "0123456789abcdef", status: async () => status() } as unknown as JobHandle;
    display.track(job, status());
    expect(terminal.text).toContain("▶ job demo (01234567) running in 1.5s");
    expect(terminal.text).toContain("Embed    map×4");
    // Output of the pipeline itself: the block is erased first (cursor up 4 lines, clear below).
    process.stdout.write("");
    expect(terminal.text).toContain("\x1b[4A\x1b[0J");
    display.close([status({ state: "finished", isRunning: false, tasks: 0, services: 0 })]);
    const withoutEscapes = terminal.text.replace(/\r?\x1b\[\d*[AJ]/g, "");
    expect(withoutEscapes.trimEnd().split("\n").slice(-4)).toEqual([
      "job demo (01234567) finished in 1.5s",
      "  Source   batch                     out 1,200",
      "  Embed    map×4      in 1,200       out 1,100       errors 2",
      "  Save     sink       in 1,100",
    ]);
  });
});

describe("placementLine", () => {
  it("says where a distributed job's remote operators and services ran, and nothing for a local job", () => {
    const local = jobStatus();
    expect(placementLine(local)).toBeUndefined();
    const distributed = {
      ...local,
      operators: [
        { name: "batch#0", kind: "batch", parallelism: 1, recordsIn: 0, recordsOut: 3, errors: 0 },
        { name: "Embed", kind: "map", parallelism: 2, recordsIn: 3, recordsOut: 3, errors: 0, workers: ["w1", "w2"] },
      ],
      serviceDetails: [{ name: "vectors", state: "stopped" as const, remote: true, calls: 3, worker: "w\u001b[31m2" }],
    };
    expect(placementLine(distributed)).toBe("remote: Embed on w1, w2; service vectors on w\\x1b[31m2");
  });
});
