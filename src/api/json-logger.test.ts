/** JSON logs: one parsable object a line, split by level, fields added where a logger carries them. */
import { describe, expect, it } from "vitest";
import { createJsonLog, jsonLogger } from "./json-logger.js";
import { withFields } from "./log-fields.js";
import { parseLogFormat } from "./log-format.js";
import { createLogger } from "./logger.js";

describe("JSON logs", () => {
  it("writes one object a line: info and below to out, warnings and errors to err, printf-style messages formatted", () => {
    const out: string[] = [];
    const err: string[] = [];
    const logger = jsonLogger(createJsonLog({ name: "test", level: "debug", fields: { worker: "w1" }, target: { out: (line) => out.push(line), err: (line) => err.push(line) } }));
    logger.debug("d %d", 1);
    logger.info("two\nlines %s", "\u001b[2J");
    logger.warn("w");
    logger.error("e %j", { a: 1 });
    expect(out.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ level: 20, name: "test", worker: "w1", msg: "d 1", time: expect.any(Number) }),
      expect.objectContaining({ level: 30, msg: "two\nlines \u001b[2J" }),
    ]);
    expect(out[1]).not.toMatch(/[\n\u001b]/);
    expect(err.map((line) => JSON.parse(line))).toEqual([expect.objectContaining({ level: 40, msg: "w" }), expect.objectContaining({ level: 50, msg: 'e {"a":1}' })]);
  });

  it("adds fields to a JSON logger's lines, and leaves a text logger as it is", () => {
    const out: string[] = [];
    const logger = jsonLogger(createJsonLog({ name: "test", target: { out: (line) => out.push(line), err: () => {} } }));
    withFields(logger, { job: "j1", job_name: "qa" }).info("about the job");
    logger.info("about nothing");
    expect(out.map((line) => JSON.parse(line))).toEqual([expect.objectContaining({ job: "j1", job_name: "qa", msg: "about the job" }), expect.not.objectContaining({ job: expect.anything() })]);
    const text = createLogger("x", "silent");
    expect(withFields(text, { job: "j1" })).toBe(text);
  });

  it("takes text or json as the log format and names any other value", () => {
    expect(parseLogFormat("json")).toBe("json");
    expect(parseLogFormat("text")).toBe("text");
    expect(() => parseLogFormat("JSON")).toThrow("'JSON' is not a log format: use text or json");
  });
});
