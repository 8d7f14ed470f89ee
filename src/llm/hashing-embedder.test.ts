import { describe, expect, it } from "vitest";
import { HashingEmbedder } from "./hashing-embedder.js";

const cosine = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);

describe("HashingEmbedder", () => {
  it("gives unit vectors, the same for the same text, near for texts sharing words, far otherwise", () => {
    const embedder = new HashingEmbedder({ dimensions: 128 });
    const [cat, catAgain, catDown, markets] = embedder.embed(["The cat sat", "the CAT sat", "the cat sat down", "stock markets fell sharply"]);
    expect(cat).toHaveLength(128);
    expect(cosine(cat!, cat!)).toBeCloseTo(1, 10);
    expect(catAgain).toEqual(cat);
    expect(cosine(cat!, catDown!)).toBeGreaterThan(0.7);
    expect(Math.abs(cosine(cat!, markets!))).toBeLessThan(0.3);
  });

  it("gives zeros for a text without words and refuses a dimension below 2", () => {
    expect(new HashingEmbedder({ dimensions: 4 }).embedOne("  ... !")).toEqual([0, 0, 0, 0]);
    expect(() => new HashingEmbedder({ dimensions: 1 })).toThrow("dimensions must be a whole number of at least 2, not 1");
  });
});
