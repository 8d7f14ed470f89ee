import { describe, expect, it, vi } from "vitest";
import type { WorkCounter } from "../metrics.js";
import { OrderedWindow } from "./ordered-window.js";

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T = unknown>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

class CountingWork implements WorkCounter {
  acquired = 0;
  released = 0;
  acquire(count = 1): void {
    this.acquired += count;
  }
  release(count = 1): void {
    this.released += count;
  }
  get inFlight(): number {
    return this.acquired - this.released;
  }
}

function setup(limit: number, emit?: (out: unknown[]) => void | Promise<void>) {
  const emitted: unknown[] = [];
  const batches: unknown[][] = [];
  const work = new CountingWork();
  const fail = vi.fn();
  const window = new OrderedWindow(
    limit,
    (_record, value, out) => {
      if (value !== undefined) out.push(value);
    },
    (out) => {
      batches.push([...out]);
      emitted.push(...out);
      return emit?.(out);
    },
    work,
    fail,
  );
  return { window, emitted, batches, work, fail };
}

/** Tracks whether a void-or-promise result has settled. */
function track(result: void | Promise<void>) {
  let state: "pending" | "resolved" | "rejected" = result ? "pending" : "resolved";
  if (result) result.then(() => (state = "resolved"), () => (state = "rejected"));
  return { get state() { return state; } };
}

describe("OrderedWindow", () => {
  it("emits plain values at once, in order", () => {
    const { window, emitted, work } = setup(4);

    expect(window.add("a", 1)).toBeUndefined();
    expect(window.add("b", 2)).toBeUndefined();

    expect(emitted).toEqual([1, 2]);
    expect(window.size).toBe(0);
    expect(work.inFlight).toBe(0);
  });

  it("keeps input order when results complete out of order", async () => {
    const { window, emitted } = setup(4);
    const calls = [deferred(), deferred(), deferred()];
    calls.forEach((call, i) => window.add(i, call.promise));

    calls[2]!.resolve("c");
    await flush();
    expect(emitted).toEqual([]);

    calls[0]!.resolve("a");
    await flush();
    expect(emitted).toEqual(["a"]);

    calls[1]!.resolve("b");
    await flush();
    expect(emitted).toEqual(["a", "b", "c"]);
  });

  it("emits the ready results at the head of the window as one batch", async () => {
    const { window, batches } = setup(8);
    const calls = [deferred(), deferred(), deferred()];
    calls.forEach((call, i) => window.add(i, call.promise));

    calls[1]!.resolve(2);
    calls[2]!.resolve(3);
    await flush();
    calls[0]!.resolve(1);
    await flush();

    expect(batches).toEqual([[1, 2, 3]]);
  });

  it("queues a plain value behind a pending result", async () => {
    const { window, emitted } = setup(4);
    const slow = deferred();
    window.add("slow", slow.promise);
    window.add("fast", "fast");

    expect(emitted).toEqual([]);

    slow.resolve("slow");
    await flush();
    expect(emitted).toEqual(["slow", "fast"]);
  });

  it("asks for a wait when the window is full and frees a slot when the oldest result is emitted", async () => {
    const { window } = setup(2);
    const first = deferred();
    const second = deferred();

    expect(window.add(0, first.promise)).toBeUndefined();
    const full = track(window.add(1, second.promise));
    expect(full.state).toBe("pending");

    second.resolve("b");
    await flush();
    expect(full.state).toBe("pending");

    first.resolve("a");
    await flush();
    expect(full.state).toBe("resolved");
  });

  it.each([1, 3, 8])("keeps at most %i calls in flight when the producer honours backpressure", async (limit) => {
    const { window, emitted } = setup(limit);
    let inFlight = 0;
    let maxInFlight = 0;
    const call = async (n: number): Promise<number> => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      if (n % 2 === 0) await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return n;
    };

    for (let n = 0; n < 40; n++) {
      const wait = window.add(n, call(n));
      if (wait) await wait;
    }
    await window.drain();

    expect(maxInFlight).toBe(limit);
    expect(emitted).toEqual(Array.from({ length: 40 }, (_, n) => n));
  });

  it("stops taking results while a slow downstream holds the previous batch", async () => {
    const downstream = deferred<void>();
    const { window, emitted, work } = setup(1, () => downstream.promise);

    // "a" is emitted at once, but it occupies the window until downstream has taken it.
    const wait = track(window.add("a", "a"));
    await flush();

    expect(emitted).toEqual(["a"]);
    expect(wait.state).toBe("pending");
    expect(window.size).toBe(1);
    expect(work.inFlight).toBe(1);

    downstream.resolve();
    await flush();
    expect(wait.state).toBe("resolved");
    expect(window.size).toBe(0);
    expect(work.inFlight).toBe(0);
  });

  it("drains at once when nothing is pending", () => {
    const { window } = setup(2);

    expect(window.drain()).toBeUndefined();
  });

  it("drain waits until every added result was emitted", async () => {
    const { window, emitted } = setup(4);
    const calls = [deferred(), deferred()];
    calls.forEach((call, i) => window.add(i, call.promise));

    const drained = track(window.drain());
    calls[1]!.resolve("b");
    await flush();
    expect(drained.state).toBe("pending");

    calls[0]!.resolve("a");
    await flush();
    expect(drained.state).toBe("resolved");
    expect(emitted).toEqual(["a", "b"]);
  });

  it("fails on a rejected result: calls fail once, rejects waiters, and later add and drain throw", async () => {
    const { window, emitted, fail } = setup(2);
    const boom = new Error("boom");
    const bad = deferred();
    const good = deferred();
    window.add(0, bad.promise);
    const full = track(window.add(1, good.promise));
    const drained = track(window.drain());

    bad.reject(boom);
    good.resolve("late");
    await flush();

    expect(fail).toHaveBeenCalledTimes(1);
    expect(fail).toHaveBeenCalledWith(boom);
    expect(full.state).toBe("rejected");
    expect(drained.state).toBe("rejected");
    expect(emitted).toEqual([]);
    expect(() => window.add(2, 2)).toThrow(boom);
    expect(() => window.drain()).toThrow(boom);
  });

  it("fails when the downstream emit rejects", async () => {
    const boom = new Error("downstream");
    const { window, fail } = setup(4, () => Promise.reject(boom));

    window.add(0, 0);
    await flush();

    expect(fail).toHaveBeenCalledWith(boom);
    expect(() => window.add(1, 1)).toThrow(boom);
  });

  it("acquires work for every added result and releases it once emitted", async () => {
    const { window, work } = setup(4);
    const calls = [deferred(), deferred(), deferred()];
    calls.forEach((call, i) => window.add(i, call.promise));
    window.add(3, 3);

    expect(work.acquired).toBe(4);
    expect(work.inFlight).toBe(4);

    calls[0]!.resolve("a");
    await flush();
    expect(work.inFlight).toBe(3);

    calls[2]!.resolve("c");
    calls[1]!.resolve("b");
    await window.drain();
    expect(work).toMatchObject({ acquired: 4, released: 4 });
  });

  it("releases work for results that emit nothing", async () => {
    const { window, work, batches } = setup(4);
    const call = deferred();
    window.add("x", call.promise);
    window.add("y", undefined);

    call.resolve(undefined);
    await window.drain();

    expect(batches).toEqual([]);
    expect(work).toMatchObject({ acquired: 2, released: 2 });
  });

  it("keeps order and balance over many interleaved sync and async results", async () => {
    const { window, emitted, work } = setup(5);
    for (let n = 0; n < 200; n++) {
      const result = n % 3 === 0 ? n : new Promise((resolve) => setImmediate(resolve, n));
      const wait = window.add(n, result);
      if (wait) await wait;
    }
    await window.drain();

    expect(emitted).toEqual(Array.from({ length: 200 }, (_, n) => n));
    expect(work.inFlight).toBe(0);
  });
});
