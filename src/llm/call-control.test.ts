import { setTimeout as sleep } from "node:timers/promises";
import { APIUserAbortError } from "openai/core/error";
import { describe, expect, it } from "vitest";
import { CallControl, untilAborted } from "./call-control.js";

describe("CallControl", () => {
  it("tells its listeners once, keeps the reason, and ignores later aborts and listeners", () => {
    const control = new CallControl();
    const heard: string[] = [];
    const removed = () => heard.push("removed");
    control.addEventListener("abort", () => heard.push("a"));
    control.addEventListener("abort", removed);
    control.removeEventListener("abort", removed);
    const first = new APIUserAbortError({ message: "first" });
    control.abort(first);
    control.abort(new APIUserAbortError({ message: "second" }));
    control.addEventListener("abort", () => heard.push("late"));
    expect(heard).toEqual(["a"]);
    expect(control.signal.aborted).toBe(true);
    expect(control.signal.reason).toBe(first);
  });

  it("serves as the signal of Node's timers and of a shared wait", async () => {
    const control = new CallControl();
    const slept = sleep(5000, undefined, { signal: control.signal }).catch((e: Error) => e.name);
    const waited = untilAborted(new Promise(() => {}), control.signal).catch((e: Error) => e.message);
    control.abort(new APIUserAbortError({ message: "gave up" }));
    expect(await slept).toBe("AbortError");
    expect(await waited).toBe("gave up");
  });

  it("follows the caller's signal, shared by many calls without a leak warning, until released", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on("warning", onWarning);
    try {
      const caller = new AbortController();
      const controls = Array.from({ length: 100 }, () => new CallControl(caller.signal));
      controls[0]!.release();
      caller.abort();
      await new Promise((resolve) => setImmediate(resolve));
      expect(controls[0]!.aborted).toBe(false);
      expect(controls.slice(1).every((c) => c.aborted && c.reason instanceof APIUserAbortError)).toBe(true);
      expect(new CallControl(caller.signal).aborted).toBe(true); // already aborted
      expect(warnings).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
