import { describe, expect, it } from "vitest";
import { exactMatch, f1Score, recallScore, rougeL, tokenCount } from "./metrics.js";

describe("answer metrics", () => {
  it("exact match ignores case, punctuation and articles, and takes any reference", () => {
    expect(exactMatch("The Eiffel Tower!", "eiffel tower")).toBe(1);
    expect(exactMatch("Paris", ["London", "paris"])).toBe(1);
    expect(exactMatch("Paris, France", "Paris")).toBe(0);
  });

  it("F1 counts shared words (SQuAD style), best reference", () => {
    // predicted: paris france (2), expected: paris (1): p = 1/2, r = 1 -> 2/3
    expect(f1Score("Paris, France", "Paris")).toBeCloseTo(2 / 3, 10);
    expect(f1Score("Berlin", "Paris")).toBe(0);
    expect(f1Score("", "")).toBe(1);
    expect(f1Score("paris", ["berlin", "paris"])).toBe(1);
  });

  it("recall is the share of the reference's words found", () => {
    expect(recallScore("it is in Paris", "Paris France")).toBe(0.5);
  });

  it("ROUGE-L uses the longest common subsequence of words", () => {
    // LCS of "police killed gunman" and "police kill the gunman" (articles dropped): police, gunman = 2
    expect(rougeL("police killed the gunman", "police kill the gunman")).toBeCloseTo((2 * (2 / 3) * (2 / 3)) / (4 / 3), 10);
    expect(rougeL("a b c", "a b c")).toBe(1);
    expect(rougeL("x", "y")).toBe(0);
  });

  it("counts tokens with the o200k tokenizer", () => {
    expect(tokenCount("")).toBe(0);
    expect(tokenCount("hello world")).toBe(2);
  });
});
