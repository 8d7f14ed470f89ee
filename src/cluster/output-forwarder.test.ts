import { describe, expect, it } from "vitest";
import { OutputForwarder } from "./output-forwarder.js";
import type { DriverReport } from "./protocol.js";

describe("OutputForwarder", () => {
  it("forwards lines without the worker's prefix, and bounds the bytes per second, saying how many it dropped", () => {
    const sent: DriverReport[] = [];
    const forward = new OutputForwarder((r) => sent.push(r), "w1", "[job j] ");
    forward.line("[job j] hello", "out");
    expect(sent).toEqual([{ type: "output", worker: "w1", stream: "out", line: "hello" }]);
    const big = "x".repeat(100 * 1024);
    for (let i = 0; i < 5; i++) forward.line(big, "err");
    // 256 KiB a second: two of the five 100 KiB lines pass, three are dropped.
    expect(sent.filter((r) => r.type === "output" && r.line === big)).toHaveLength(2);
  });

  // Regression (this once failed): the number of dropped lines was said only when a later line started a new
  // second, so the drops of a host's last second (a job that flooded its output, then ended) went unsaid.
  it("says how many lines it dropped when the host's output ends within the second", () => {
    const sent: DriverReport[] = [];
    const forward = new OutputForwarder((r) => sent.push(r), "w1", "[job j] ");
    const big = "x".repeat(100 * 1024);
    for (let i = 0; i < 5; i++) forward.line(big, "out");
    expect(sent).toHaveLength(2);
    forward.finish();
    expect(sent.at(-1)).toMatchObject({ type: "output", worker: "w1", stream: "err", line: expect.stringMatching(/^\[sage\] 3 line\(s\) of the job's output on worker 'w1' were not forwarded/) });
    forward.finish();
    expect(sent).toHaveLength(3);
  });
});
