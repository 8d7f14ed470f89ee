import { describe, expect, it } from "vitest";
import { JobManagerClient } from "../../src/index.js";

// The client loads its WebSocket library with the first event stream (a local job never needs
// it): what the stream's opening throws must fail that stream, not escape as an unhandled rejection.
describe("remote mode - a client's event stream", () => {
  // Regression (this once failed): a token the WebSocket client refuses (a newline in it) threw inside the
  // lazy load's callback, an unhandled rejection that ended the process.
  it("fails with a clear error when its socket cannot even be opened", async () => {
    const client = new JobManagerClient({ port: 9, token: "abc\ndef" });
    const events = client.events("some-job");
    await expect((async () => {
      for await (const event of events) void event;
    })()).rejects.toMatchObject({ code: "E_JOB_MANAGER", serverCode: "E_UNREACHABLE", message: expect.stringMatching(/^cannot open the event stream to http:\/\/127\.0\.0\.1:9: Invalid character in header content/) });
  });

  it("ends at once, opening nothing, when closed before its socket exists", async () => {
    const client = new JobManagerClient({ port: 9, token: "t" });
    const events = client.events("some-job");
    events.close();
    const seen: unknown[] = [];
    for await (const event of events) seen.push(event);
    expect(seen).toEqual([]);
  });
});
