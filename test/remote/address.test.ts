/** Remote mode - SAGE_ADDRESS names the JobManager of a RemoteEnvironment; explicit options win. */
import { afterEach, describe, expect, it } from "vitest";
import { PipelineDefinitionError, RemoteEnvironment } from "../../src/index.js";

describe("remote mode - SAGE_ADDRESS", () => {
  const before = process.env.SAGE_ADDRESS;
  afterEach(() => {
    if (before === undefined) delete process.env.SAGE_ADDRESS;
    else process.env.SAGE_ADDRESS = before;
  });

  it("is where a RemoteEnvironment submits, unless host or port are given", () => {
    delete process.env.SAGE_ADDRESS;
    expect(new RemoteEnvironment("a")).toMatchObject({ host: "127.0.0.1", port: 19001 });
    process.env.SAGE_ADDRESS = "http://10.1.2.3:4567";
    expect(new RemoteEnvironment("a")).toMatchObject({ host: "10.1.2.3", port: 4567 });
    expect(new RemoteEnvironment("a", { port: 1234 })).toMatchObject({ host: "10.1.2.3", port: 1234 });
    expect(new RemoteEnvironment("a", { host: "h", port: 1 })).toMatchObject({ host: "h", port: 1 });
    process.env.SAGE_ADDRESS = "[::1]";
    expect(new RemoteEnvironment("a")).toMatchObject({ host: "::1", port: 19001 });
  });

  it("is an error naming the variable when it is not an address", () => {
    process.env.SAGE_ADDRESS = "ftp://host:1";
    expect(() => new RemoteEnvironment("a")).toThrow(PipelineDefinitionError);
    expect(() => new RemoteEnvironment("a")).toThrow("SAGE_ADDRESS='ftp://host:1' is not a JobManager address (scheme ftp is not supported): expected http://host:port");
  });
});
