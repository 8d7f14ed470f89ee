import { describe, expect, it } from "vitest";
import { extractiveAnswer } from "./extractive-answer.js";

const ask = (context: string, question: string) =>
  extractiveAnswer({ model: "m", messages: [{ role: "system", content: `Answer from the context.\n\nContext:\n${context}` }, { role: "user", content: question }] });

describe("extractiveAnswer", () => {
  it("answers with the context sentence sharing the most content words with the question", () => {
    const context = "[1] Cats sleep on sofas. Dogs sleep in baskets.\n[2] Birds sing at dawn.";
    expect(ask(context, "Where do dogs sleep?")).toBe("Dogs sleep in baskets.");
    expect(ask(context, "When do birds sing?")).toBe("Birds sing at dawn.");
  });

  it("prefers the longest of equally close sentences: overlapping chunks repeat sentences cut short", () => {
    expect(ask("[1] Dogs sleep in\n[2] Dogs sleep in baskets at night.", "Where do dogs sleep?")).toBe("Dogs sleep in baskets at night.");
  });

  it("does not know when no sentence shares a content word, and ignores the prompt's own lines", () => {
    expect(ask("[1] Cats sleep on sofas.", "What is the capital of Peru?")).toBe("I do not know.");
    expect(ask("", "Answer from the context?")).toBe("I do not know.");
  });
});
