import { describe, expect, it } from "vitest";
import { placeInstances } from "./placement.js";
import type { Placement, WorkerEntry } from "./protocol.js";

function worker(name: string, slots: number, used = 0): WorkerEntry {
  return { name, id: name, slots, used, hostname: "h", pid: 1, startedAt: "", beatAt: 0, beatMs: 1000, leaseMs: 5000, jobs: [], version: "0" };
}
const task = (index: number): Placement => ({ kind: "task", task: "t1", index });

describe("placeInstances", () => {
  it("spreads parallel instances over workers", () => {
    const plan = placeInstances([task(0), task(1)], [worker("a", 2), worker("b", 2)]);
    expect([...plan.values()].map((list) => list.length)).toEqual([1, 1]);
  });

  it("prefers the worker with the most free slots", () => {
    const plan = placeInstances([task(0), task(1), task(2)], [worker("a", 4, 3), worker("b", 4)]);
    expect(plan.get("b")).toHaveLength(3);
    expect(plan.has("a")).toBe(false);
  });

  it("refuses when the slots do not suffice, saying what the workers have", () => {
    expect(() => placeInstances([task(0), task(1)], [worker("a", 1)])).toThrow(/need 2 slot\(s\) but the cluster's workers have 1 free \(workers: a 0\/1 used\)/);
    expect(() => placeInstances([task(0)], [])).toThrow(/workers: none/);
  });

  it("leaves out the workers to avoid", () => {
    const plan = placeInstances([task(0)], [worker("a", 4), worker("b", 1)], new Set(["a"]));
    expect([...plan.keys()]).toEqual(["b"]);
  });
});
