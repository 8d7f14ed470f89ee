import { describe, expect, it } from "vitest";
import { LogCursor, overlap, type LogPage } from "../../src/cli/log-cursor.js";

/** A fake logs endpoint: live numbering from 0, or after the end only the last `tail` lines numbered from 0. */
function endpoint(lines: string[], state: { ended: boolean; tail: number }) {
  return async (since: number): Promise<LogPage> => {
    const kept = state.ended ? lines.slice(-state.tail) : lines;
    return { lines: kept.slice(since), next: kept.length };
  };
}

describe("LogCursor", () => {
  it("hands out each live line once, in order", async () => {
    const lines = ["a", "b"];
    const fetch = endpoint(lines, { ended: false, tail: 200 });
    const cursor = new LogCursor();
    expect(await cursor.read(fetch)).toEqual(["a", "b"]);
    expect(await cursor.read(fetch)).toEqual([]);
    lines.push("c", "d");
    expect(await cursor.read(fetch)).toEqual(["c", "d"]);
  });

  it("aligns with the retained tail once the job ended and the numbering restarted", async () => {
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i}`);
    const state = { ended: false, tail: 200 };
    const fetch = endpoint(lines, state);
    const cursor = new LogCursor();
    const seen = await cursor.read(fetch); // 300 lines live
    lines.push("line 300", "line 301"); // written just before the process exited
    state.ended = true;
    seen.push(...(await cursor.read(fetch)));
    expect(seen).toEqual(lines);
    expect(await cursor.read(fetch)).toEqual([]);
  });

  it("reads a short ended job's log straight through", async () => {
    const lines = ["x", "y", "z"];
    const state = { ended: false, tail: 200 };
    const cursor = new LogCursor();
    expect(await cursor.read(endpoint(lines.slice(0, 1), state))).toEqual(["x"]);
    state.ended = true;
    expect(await cursor.read(endpoint(lines, state))).toEqual(["y", "z"]);
  });

  it("overlap finds the longest suffix of what was seen that starts the page", () => {
    expect(overlap(["a", "b", "c"], ["b", "c", "d"])).toBe(2);
    expect(overlap(["a", "b"], ["c"])).toBe(0);
    expect(overlap([], ["a"])).toBe(0);
  });
});
