import { describe, expect, it } from "vitest";
import { decode, encode } from "gpt-tokenizer";
import { chunkText } from "./chunk-text.js";

describe("chunkText", () => {
  it("splits by characters at word boundaries, consecutive chunks sharing whole words of the overlap", () => {
    expect(chunkText("one two three four five six", { size: 10, overlap: 4 })).toEqual(["one two", "two three", "four five", "five six"]);
    expect(chunkText("one two three four five six", { size: 10 })).toEqual(["one two", "three four", "five six"]);
  });

  it("keeps every word of the text, cuts a word longer than a chunk, and gives nothing for an empty text", () => {
    const text = "alpha beta gamma delta epsilon zeta eta theta iota kappa";
    const chunks = chunkText(text, { size: 16, overlap: 5 });
    for (const word of text.split(" ")) expect(chunks.some((c) => c.includes(word))).toBe(true);
    expect(chunks.every((c) => c.length <= 16)).toBe(true);
    expect(chunkText("abcdefghij", { size: 4 })).toEqual(["abcd", "efgh", "ij"]);
    expect(chunkText("")).toEqual([]);
  });

  it("splits by tokens exactly, with the overlap in tokens", () => {
    const text = "The quick brown fox jumps over the lazy dog near the river bank.";
    const chunks = chunkText(text, { by: "tokens", size: 5, overlap: 2 });
    const tokens = encode(text);
    expect(chunks[0]).toBe(decode(tokens.slice(0, 5)));
    expect(chunks[1]).toBe(decode(tokens.slice(3, 8)));
    expect(chunks.every((c) => encode(c).length <= 5)).toBe(true);
    expect(chunks.at(-1)!.endsWith("bank.")).toBe(true);
  });

  it("refuses sizes and overlaps that cannot work, naming the limit", () => {
    expect(() => chunkText("x", { size: 0 })).toThrow("chunkText: size must be a whole number of at least 1, not 0");
    expect(() => chunkText("x", { size: 4, overlap: 4 })).toThrow("overlap must be a whole number from 0 to size - 1 (3), not 4");
    expect(() => chunkText("x", { by: "words" as "tokens" })).toThrow("by must be 'characters' or 'tokens'");
  });

  it("never cuts a character outside the BMP (an emoji) into lone surrogates", () => {
    const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
    for (const overlap of [0, 1, 2]) {
      const chunks = chunkText("😀".repeat(10), { size: 3, overlap });
      expect(chunks.filter((c) => lone.test(c))).toEqual([]);
      if (overlap === 0) expect(chunks.join("")).toBe("😀".repeat(10));
    }
  });
});
