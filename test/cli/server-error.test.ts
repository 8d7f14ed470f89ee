import { describe, expect, it } from "vitest";
import { JobManagerError } from "../../src/api/errors.js";
import { CLIError } from "../../src/cli/cli-error.js";
import { toCLIError } from "../../src/cli/server-error.js";

describe("toCLIError", () => {
  it("keeps the server's message and code, with exit code 1", () => {
    const error = toCLIError(new JobManagerError(409, "E_AMBIGUOUS_ID", "job id prefix 'abcd' matches several jobs"), "127.0.0.1:19001");
    expect(error).toBeInstanceOf(CLIError);
    expect(error).toMatchObject({ message: "job id prefix 'abcd' matches several jobs", code: "E_AMBIGUOUS_ID", exitCode: 1 });
  });

  it("names the address nothing answers at", () => {
    const error = toCLIError(
      new JobManagerError(0, "E_UNREACHABLE", "cannot reach the JobManager at http://127.0.0.1:5: connect ECONNREFUSED 127.0.0.1:5"),
      "127.0.0.1:5",
    ) as CLIError;
    expect(error.code).toBe("E_UNREACHABLE");
    expect(error.message).toMatch(/^no JobManager answers at 127\.0\.0\.1:5 \(connect ECONNREFUSED 127\.0\.0\.1:5\); start one/);
  });

  it("passes other errors through", () => {
    const other = new Error("boom");
    expect(toCLIError(other, "x:1")).toBe(other);
  });
});
