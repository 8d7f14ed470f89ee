/** The log records a job host hands a worker that logs JSON: read back as written, anything else is a plain line. */
import { describe, expect, it } from "vitest";
import { hostLogLine, readHostLogLine } from "./host-log.js";

describe("host log records", () => {
  it("reads back what the host wrote, with its operator or service", () => {
    expect(readHostLogLine(hostLogLine("warn", "Greet_0", "two\nlines", { operator: "Greet" }))).toEqual({ level: "warn", name: "Greet_0", message: "two\nlines", operator: "Greet" });
    expect(readHostLogLine(hostLogLine("info", "db", "ready", { service: "db" }))).toEqual({ level: "info", name: "db", message: "ready", service: "db" });
    expect(hostLogLine("info", "job j on w", "x")).not.toContain("\n");
  });

  it("takes any other line, a malformed or mistyped record included, for a plain one", () => {
    const lines = [
      "plain text",
      '{"level":"info","name":"a","message":"not marked"}',
      '{"sageHostLog":1,"level":"info","name":"a","message":"cut off',
      '{"sageHostLog":1,"level":"fatal","name":"a","message":"m"}',
      '{"sageHostLog":1,"level":"info","name":1,"message":"m"}',
      '{"sageHostLog":1,"level":"info","name":"a","message":"m","operator":{}}',
    ];
    for (const line of lines) expect(readHostLogLine(line)).toBeUndefined();
  });
});
