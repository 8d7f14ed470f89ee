import { describe, expect, it } from "vitest";
import { formatSummary } from "./score-aggregate.js";

describe("formatSummary", () => {
  it("says when no record was scored instead of showing a mean of 0", () => {
    expect(formatSummary("f1", { count: 0, mean: 0, min: 0, max: 0, sum: 0, skipped: 0 })).toBe("f1: no records scored");
    expect(formatSummary("f1", { count: 0, mean: 0, min: 0, max: 0, sum: 0, skipped: 2 })).toBe("f1: no records scored (2 skipped)");
    expect(formatSummary("f1", { count: 2, mean: 0.5, min: 0, max: 1, sum: 1, skipped: 0 })).toBe("f1: mean 0.5000 over 2 records (min 0, max 1)");
  });
});
