import { describe, expect, it } from "vitest";
import type { JobStatus } from "../../src/api/types.js";
import { operatorLines } from "../../src/cli/format.js";
import { createJobDisplay } from "../../src/cli/job-display.js";
import { printable } from "../../src/cli/safe-text.js";
import { fakeTerminal, jobStatus, threeOperators } from "../support/job-status.js";

const longName = "EmbedDocumentsWithTheLargeModelAndStoreVectors"; // 47 characters

function status(overrides: Partial<JobStatus> = {}): JobStatus {
  return jobStatus({ platform: "remote", services: 0, operators: threeOperators(longName, 20_000, 19_500), ...overrides });
}

const terminal = fakeTerminal;

describe("sage job - live display on a narrow terminal", () => {
  it("cuts a long operator name and keeps the counts visible at 50 columns", () => {
    const out = terminal(50);
    const display = createJobDisplay(out);
    display.update(status());
    const drawn = out.text.split("\n").filter((line) => line.startsWith("  "));
    expect(drawn).toHaveLength(3);
    for (const line of drawn) expect(line.length).toBeLessThanOrEqual(49);
    const embed = drawn.find((line) => line.includes("Embed"))!;
    expect(embed).toContain("in 20,000");
    expect(embed).toContain("out 19,500");
    expect(embed).toContain("…");
    expect(drawn.find((line) => line.includes("Save"))).toContain("in 19,500");
  });

  it("leaves names whole when they fit, and cuts them at 40 columns without a width", () => {
    expect(operatorLines(status(), 120)[1]).toMatch(new RegExp(`^${longName} map×4\\s+in 20,000\\s+out 19,500$`));
    const huge = status({ operators: [{ name: "n".repeat(90), kind: "map", parallelism: 1, recordsIn: 1, recordsOut: 1, errors: 0 }] });
    expect(operatorLines(huge)[0]).toMatch(new RegExp(`^${"n".repeat(39)}… map\\s+in 1\\s+out 1$`));
  });

  it("prints operator names and job names without control characters", () => {
    const evil = status({ name: "a\nb\x1b[31m", operators: [{ name: "op\r\x9b2J", kind: "map", parallelism: 1, recordsIn: 1, recordsOut: 1, errors: 0 }] });
    const out = terminal(80);
    const display = createJobDisplay(out);
    display.update(evil);
    display.close({ ...evil, state: "finished" });
    expect(out.text).toContain("job a\\nb\\x1b[31m (01234567)");
    expect(out.text).toContain("op\\r\\u009b2J");
    expect(out.text.replace(/\r?\x1b\[\d*[AJ]/g, "")).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(printable("tab\there\x7f")).toBe("tab\\there\\x7f");
  });
});
