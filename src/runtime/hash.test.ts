import { describe, expect, it } from "vitest";
import { UnhashableKeyError, partitionOf, stableHash } from "./hash.js";

describe("stableHash", () => {
  // Pinned values: a change here moves keyed records to other instances across versions and workers.
  it.each<[unknown, number]>([
    [0, 0x0],
    [1, 0x514e28b7],
    [-1, 0x81f16f39],
    [42, 0x087fcd5c],
    ["", 0xab3e7c0b],
    ["a", 0x1a80b1b3],
    ["hello", 0x888d766e],
    ["user-17", 0x58a95b09],
    [true, 0x2545f491],
    [false, 0x4f6cdd1d],
    [null, 0x3c6ef372],
    [undefined, 0x1b873593],
    [1.5, 0xb91334ac],
    [2 ** 40, 0xa43697cd],
    [10n, 0x7a18c36f],
    [{ a: 1, b: 2 }, 0x53100870],
    [[1, 2], 0x84bd4ee9],
  ])("hashes %o to its pinned value", (key, expected) => {
    expect(stableHash(key)).toBe(expected);
  });

  it("returns an unsigned 32-bit integer", () => {
    for (const key of [0, -1, 2 ** 31, -(2 ** 31), Number.MAX_SAFE_INTEGER, NaN, Infinity, "x", "\u{1F600}", 12345678901234567890n, [], {}]) {
      const h = stableHash(key);
      expect(Number.isInteger(h)).toBe(true);
      expect(h).toBeGreaterThanOrEqual(0);
      expect(h).toBeLessThan(2 ** 32);
    }
  });

  it("hashes equal keys equally, including -0 and 0", () => {
    expect(stableHash(-0)).toBe(stableHash(0));
    expect(stableHash("abc")).toBe(stableHash(["a", "b", "c"].join("")));
    expect(stableHash(2 ** 40)).toBe(stableHash(2 ** 40));
  });

  it("gives each falsy key its own hash", () => {
    const hashes = [0, "", false, null, undefined].map(stableHash);

    expect(new Set(hashes).size).toBe(5);
  });

  it("tells apart keys of different types that print alike", () => {
    const hashes = [1, "1", true, 1n, [1], { 1: 1 }].map(stableHash);

    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it("hashes objects by content regardless of property order, at every depth", () => {
    expect(stableHash({ a: 1, b: { c: 2, d: [3, 4] } })).toBe(stableHash({ b: { d: [3, 4], c: 2 }, a: 1 }));
    expect(stableHash([{ x: 1, y: 2 }])).toBe(stableHash([{ y: 2, x: 1 }]));
  });

  it("keeps array order significant", () => {
    expect(stableHash([1, 2])).not.toBe(stableHash([2, 1]));
  });

  it("hashes objects holding bigints without throwing", () => {
    expect(stableHash({ id: 5n, n: 1 })).toBe(stableHash({ n: 1, id: 5n }));
  });
});

describe("partitionOf", () => {
  it.each([1, 2, 3, 7, 8, 16])("maps every falsy key to a valid partition of %i", (count) => {
    for (const key of [0, -0, "", false, null, undefined, NaN]) {
      const p = partitionOf(key, count);
      expect(Number.isInteger(p)).toBe(true);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(count);
    }
  });

  it.each<{ title: string; key: (i: number) => unknown }>([
    { title: "consecutive integers", key: (i) => i },
    { title: "strings with a counter", key: (i) => `user-${i}` },
    { title: "small objects", key: (i) => ({ id: i, kind: "doc" }) },
  ])("spreads 10,000 $title over 8 partitions within ±20%", ({ key }) => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 10_000; i++) counts[partitionOf(key(i), 8)]!++;

    for (const count of counts) {
      expect(count).toBeGreaterThanOrEqual(1250 * 0.8);
      expect(count).toBeLessThanOrEqual(1250 * 1.2);
    }
  });

  it("sends equal keys to the same partition", () => {
    for (let i = 0; i < 100; i++) {
      expect(partitionOf({ user: i, region: "eu" }, 5)).toBe(partitionOf({ region: "eu", user: i }, 5));
    }
  });
});

describe("stableHash of keys that refer to themselves", () => {
  it("throws UnhashableKeyError for a cycle, at any depth", () => {
    const direct: Record<string, unknown> = { a: 1 };
    direct.self = direct;
    const deep: Record<string, unknown> = { a: { b: [1] } };
    ((deep.a as Record<string, unknown>).b as unknown[]).push(deep);
    for (const key of [direct, deep, [direct]]) expect(() => stableHash(key)).toThrow(UnhashableKeyError);
  });

  it("hashes an object that appears twice without a cycle like its copy", () => {
    const shared = { x: 1 };
    expect(stableHash({ a: shared, b: [shared, shared] })).toBe(stableHash({ a: { x: 1 }, b: [{ x: 1 }, { x: 1 }] }));
  });
});
