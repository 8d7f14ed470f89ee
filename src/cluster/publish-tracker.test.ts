import { describe, expect, it } from "vitest";
import { PublishTracker } from "./publish-tracker.js";

describe("PublishTracker", () => {
  it("knows up to which publish every PubAck has come, whatever their order", async () => {
    let advanced = 0;
    const tracker = new PublishTracker(() => advanced++);
    const [one, two, three] = [tracker.start(), tracker.start(), tracker.start()];
    let settled = false;
    void tracker.settled().then(() => (settled = true));
    tracker.finish(two);
    expect(tracker.persisted).toBe(0);
    expect(tracker.inFlight).toBe(2);
    tracker.finish(one);
    expect(tracker.persisted).toBe(2);
    await Promise.resolve();
    expect(settled).toBe(false);
    tracker.finish(three);
    await Promise.resolve();
    expect(settled).toBe(true);
    expect(tracker.inFlight).toBe(0);
    expect(advanced).toBe(2);
  });
});
