import { describe, expect, it } from "vitest";
import { encode } from "gpt-tokenizer";
import { QAPromptor } from "./qa-promptor.js";

describe("QAPromptor", () => {
  it("puts the numbered passages in the system prompt and the question in the user message", () => {
    const messages = new QAPromptor().execute({ question: "Where do cats sleep?", contexts: ["Cats sleep on sofas.", { text: "Dogs walk." }] });
    expect(messages).toEqual([
      { role: "system", content: expect.stringContaining("Context:\n[1] Cats sleep on sofas.\n[2] Dogs walk.") },
      { role: "user", content: "Where do cats sleep?" },
    ]);
  });

  it("keeps the passages within the token budget, best first, cutting the first that does not fit", () => {
    const long = "word ".repeat(50).trim();
    const [system] = new QAPromptor({ template: "{context}", contextTokens: 10 }).execute({ question: "q", contexts: ["one two three", long, "never"] });
    const kept = system!.content.split("\n");
    expect(kept[0]).toBe("[1] one two three");
    expect(kept).toHaveLength(2);
    expect(encode(kept[1]!.slice(4)).length).toBe(10 - encode("one two three").length);
  });

  it("fills {question} in a template too, and refuses input of another shape", () => {
    const [system] = new QAPromptor({ template: "Q: {question} C: {context}" }).execute({ question: "why?", contexts: [] });
    expect(system!.content).toBe("Q: why? C: ");
    expect(() => new QAPromptor().execute({ question: 1 } as never)).toThrow("QAPromptor takes { question: string, contexts: (string | { text })[] }");
  });
});
