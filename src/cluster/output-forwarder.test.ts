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
});
